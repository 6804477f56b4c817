"""The kernel library: moving averages, smoothers, differences and shifts as Kernels.

Every constructor returns a :class:`~tsconv.Kernel` (``ema`` returns an exact
:class:`~tsconv.Transfer`) in the convention of :mod:`tsconv.kernel`:
``y[t] = sum_k coef[k] * x[t - k + origin]``.

Conventions, said once
----------------------
* Smoothing windows (``sma``, ``wma``, ``ema_fir``, ``gaussian``, ``triangular``, ``hann``,
  ``binomial``, ``window``, ``spencer15``, ``henderson``, ``centered_ma``, ``savgol`` with
  ``deriv=0``) are normalized: their weights sum to 1, so a constant passes unchanged.
* Causal kernels (origin 0: no look-ahead) are the default for the trading-style averages
  ``sma``, ``wma``, ``ema``, ``ema_fir``, as in ``pandas.rolling`` whose default is
  ``center=False``. The output at ``t`` uses ``x[t - n + 1 .. t]``.
* Centred kernels (origin ``(n - 1) // 2``) are the default for the symmetric smoothers
  ``gaussian``, ``triangular``, ``hann``, ``binomial``, ``window``, ``spencer15``,
  ``henderson``, ``centered_ma``, ``savgol``. ``sma``, ``wma``, ``gaussian`` and ``window``
  take ``center=`` to switch; a centred window of even length ``n`` then looks
  ``(n - 1) // 2`` samples ahead and ``n // 2`` back, exactly as
  ``pandas.rolling(n, center=True)``. The kernels that are only centred (``triangular``,
  ``hann``, ``binomial``, ``spencer15``, ``henderson``, ``savgol``) need an odd length so that
  they are symmetric about a sample; an even one is a ``ValueError`` naming the parameter.
* Differences and shifts are causal lag polynomials: ``difference(d)`` is ``(1 - B)**d``,
  ``seasonal_difference(s, D)`` is ``(1 - B**s)**D``, ``delta(k)`` is ``B**k``.

``LIBRARY`` (at the end) maps a display name to a zero-argument callable building a
representative kernel; ``tsconv kernels`` prints it.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np
import scipy.signal
import scipy.special
import scipy.stats

from tsconv._validation import as_bool as _bool
from tsconv._validation import as_int, is_real
from tsconv.kernel import Kernel, Transfer

__all__ = [
    "sma",
    "wma",
    "ema",
    "ema_fir",
    "gaussian",
    "triangular",
    "hann",
    "binomial",
    "window",
    "spencer15",
    "henderson",
    "centered_ma",
    "savgol",
    "difference",
    "seasonal_difference",
    "delta",
    "LIBRARY",
]


# ---------------------------------------------------------------------------------------
# private checks (all messages name the parameter and the value received)
# ---------------------------------------------------------------------------------------
def _odd(value: Any, name: str, minimum: int = 1) -> int:
    """A positive odd integer (``>= minimum``)."""
    n = as_int(value, name)
    if n < minimum or n % 2 == 0:
        what = "a positive odd integer" if minimum <= 1 else f"an odd integer >= {minimum}"
        raise ValueError(f"{name} must be {what}, got {n}")
    return n


def _real(value: Any, name: str) -> float:
    """A finite real number (not bool)."""
    if not is_real(value):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    v = float(value)
    if not math.isfinite(v):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return v


def _window_origin(n: int, center: bool) -> int:
    # pandas.rolling(center=True) looks (n - 1) // 2 ahead: the same origin
    return (n - 1) // 2 if center else 0


def _ema_alpha(com: Any, span: Any, halflife: Any, alpha: Any) -> float:
    """The smoothing factor from exactly one of pandas' four parametrizations."""
    given = [name for name, v in (("com", com), ("span", span), ("halflife", halflife), ("alpha", alpha)) if v is not None]
    if len(given) != 1:
        got = "none" if not given else " and ".join(given)
        raise ValueError(f"exactly one of com, span, halflife, alpha must be given, got {got}")
    # same definitions and validity ranges as pandas.core.window.ewm.get_center_of_mass
    if com is not None:
        c = _real(com, "com")
        if c < 0:
            raise ValueError(f"com must satisfy com >= 0, got {com!r}")
        return 1.0 / (1.0 + c)
    if span is not None:
        s = _real(span, "span")
        if s < 1:
            raise ValueError(f"span must satisfy span >= 1, got {span!r}")
        return 2.0 / (s + 1.0)
    if halflife is not None:
        h = _real(halflife, "halflife")
        if h <= 0:
            raise ValueError(f"halflife must satisfy halflife > 0, got {halflife!r}")
        return 1.0 - math.exp(math.log(0.5) / h)
    a = _real(alpha, "alpha")
    if not 0.0 < a <= 1.0:
        raise ValueError(f"alpha must satisfy 0 < alpha <= 1, got {alpha!r}")
    return a


# ---------------------------------------------------------------------------------------
# moving averages
# ---------------------------------------------------------------------------------------
def sma(n: int, *, center: bool = False) -> Kernel:
    """Simple moving average: ``n`` equal weights ``1/n``.

    Parameters
    ----------
    n : int
        Window length, ``>= 1``.
    center : bool, default False
        False: causal, output ``t`` averages ``x[t - n + 1 .. t]`` (origin 0, like
        ``pandas.Series.rolling(n).mean()``). True: origin ``(n - 1) // 2``, like
        ``rolling(n, center=True)`` (for even ``n`` one sample more in the past).

    Returns
    -------
    Kernel

    Raises
    ------
    TypeError
        If ``n`` is not an integer.
    ValueError
        If ``n < 1``.

    See Also
    --------
    wma, ema, centered_ma

    Notes
    -----
    ``y[t] = (1/n) sum_{j=0}^{n-1} x[t - j]`` (causal). Its gain is the Dirichlet kernel
    ``|sin(n w / 2) / (n sin(w / 2))|``, zero at the frequencies ``2 pi k / n``, which is
    why an ``n = period`` average removes a fixed seasonal pattern.

    Examples
    --------
    >>> import numpy as np
    >>> from tsconv import apply, sma
    >>> sma(4)
    Kernel([0.25, 0.25, 0.25, 0.25], origin=0)
    >>> apply(sma(3), np.array([1.0, 2.0, 3.0, 4.0, 5.0]))
    array([nan, nan,  2.,  3.,  4.])
    >>> apply(sma(3, center=True), np.array([1.0, 2.0, 3.0, 4.0, 5.0]))
    array([nan,  2.,  3.,  4., nan])
    """
    n = as_int(n, "n", minimum=1)
    center = _bool(center, "center")
    return Kernel(np.full(n, 1.0 / n), _window_origin(n, center))


def wma(n: int, *, center: bool = False) -> Kernel:
    """Weighted moving average with linearly increasing weights, the newest largest.

    Parameters
    ----------
    n : int
        Window length, ``>= 1``.
    center : bool, default False
        False: causal (origin 0). True: origin ``(n - 1) // 2`` as
        ``pandas.rolling(n, center=True)``; the weights still grow towards the newest
        sample of the window.

    Returns
    -------
    Kernel

    Raises
    ------
    TypeError
        If ``n`` is not an integer.
    ValueError
        If ``n < 1``.

    See Also
    --------
    sma, ema

    Notes
    -----
    ``y[t] = sum_{j=0}^{n-1} (n - j) x[t - j] / (n (n + 1) / 2)``: weight ``n`` on the
    newest value down to 1 on the oldest, the WMA of TA-Lib (``TA_WMA``) and of the
    usual technical-analysis texts. Its lag (centre of mass) is ``(n - 1) / 3`` samples,
    against ``(n - 1) / 2`` for ``sma(n)``.

    Examples
    --------
    >>> import numpy as np
    >>> from tsconv import apply, wma
    >>> wma(3).coef * 6               # weights 3, 2, 1 on lags 0, 1, 2
    array([3., 2., 1.])
    >>> apply(wma(3), np.array([1.0, 2.0, 4.0, 8.0]))
    array([ nan,  nan, 2.8333, 5.6667])
    """
    n = as_int(n, "n", minimum=1)
    center = _bool(center, "center")
    w = np.arange(n, 0, -1, dtype=float)  # coef[k] acts at lag k: newest first
    return Kernel(w / w.sum(), _window_origin(n, center))


def ema(
    *,
    com: float | None = None,
    span: float | None = None,
    halflife: float | None = None,
    alpha: float | None = None,
) -> Transfer:
    """Exponential moving average as an exact recursive (IIR) operator.

    Exactly one of ``com``, ``span``, ``halflife``, ``alpha`` fixes the smoothing factor,
    with pandas' definitions and validity ranges (``pandas.DataFrame.ewm``).

    Parameters
    ----------
    com : float, optional
        Centre of mass, ``com >= 0``: ``alpha = 1 / (1 + com)``.
    span : float, optional
        Span, ``span >= 1``: ``alpha = 2 / (span + 1)``.
    halflife : float, optional
        Half-life in samples, ``halflife > 0``: ``alpha = 1 - exp(log(0.5) / halflife)``.
    alpha : float, optional
        Smoothing factor, ``0 < alpha <= 1``.

    Returns
    -------
    Transfer
        ``alpha / (1 - (1 - alpha) B)``: the recursion ``y[t] = (1 - alpha) y[t-1] + alpha x[t]``.

    Raises
    ------
    ValueError
        If not exactly one parameter is given, or it is outside its range or not finite.
    TypeError
        If the parameter is not a real number.

    See Also
    --------
    ema_fir : the truncated (FIR) version, a Kernel.
    tsconv.apply : the engine that runs it (``method='recursive'``, ``scipy.signal.lfilter``).

    Notes
    -----
    Three readings of the same weights ``alpha (1 - alpha)**j``, all on finite data:

    * ``apply(ema(...), x)`` runs ``scipy.signal.lfilter`` from a zero state:
      ``y[t] = alpha sum_{j=0}^{t} (1 - alpha)**j x[t - j]``, whose weights sum to
      ``1 - (1 - alpha)**(t + 1)`` (biased towards 0 at the start). With
      ``nan_policy='propagate'`` a NaN poisons every later output.
    * ``apply(ema(...), x, nan_policy="omit")`` divides by the sum of the weights of
      the observed values: that is exactly ``pandas.Series.ewm(...).mean()`` with its
      defaults ``adjust=True, ignore_na=False``, NaN included (weights set by
      absolute position, NaN output only before the first observation).
    * pandas' ``adjust=False`` (``y[0] = x[0]``, then the recursion) is
      ``apply(ema(...), x - x[..., :1]) + x[..., :1]``: the start value is the
      steady state, and the operator has unit DC gain. (Equivalently
      ``scipy.signal.lfilter(tr.num.coef, tr.den.coef, x, zi=(1 - alpha) * x[:1])``.)

    Examples
    --------
    >>> import numpy as np
    >>> from tsconv import apply, ema
    >>> ema(alpha=0.5)
    Transfer([0.5], [1.0, -0.5])
    >>> ema(span=3) == ema(alpha=0.5) == ema(com=1) == ema(halflife=1)
    True
    >>> x = np.array([1.0, 2.0, 3.0, 4.0])
    >>> apply(ema(alpha=0.5), x)                       # zero start
    array([0.5   , 1.25  , 2.125 , 3.0625])
    >>> apply(ema(alpha=0.5), x, nan_policy="omit")    # pandas ewm(alpha=0.5).mean()
    array([1.        , 1.66666667, 2.42857143, 3.26666667])
    >>> apply(ema(alpha=0.5), x - x[0]) + x[0]         # pandas adjust=False
    array([1.   , 1.5  , 2.25 , 3.125])
    """
    a = _ema_alpha(com, span, halflife, alpha)
    return Transfer([a], [1.0, -(1.0 - a)])


def ema_fir(
    *,
    com: float | None = None,
    span: float | None = None,
    halflife: float | None = None,
    alpha: float | None = None,
    n: int,
    normalize: bool = True,
) -> Kernel:
    """Exponential moving average truncated to ``n`` taps (a causal FIR Kernel).

    Parameters
    ----------
    com, span, halflife, alpha : float, optional
        Exactly one, as for :func:`ema` (pandas' definitions and ranges).
    n : int
        Number of taps, ``>= 1`` (keyword-only, required).
    normalize : bool, default True
        True: the ``n`` weights ``alpha (1 - alpha)**j`` are rescaled to sum 1, so the
        output at ``t`` is exactly pandas ``ewm(..., adjust=True).mean()`` computed on the
        last ``n`` values ``x[t - n + 1 .. t]``. False: the raw first ``n`` terms of the
        impulse response of :func:`ema` (``ema(...).impulse_response(n)``), which sum to
        ``1 - (1 - alpha)**n``.

    Returns
    -------
    Kernel
        Causal (origin 0), lag ``j`` weighted by ``(1 - alpha)**j`` (up to scale).

    Raises
    ------
    ValueError, TypeError
        As for :func:`ema`; also for ``n < 1`` or a non-integer ``n``.

    See Also
    --------
    ema

    Notes
    -----
    The mass dropped by the truncation is ``(1 - alpha)**n``; ``n >= log(eps) / log(1 - alpha)``
    taps make it smaller than ``eps``.

    Examples
    --------
    >>> from tsconv import ema_fir
    >>> ema_fir(alpha=0.5, n=3)
    Kernel([0.5714285714285714, 0.2857142857142857, 0.14285714285714285], origin=0)
    >>> ema_fir(alpha=0.5, n=3, normalize=False)
    Kernel([0.5, 0.25, 0.125], origin=0)
    """
    a = _ema_alpha(com, span, halflife, alpha)
    n = as_int(n, "n", minimum=1)
    normalize = _bool(normalize, "normalize")
    w = a * (1.0 - a) ** np.arange(n, dtype=float)
    return Kernel(w / w.sum() if normalize else w, 0)


# ---------------------------------------------------------------------------------------
# symmetric smoothing windows
# ---------------------------------------------------------------------------------------
def gaussian(n: int, std: float, *, center: bool = True) -> Kernel:
    """Gaussian window of ``n`` taps and standard deviation ``std`` samples, normalized.

    Parameters
    ----------
    n : int
        Window length, ``>= 1``.
    std : float
        Standard deviation in samples, ``> 0``.
    center : bool, default True
        True: origin ``(n - 1) // 2`` (``rolling(n, center=True)``); False: causal, the
        window's weights over ``x[t - n + 1 .. t]`` (``rolling(n)``).

    Returns
    -------
    Kernel

    Raises
    ------
    TypeError
        If ``n`` is not an integer or ``std`` not a real number.
    ValueError
        If ``n < 1`` or ``std <= 0``.

    See Also
    --------
    window, binomial

    Notes
    -----
    ``w[k] = exp(-(k - (n - 1)/2)**2 / (2 std**2)) / sum``, i.e.
    ``scipy.signal.windows.gaussian(n, std)`` normalized: the weights
    ``pandas.Series.rolling(n, win_type="gaussian").mean(std=std)`` uses.

    Examples
    --------
    >>> from tsconv import gaussian
    >>> k = gaussian(5, 1.0)
    >>> k.origin, round(float(k.coef.sum()), 12)
    (2, 1.0)
    >>> k.coef.round(4)
    array([0.0545, 0.2442, 0.4026, 0.2442, 0.0545])
    """
    n = as_int(n, "n", minimum=1)
    s = _real(std, "std")
    if s <= 0:
        raise ValueError(f"std must be > 0, got {std!r}")
    center = _bool(center, "center")
    w = scipy.signal.windows.gaussian(n, s, sym=True)
    if not w.sum() > 0:  # an even n and a tiny std: every weight underflows to 0
        raise ValueError(f"std={std!r} is too small for n={n}: every weight of the window underflows to 0")
    return Kernel(w / w.sum(), _window_origin(n, center))


def triangular(n: int) -> Kernel:
    """Centred triangular window of odd length ``n``, normalized.

    Parameters
    ----------
    n : int
        Window length, a positive odd integer.

    Returns
    -------
    Kernel
        Origin ``(n - 1) // 2``; weights ``1, 2, ..., m, ..., 2, 1`` over ``m**2`` with
        ``m = (n + 1) // 2``.

    Raises
    ------
    TypeError
        If ``n`` is not an integer.
    ValueError
        If ``n`` is not a positive odd integer.

    See Also
    --------
    sma, window

    Notes
    -----
    ``scipy.signal.windows.triang(n)`` normalized (pandas ``win_type="triang"``); for odd
    ``n`` this is the double moving average ``(sma(m) @ sma(m)).shift(1 - m)`` (the
    "triangular moving average", centred), hence its gain ``(sin(m w/2) / (m sin(w/2)))**2 >= 0``.

    Examples
    --------
    >>> from tsconv import triangular
    >>> triangular(5).coef * 9
    array([1., 2., 3., 2., 1.])
    """
    n = _odd(n, "n")
    w = scipy.signal.windows.triang(n, sym=True)
    return Kernel(w / w.sum(), (n - 1) // 2)


def hann(n: int) -> Kernel:
    """Centred Hann (raised-cosine) window of odd length ``n``, normalized.

    Parameters
    ----------
    n : int
        Window length, a positive odd integer.

    Returns
    -------
    Kernel
        Origin ``(n - 1) // 2``.

    Raises
    ------
    TypeError
        If ``n`` is not an integer.
    ValueError
        If ``n`` is not a positive odd integer.

    See Also
    --------
    window

    Notes
    -----
    ``w[k] = 0.5 - 0.5 cos(2 pi k / (n - 1))`` normalized: ``scipy.signal.windows.hann(n)``
    (symmetric) and pandas ``win_type="hann"``. Its two end taps are zero, so it weights
    ``n - 2`` samples but, like pandas, needs ``n`` for a complete window.

    Examples
    --------
    >>> from tsconv import hann
    >>> hann(5).coef
    array([0.  , 0.25, 0.5 , 0.25, 0.  ])
    """
    n = _odd(n, "n")
    w = scipy.signal.windows.hann(n, sym=True)  # hann(1) is [1.0]
    return Kernel(w / w.sum(), (n - 1) // 2)


def binomial(n: int) -> Kernel:
    """Centred binomial window of odd length ``n``: ``C(n-1, k) / 2**(n-1)``.

    Parameters
    ----------
    n : int
        Window length, a positive odd integer.

    Returns
    -------
    Kernel
        Origin ``(n - 1) // 2``; equal to ``n - 1`` compositions of ``[1/2, 1/2]``.

    Raises
    ------
    TypeError
        If ``n`` is not an integer.
    ValueError
        If ``n`` is not a positive odd integer.

    See Also
    --------
    gaussian

    Notes
    -----
    The law of a sum of ``n - 1`` fair coin flips: a discrete Gaussian of variance
    ``(n - 1) / 4`` with an all-non-negative gain ``cos(w / 2)**(n - 1)``.

    Examples
    --------
    >>> from tsconv import binomial
    >>> binomial(5).coef * 16
    array([1., 4., 6., 4., 1.])
    """
    n = _odd(n, "n")
    if n <= 1023:
        w = scipy.special.comb(n - 1, np.arange(n), exact=False) / 2.0 ** (n - 1)
    else:  # 2**(n - 1) overflows a double from n = 1025: the binomial law's own pmf
        w = scipy.stats.binom.pmf(np.arange(n), n - 1, 0.5)
    return Kernel(w, (n - 1) // 2)


def window(name: str | tuple[Any, ...], n: int, *args: Any, center: bool = True) -> Kernel:
    """Any ``scipy.signal.windows`` window as a normalized smoothing kernel.

    Parameters
    ----------
    name : str or tuple
        A window name accepted by ``scipy.signal.get_window`` (``'hamming'``,
        ``'blackman'``, ``'kaiser'``, ...), or a tuple of the name and its parameters
        such as ``('kaiser', 8.0)``.
    n : int
        Window length, ``>= 1``.
    *args
        Window parameters after a string name: ``window('kaiser', 31, 8.0)`` is
        ``window(('kaiser', 8.0), 31)``.
    center : bool, default True
        True: origin ``(n - 1) // 2`` (``rolling(n, center=True)``); False: causal.

    Returns
    -------
    Kernel

    Raises
    ------
    TypeError
        If ``n`` is not an integer or ``name`` is neither a string nor a tuple.
    ValueError
        If ``n < 1``, the window is unknown or lacks a parameter, or it sums to 0.

    See Also
    --------
    gaussian, hann, triangular

    Notes
    -----
    ``w = scipy.signal.get_window(name, n, fftbins=False)`` (the symmetric window, the
    one ``pandas.rolling(win_type=...)`` uses), divided by ``w.sum()``.

    Examples
    --------
    >>> from tsconv import window
    >>> window("hamming", 5).coef.round(4)
    array([0.0357, 0.2411, 0.4464, 0.2411, 0.0357])
    >>> window("kaiser", 9, 8.0) == window(("kaiser", 8.0), 9)
    True
    """
    n = as_int(n, "n", minimum=1)
    center = _bool(center, "center")
    if isinstance(name, str):
        spec: Any = (name, *args) if args else name
    elif isinstance(name, tuple) and name and isinstance(name[0], str):
        if args:
            raise TypeError(f"give window parameters either in the name tuple or as *args, not both; got {name!r} and {args!r}")
        spec = name
    else:
        raise TypeError(f"name must be a window name or a (name, *params) tuple, got {name!r}")
    try:
        w = np.asarray(scipy.signal.get_window(spec, n, fftbins=False), dtype=float)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"name must be a scipy.signal.get_window window (with its parameters), got {spec!r}: {exc}") from exc
    total = float(w.sum())
    if not np.all(np.isfinite(w)) or total == 0.0 or abs(total) <= 1e-14 * float(np.abs(w).sum()):
        raise ValueError(f"window {spec!r} of length {n} cannot be normalized (weights sum to {total!r})")
    return Kernel(w / total, _window_origin(n, center))


# ---------------------------------------------------------------------------------------
# trend filters of classical and X-11 decomposition
# ---------------------------------------------------------------------------------------
_SPENCER15 = np.array([-3, -6, -5, 3, 21, 46, 67, 74, 67, 46, 21, 3, -5, -6, -3], dtype=float) / 320.0


def spencer15() -> Kernel:
    """Spencer's 15-point moving average.

    Returns
    -------
    Kernel
        ``[-3, -6, -5, 3, 21, 46, 67, 74, 67, 46, 21, 3, -5, -6, -3] / 320``, origin 7.

    See Also
    --------
    henderson

    Notes
    -----
    Spencer (1904), the classical actuarial graduation formula; Kendall & Stuart, *The
    Advanced Theory of Statistics* vol. 3 (the chapter on trend), and Brockwell & Davis, *Introduction
    to Time Series and Forecasting* (2nd ed.), sec. 1.5.2: it passes cubic polynomials
    unchanged while damping high frequencies. It is
    ``[-3, 3, 4, 3, -3] / 4 @ ma4 @ ma4 @ ma5`` (times the right constant).

    Examples
    --------
    >>> from tsconv import spencer15
    >>> k = spencer15()
    >>> (k.coef * 320).astype(int).tolist()
    [-3, -6, -5, 3, 21, 46, 67, 74, 67, 46, 21, 3, -5, -6, -3]
    >>> k.origin
    7
    """
    return Kernel(_SPENCER15, 7)


def henderson(n: int) -> Kernel:
    """Henderson's symmetric trend filter of odd length ``n`` (as in X-11 / X-13).

    Parameters
    ----------
    n : int
        Number of terms, an odd integer ``>= 3`` (5, 7, 9, 13 and 23 are the usual).

    Returns
    -------
    Kernel
        Origin ``(n - 1) // 2``; weights sum to 1 and reproduce cubics.

    Raises
    ------
    TypeError
        If ``n`` is not an integer.
    ValueError
        If ``n`` is not an odd integer >= 3.

    See Also
    --------
    spencer15

    Notes
    -----
    Henderson (1916): the weights that pass cubic polynomials and minimize the
    smoothness measure ``sum (Delta**3 w_j)**2``. Closed form (Kenny & Durbin 1982,
    JRSS A 145, eq. in the appendix; also Findley et al. 1998), with ``m = (n - 1)/2``,
    ``p = m + 2``, ``j = -m .. m``:

    ``w_j = 315 ((p-1)**2 - j**2)(p**2 - j**2)((p+1)**2 - j**2)(3 p**2 - 16 - 11 j**2)
    / (8 p (p**2 - 1)(4 p**2 - 1)(4 p**2 - 9)(4 p**2 - 25))``.

    Printed 3-decimal tables (e.g. ABS 2003, *A Guide to Interpreting Time Series*) round
    so that the printed weights sum to 1, so a last digit may differ by one from the
    exact values (H13: ``0.06549`` is printed ``0.066``).

    Examples
    --------
    >>> from tsconv import henderson
    >>> henderson(13).coef[:7].round(3)
    array([-0.019, -0.028,  0.   ,  0.065,  0.147,  0.214,  0.24 ])
    """
    n = _odd(n, "n", minimum=3)
    m = (n - 1) // 2
    p = float(m + 2)
    j = np.arange(-m, m + 1, dtype=float)
    num = 315.0 * ((p - 1) ** 2 - j**2) * (p**2 - j**2) * ((p + 1) ** 2 - j**2) * (3 * p**2 - 16 - 11 * j**2)
    den = 8.0 * p * (p**2 - 1) * (4 * p**2 - 1) * (4 * p**2 - 9) * (4 * p**2 - 25)
    return Kernel(num / den, m)


def centered_ma(period: int) -> Kernel:
    """The centred moving average of classical decomposition (a 2 x m MA for even period).

    Parameters
    ----------
    period : int
        Seasonal period ``m >= 2``.

    Returns
    -------
    Kernel
        Even ``m``: ``[1/2, 1, ..., 1, 1/2] / m`` (``m + 1`` taps, the average of two
        ``m``-term averages one sample apart). Odd ``m``: ``m`` equal weights ``1/m``.
        Centred: origin ``m // 2`` resp. ``(m - 1) // 2``.

    Raises
    ------
    TypeError
        If ``period`` is not an integer.
    ValueError
        If ``period < 2``.

    See Also
    --------
    sma

    Notes
    -----
    Exactly the trend filter of ``statsmodels.tsa.seasonal.seasonal_decompose``
    (``model='additive'``, ``two_sided=True``); Hyndman & Athanasopoulos, *Forecasting:
    Principles and Practice*, sec. 3.3 ("2 x m-MA"). Its gain is zero at every seasonal
    frequency ``2 pi k / m``.

    Examples
    --------
    >>> from tsconv import centered_ma
    >>> centered_ma(4)
    Kernel([0.125, 0.25, 0.25, 0.25, 0.125], origin=2)
    >>> centered_ma(3).origin
    1
    """
    m = as_int(period, "period", minimum=2)
    if m % 2 == 0:
        w = np.r_[0.5, np.ones(m - 1), 0.5] / m
        return Kernel(w, m // 2)
    return Kernel(np.full(m, 1.0 / m), (m - 1) // 2)


def savgol(n: int, polyorder: int, deriv: int = 0, delta: float = 1.0) -> Kernel:
    """Savitzky-Golay filter: local polynomial least squares over ``n`` centred samples.

    Parameters
    ----------
    n : int
        Window length, a positive odd integer.
    polyorder : int
        Degree of the fitted polynomial, ``0 <= polyorder < n``.
    deriv : int, default 0
        Order of the derivative returned, ``0 <= deriv <= polyorder`` (0 smooths).
    delta : float, default 1.0
        Sample spacing, ``> 0``; derivatives are per unit of ``delta``.

    Returns
    -------
    Kernel
        Origin ``(n - 1) // 2``; sum 1 for ``deriv=0``, sum 0 for derivatives.

    Raises
    ------
    TypeError
        If an integer parameter is not an integer or ``delta`` not a real number.
    ValueError
        If ``n`` is not a positive odd integer, ``polyorder`` not in ``[0, n)``,
        ``deriv`` not in ``[0, polyorder]`` or ``delta <= 0``.

    See Also
    --------
    henderson

    Notes
    -----
    ``scipy.signal.savgol_coeffs(n, polyorder, deriv, delta, use='conv')`` (Savitzky &
    Golay 1964): ``apply(savgol(...), x)`` equals ``scipy.signal.savgol_filter`` away from
    the ends (where this returns NaN and scipy extrapolates).

    Examples
    --------
    >>> from tsconv import savgol
    >>> (savgol(5, 2).coef * 35).round(6)
    array([-3., 12., 17., 12., -3.])
    >>> savgol(5, 2, deriv=1).coef * 10     # convolution order: newest sample first
    array([ 2.,  1., -0., -1., -2.])
    """
    n = _odd(n, "n")
    polyorder = as_int(polyorder, "polyorder", minimum=0)
    if polyorder >= n:
        raise ValueError(f"polyorder must be less than n ({n}), got {polyorder}")
    deriv = as_int(deriv, "deriv", minimum=0)
    if deriv > polyorder:
        raise ValueError(f"deriv must be <= polyorder ({polyorder}), got {deriv}")
    d = _real(delta, "delta")
    if d <= 0:
        raise ValueError(f"delta must be > 0, got {delta!r}")
    c = scipy.signal.savgol_coeffs(n, polyorder, deriv=deriv, delta=d, use="conv")
    return Kernel(c, (n - 1) // 2)


# ---------------------------------------------------------------------------------------
# differences and shifts
# ---------------------------------------------------------------------------------------
def difference(d: int = 1) -> Kernel:
    """The ``d``-th difference ``(1 - B)**d``.

    Parameters
    ----------
    d : int, default 1
        Order, ``>= 0`` (0 is the identity).

    Returns
    -------
    Kernel
        Causal, ``d + 1`` taps ``(-1)**k C(d, k)``.

    Raises
    ------
    TypeError
        If ``d`` is not an integer.
    ValueError
        If ``d < 0``.

    See Also
    --------
    seasonal_difference, delta

    Notes
    -----
    ``apply(difference(d), x, mode="valid")`` is ``numpy.diff(x, n=d)``; with
    ``mode="same"`` it is pandas ``x.diff()`` applied ``d`` times (NaN first ``d``).

    Examples
    --------
    >>> import numpy as np
    >>> from tsconv import apply, difference
    >>> difference(2)
    Kernel([1.0, -2.0, 1.0], origin=0)
    >>> apply(difference(), np.array([1.0, 4.0, 9.0, 16.0]))
    array([nan,  3.,  5.,  7.])
    """
    d = as_int(d, "d", minimum=0)
    k = np.arange(d + 1)
    return Kernel((-1.0) ** k * scipy.special.comb(d, k, exact=False), 0)


def seasonal_difference(period: int, D: int = 1) -> Kernel:
    """The seasonal difference ``(1 - B**period)**D``.

    Parameters
    ----------
    period : int
        Seasonal period ``s >= 1``.
    D : int, default 1
        Order, ``>= 0`` (0 is the identity).

    Returns
    -------
    Kernel
        Causal, ``s D + 1`` taps.

    Raises
    ------
    TypeError
        If ``period`` or ``D`` is not an integer.
    ValueError
        If ``period < 1`` or ``D < 0``.

    See Also
    --------
    difference

    Notes
    -----
    ``apply(seasonal_difference(s), x)`` is pandas ``x.diff(s)``; the SARIMA differencing
    operator is ``difference(d) @ seasonal_difference(s, D)``.

    Examples
    --------
    >>> import numpy as np
    >>> from tsconv import apply, seasonal_difference
    >>> seasonal_difference(4)
    Kernel([1.0, 0.0, 0.0, 0.0, -1.0], origin=0)
    >>> apply(seasonal_difference(2), np.array([1.0, 5.0, 2.0, 7.0, 4.0]))
    array([nan, nan,  1.,  2.,  2.])
    """
    s = as_int(period, "period", minimum=1)
    D = as_int(D, "D", minimum=0)
    c = np.zeros(s * D + 1)
    k = np.arange(D + 1)
    c[s * k] = (-1.0) ** k * scipy.special.comb(D, k, exact=False)
    return Kernel(c, 0)


def delta(lag: int = 0) -> Kernel:
    """The shift ``B**lag``: the identity for ``lag=0``, a delay for ``lag > 0``.

    Parameters
    ----------
    lag : int, default 0
        Delay in samples; negative values look ahead (a lead).

    Returns
    -------
    Kernel
        ``lag >= 0``: ``lag + 1`` taps, ``[0, ..., 0, 1]``, origin 0 (causal).
        ``lag < 0``: ``[1, 0, ..., 0]`` with origin ``-lag``. The zero taps make the
        window span lags ``0 .. lag``, so ``apply(delta(k), x)`` is pandas
        ``x.shift(k)`` (NaN where the shifted value is missing).

    Raises
    ------
    TypeError
        If ``lag`` is not an integer.

    See Also
    --------
    difference, tsconv.Kernel.shift

    Notes
    -----
    ``delta()`` is the unit of ``@``: ``delta() @ k == k`` for every Kernel, and
    ``delta(j) @ k == k.shift(j)``.

    Examples
    --------
    >>> import numpy as np
    >>> from tsconv import apply, delta
    >>> delta(2)
    Kernel([0.0, 0.0, 1.0], origin=0)
    >>> apply(delta(2), np.arange(5.0))
    array([nan, nan,  0.,  1.,  2.])
    >>> apply(delta(-1), np.arange(5.0))
    array([ 1.,  2.,  3.,  4., nan])
    """
    lag = as_int(lag, "lag")
    c = np.zeros(abs(lag) + 1)
    if lag >= 0:
        c[lag] = 1.0
        return Kernel(c, 0)
    c[0] = 1.0
    return Kernel(c, -lag)


# ---------------------------------------------------------------------------------------
# the catalogue printed by ``tsconv kernels`` / ``tsconv demo``
# ---------------------------------------------------------------------------------------
LIBRARY: dict[str, Callable[[], Kernel | Transfer]] = {
    "sma(12)": lambda: sma(12),
    "wma(12)": lambda: wma(12),
    "ema(span=12)": lambda: ema(span=12),
    "ema_fir(span=12, n=36)": lambda: ema_fir(span=12, n=36),
    "gaussian(13, std=3)": lambda: gaussian(13, 3.0),
    "triangular(13)": lambda: triangular(13),
    "hann(13)": lambda: hann(13),
    "binomial(13)": lambda: binomial(13),
    "window('blackman', 13)": lambda: window("blackman", 13),
    "window(('kaiser', 8), 13)": lambda: window(("kaiser", 8.0), 13),
    "spencer15()": spencer15,
    "henderson(13)": lambda: henderson(13),
    "centered_ma(12)": lambda: centered_ma(12),
    "savgol(13, 3)": lambda: savgol(13, 3),
    "savgol(13, 3, deriv=1)": lambda: savgol(13, 3, deriv=1),
    "difference(1)": lambda: difference(1),
    "seasonal_difference(12)": lambda: seasonal_difference(12),
    "delta(0)": lambda: delta(0),
}
"""Display name -> zero-argument callable giving a representative kernel of the library."""
