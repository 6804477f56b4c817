import time, numpy as np, scipy.signal, tsconv
from concurrent.futures import ThreadPoolExecutor
from tsconv import engine
rng=np.random.default_rng(0); x=rng.standard_normal(10**7)
ema=tsconv.ema(alpha=0.1)
b,a=ema.num.coef, ema.den.coef
pool=ThreadPoolExecutor(2)
def lf_threads():
    h=x.size//2
    fs=[pool.submit(scipy.signal.lfilter,b,a,x[:h]), pool.submit(scipy.signal.lfilter,b,a,x[h:])]
    return [f.result() for f in fs]
def lf_serial_two():
    h=x.size//2
    return [scipy.signal.lfilter(b,a,x[:h]), scipy.signal.lfilter(b,a,x[h:])]
sos=np.zeros((1,6)); sos[0,:b.size]=b/a[0]; sos[0,3:3+a.size]=a/a[0]
def sos_threads():
    h=x.size//2
    fs=[pool.submit(scipy.signal.sosfilt,sos,x[:h]), pool.submit(scipy.signal.sosfilt,sos,x[h:])]
    return [f.result() for f in fs]
fns={"apply default":lambda: tsconv.apply(ema,x),"apply workers=1":lambda: tsconv.apply(ema,x,workers=1),
     "lfilter 2 threads":lf_threads,"lfilter 2 halves serial":lf_serial_two,"sosfilt 2 threads":sos_threads,
     "copy 1e7": lambda: x.copy()}
ts={k:[] for k in fns}
for r in range(9):
    for k,f in fns.items():
        t=time.perf_counter(); f(); ts[k].append(time.perf_counter()-t)
for k,v in ts.items(): print(f"{k:25s} {np.median(v)*1e3:8.1f} ms")
