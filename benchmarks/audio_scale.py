"""Catalog cost against catalog hours: build, file size, load, memory, query time, top-1.

Usage: ``python benchmarks/audio_scale.py DEST --music CACHE [--hours 1 8 32] [--queries 20] [--shards H --memory-limit MIB]``

Catalogs of the given hours are built in ``DEST`` from the decoded 8 kHz music cache
(``--music``, ``.npy`` files named ``<package>__<file>.npy``, decoded from
``<music>/../data/catalog`` when missing; only the packages listed there are catalog music). There are only about 4 h of catalog music:
larger catalogs repeat the tracks, each repeat through a different random EQ (3 peaking
bands, +-3 dB, ``tsconv.audio.degrade.random_eq``) and a gain, so the repeats are distinct
signals but near-duplicates of their source. A query clip is cut from a source track; its
answer is counted right when the top match is that track or one of its repeats.

Every build and every measurement runs in a fresh process so that its resident memory
(``/proc/self/status``: VmRSS = RssAnon + RssFile, VmHWM its peak) is its own. Each catalog
is loaded read-into-memory and mapped (``Matcher.load(mmap=True)``), then queried with
``--queries`` 3 s clips (half clean, half in white noise at -15 dB SNR). The catalogs are
saved with their search index (``Matcher.save``'s default: the build time includes making
it), so no query builds one; the first query, which reads it from the file, is reported
apart. With ``--shards H --memory-limit MIB`` a
catalog of ``H`` hours is also served by ``tsconv.dask.ShardedMatcher`` from the file on a
2-worker ``LocalCluster`` (one thread each, each worker's memory limited to ``MIB``, spilling
off: Dask pauses a worker at 80% of its limit and restarts it at 95%): each
worker maps its shard's tracks and their index from the file; the answers (tracks,
offsets, scores, probabilities of the top 3) are compared with ``Matcher.load(mmap=True)``
on one machine, and each worker's resident memory is read at the end. Temporary catalogs
are deleted at the end unless ``--keep``. There is no peer in this section: no library in the environment
holds an audio catalog (the matcher's peer, scipy's raw correlation, is in the matcher area).
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # this checkout's tsconv

SR = 8000


def _status() -> dict[str, float]:
    out = {}
    with open("/proc/self/status") as fh:
        for line in fh:
            key, _, val = line.partition(":")
            if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile"):
                out[key] = int(val.split()[0]) / 1024  # MiB
    return out


def _decode_cache(music: str) -> None:
    """Decode every catalog file of ``<music>/../data/catalog`` to ``<music>/<package>__<file>.npy`` (8 kHz
    float32) unless it is there (written to a temporary name, then renamed)."""
    from tsconv.audio.io import load

    os.makedirs(music, exist_ok=True)
    for f in sorted(glob.glob(os.path.join(music, "..", "data", "catalog", "*", "*"))):
        key = os.path.join(music, os.path.basename(os.path.dirname(f)) + "__" + os.path.basename(f) + ".npy")
        if not os.path.exists(key):
            x, _ = load(f, sr=SR)
            tmp = key + ".part.npy"
            np.save(tmp, np.asarray(x, dtype=np.float32))
            os.replace(tmp, key)


def _sources(music: str) -> list[tuple[str, str]]:
    pkgs = {os.path.basename(p) for p in glob.glob(os.path.join(music, "..", "data", "catalog", "*"))}
    files = sorted(f for f in glob.glob(os.path.join(music, "*.npy")) if os.path.basename(f).split("__")[0] in pkgs)
    if not files:
        raise SystemExit(f"no catalog music in {music}")
    return [(os.path.basename(f)[:-4], f) for f in files]


def catalog(hours: float, music: str):
    """A :class:`tsconv.audio.Matcher` of at least ``hours`` of the catalog music, repeated
    through random EQs and gains beyond the first pass (the module docstring)."""
    from tsconv.audio import Matcher
    from tsconv.audio.degrade import gain, random_eq

    src = _sources(music)
    m = Matcher(SR)
    total, copy = 0.0, 0
    while total < hours * 3600:
        for name, f in src:
            if total >= hours * 3600:
                break
            x = np.load(f).astype(np.float64)
            if copy:
                rng = np.random.default_rng(1000 * copy + len(name))
                x = gain(random_eq(x, SR, max_db=3.0, seed=rng), float(rng.uniform(-3, 3)))
            m.add(f"{name}#{copy}", x.astype(np.float32), SR)
            total += x.size / SR
        copy += 1
    return m


def build(dest: str, hours: float, music: str) -> dict[str, float]:
    t0 = time.perf_counter()
    m = catalog(hours, music)
    total = m.duration
    t_add = time.perf_counter() - t0
    t1 = time.perf_counter()
    m.save(dest)
    t_save = time.perf_counter() - t1
    return {"hours": total / 3600, "tracks": len(m), "add_s": t_add, "save_s": t_save,
            "build_s_per_hour": (t_add + t_save) / (total / 3600), "file_mb": os.path.getsize(dest) / 1e6}


def _clips(tracks: list[str], count: int, music: str) -> list[tuple[str, np.ndarray]]:
    """``count`` 3 s clips (source track, clip) of the catalog's sources; every other one in white noise at -15 dB."""
    from tsconv.audio.degrade import add_noise

    files = dict(_sources(music))
    src = [(t[:-2], files[t[:-2]]) for t in tracks if t.endswith("#0")]  # tracks of this catalog
    rng = np.random.default_rng(7)
    out = []
    for q in range(count):
        name, f = src[int(rng.integers(len(src)))]
        x = np.load(f)
        n = 3 * SR
        for _ in range(20):
            off = int(rng.integers(0, x.size - n))
            clip = x[off : off + n].astype(np.float64)
            if np.sqrt(np.mean(clip**2)) > 0.1 * np.sqrt(np.mean(x.astype(np.float64) ** 2)):
                break
        if q % 2:
            clip = add_noise(clip, -15.0, "white", seed=rng)
        out.append((name, clip))
    return out


def sharded(path: str, limit_mib: int, queries: int, music: str) -> dict[str, object]:
    """The catalog file served by a 2-worker LocalCluster (each worker limited to ``limit_mib``)
    against the same file on one machine: same answers, the workers' memory."""
    import dask
    from dask.distributed import Client, LocalCluster

    from tsconv.audio import Matcher
    from tsconv.dask import ShardedMatcher

    single = Matcher.load(path, mmap=True)
    clips = _clips(single.tracks, queries + 1, music)
    # the limit holds (Dask pauses a worker at 80% of it and restarts it at 95%); spilling is
    # off: a shard is the worker's state, not a result to write to disk
    with dask.config.set({"distributed.worker.memory.target": False, "distributed.worker.memory.spill": False}), \
            LocalCluster(n_workers=2, threads_per_worker=1, processes=True, memory_limit=f"{limit_mib}MiB",
                         dashboard_address=None) as cluster, Client(cluster) as client:
        t0 = time.perf_counter()
        sm = ShardedMatcher(path, client=client, timeout=300)  # a paused worker (over 80% of its limit) raises
        start_s = time.perf_counter() - t0
        same, right, t_sharded, t_single = 0, 0, [], []
        for q, (name, clip) in enumerate(clips):
            t = time.perf_counter()
            a = sm.match(clip, SR, top_k=3)
            dt_sharded = time.perf_counter() - t
            t = time.perf_counter()
            b = single.match(clip, SR, top_k=3)
            dt_single = time.perf_counter() - t
            if q == 0:
                continue  # the first query reads the indexes from the file
            t_sharded.append(dt_sharded)
            t_single.append(dt_single)
            same += [(r.track, r.offset_samples, r.score, r.false_alarm_probability) for r in a] == \
                [(r.track, r.offset_samples, r.score, r.false_alarm_probability) for r in b]
            right += bool(a) and a[0].track.split("#")[0] == name
        workers = client.run(_status)
        here = _status()  # this process: the scheduler, and the whole catalog indexed for one machine
        limits = client.run(lambda dask_worker: dask_worker.memory_manager.memory_limit)
        fractions = client.run(lambda: (dask.config.get("distributed.worker.memory.spill"),
                                        dask.config.get("distributed.worker.memory.pause")))
        sm.close()
    return {"limit_mib": limit_mib, "catalog_nbytes_mb": single.nbytes / 1e6, "start_s": start_s,
            "shards": [len(g) for g in sm.shards], "same": same, "queries": queries, "top1": right / queries,
            "query_s_sharded": float(np.median(t_sharded)), "query_s_single": float(np.median(t_single)),
            "workers": list(workers.values()), "one_process": here, "worker_limits_bytes": list(limits.values()),
            "worker_spill_pause": list(fractions.values())}


def measure(path: str, mmap: bool, queries: int, music: str) -> dict[str, object]:
    from tsconv.audio import Matcher

    before = _status()
    t0 = time.perf_counter()
    m = Matcher.load(path, mmap=mmap)
    load_s = time.perf_counter() - t0
    after_load = _status()
    times, right = [], []
    first = None
    for q, (name, clip) in enumerate(_clips(m.tracks, queries + 1, music)):
        t = time.perf_counter()
        res = m.match(clip, SR, top_k=1)
        dt = time.perf_counter() - t
        if q == 0:
            first = dt  # reads the index from the file (page faults)
            continue
        times.append(dt)
        right.append(bool(res) and res[0].track.split("#")[0] == name)
    return {"mmap": mmap, "load_s": load_s, "rss_before_mb": before["VmRSS"], "after_load": after_load,
            "first_query_s": first, "after_queries": _status(), "query_s_median": float(np.median(times)),
            "query_s_clean": float(np.median(times[1::2])), "query_s_noisy": float(np.median(times[0::2])),
            "top1_clean": float(np.mean(right[1::2])), "top1_noisy": float(np.mean(right[0::2])),
            "nbytes_mb": m.nbytes / 1e6}


def _child(cmd: list[str]) -> dict[str, object]:
    """Run one measurement in a fresh process; its JSON answer, or its error shown."""
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode:
        sys.stderr.write(done.stderr[-4000:])
        raise SystemExit(f"{' '.join(cmd[2:])} failed (exit {done.returncode})")
    return json.loads(done.stdout)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("dest")
    ap.add_argument("--hours", type=float, nargs="+", default=[1.0, 8.0, 32.0])
    ap.add_argument("--queries", type=int, default=20)
    ap.add_argument("--music", required=True, help="the decoded 8 kHz music cache, beside fetch_music.py's data/ folder")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--shards", type=float, default=0.0,
                    help="also serve a catalog of this many hours on a 2-worker LocalCluster (0: not)")
    ap.add_argument("--memory-limit", type=int, default=0, help="each worker's memory limit, MiB (with --shards)")
    ap.add_argument("--_build", help=argparse.SUPPRESS)
    ap.add_argument("--_measure", help=argparse.SUPPRESS)
    ap.add_argument("--_mmap", type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument("--_sharded", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args._build:
        print(json.dumps(build(args._build, args.hours[0], args.music)))
        return 0
    if args._measure:
        print(json.dumps(measure(args._measure, bool(args._mmap), args.queries, args.music)))
        return 0
    if args._sharded:
        print(json.dumps(sharded(args._sharded, args.memory_limit, args.queries, args.music)))
        return 0
    if args.shards and args.memory_limit <= 0:
        ap.error("--shards needs --memory-limit (MiB per worker)")

    from _results import Results

    _decode_cache(args.music)
    os.makedirs(args.dest, exist_ok=True)
    me = [sys.executable, os.path.abspath(__file__), args.dest, "--music", args.music, "--queries", str(args.queries)]
    rows, series = [], []
    for h in args.hours:
        path = os.path.join(args.dest, f"scale-{h:g}h.tscat")
        b = _child(me + ["--hours", str(h), "--_build", path])
        print("build", b, flush=True)
        for mm in (0, 1):
            r = _child(me + ["--_measure", path, "--_mmap", str(mm)])
            print("measure", r, flush=True)
            series.append({"build": b, **r})
            rows.append([f"{b['hours']:.1f}", "mapped" if mm else "read", f"{b['build_s_per_hour']:.0f}",
                         f"{b['file_mb']:.0f}", f"{r['load_s']:.2f}",
                         f"{r['after_load']['RssAnon']:.0f} / {r['after_load']['RssFile']:.0f}",
                         f"{r['after_queries']['RssAnon']:.0f} / {r['after_queries']['RssFile']:.0f}",
                         f"{r['after_queries']['VmHWM']:.0f}", f"{r['first_query_s']:.1f}",
                         f"{r['query_s_clean']:.2f}", f"{r['query_s_noisy']:.2f}",
                         f"{r['top1_clean']:.2f} / {r['top1_noisy']:.2f}"])
        if not args.keep:
            os.unlink(path)
    shard_rows = []
    if args.shards:
        path = os.path.join(args.dest, f"scale-{args.shards:g}h.tscat")
        if not os.path.exists(path):
            b = _child(me + ["--hours", str(args.shards), "--_build", path])
            print("build", b, flush=True)
        r = _child(me + ["--_sharded", path, "--memory-limit", str(args.memory_limit)])
        print("sharded", r, flush=True)
        series.append({"sharded": r})
        shard_rows.append([f"{args.shards:g}", f"{r['catalog_nbytes_mb']:.0f}", f"{r['one_process']['VmHWM']:.0f}",
                           f"{r['limit_mib']}",
                           " / ".join(f"{w['VmHWM']:.0f}" for w in r["workers"]),
                           " / ".join(f"{w['RssAnon']:.0f} / {w['RssFile']:.0f}" for w in r["workers"]),
                           f"{r['same']}/{r['queries']}", f"{r['top1']:.2f}",
                           f"{r['query_s_sharded']:.2f}", f"{r['query_s_single']:.2f}"])
        if not args.keep:
            os.unlink(path)
    res = Results("audio_scale", "Audio catalog: cost against catalog hours",
                  __doc__.split("\n\n", 1)[1])
    res.placeholders({args.dest: "DEST", "--music": "CACHE"})
    res.table(["hours", "load", "build s/h", "file MB", "load s", "RSS after load anon/file MiB",
               "RSS after queries anon/file MiB", "peak RSS MiB", "first query s",
               "query s clean 3 s", "query s -15 dB", "top-1 clean / -15 dB"], rows,
              f"{args.queries} queries of 3 s per row (medians); machine shared")
    if shard_rows:
        res.table(["hours", "catalog in memory MB (samples + index)", "one machine's peak RSS MiB (with the scheduler)",
                   "worker limit MiB", "workers' peak RSS MiB",
                   "workers' RSS anon / file MiB", "same answers as one machine", "top-1",
                   "query s sharded", "query s one machine"], shard_rows,
                  f"The same file on a 2-worker LocalCluster (dask.distributed, one thread each), "
                  f"each shard mapped from the file by its worker; {args.queries} queries")
    res.data("scale", series)
    res.save()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
