"""The Kernel value (a Laurent lag polynomial) and the Transfer (a ratio of two).

The convention, said once
-------------------------
``Kernel(coef, origin)`` is the lag polynomial ``h(B) = sum_k coef[k] * B**(k - origin)``;
applied to a series ``x`` it gives ``y[t] = sum_k coef[k] * x[t - k + origin]``.

* ``origin=0`` is causal and ``coef`` is exactly a statsmodels / ``scipy.signal.lfilter``
  lag polynomial with the zero lag first (an AR polynomial carries the lfilter sign,
  ``[1, -phi_1, -phi_2]``).
* a centred window of odd length ``2h + 1`` has ``origin=h`` (``pandas.rolling(center=True)``).
* composition ``a @ b`` convolves the coefficients and adds the origins: it *is*
  lag-polynomial multiplication.
* ``k.reversed()`` flips time: cross-correlation with ``k`` is convolution with it.

``Transfer(num, den)`` is the rational operator ``num(B) / den(B)`` of two causal kernels;
its impulse response is a Kernel. An ARMA model is ``Transfer(ma, ar)`` (psi weights) and
its inverse ``Transfer(ar, ma)`` (pi weights).
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np
import scipy.signal
from numpy.polynomial import Polynomial
from numpy.typing import ArrayLike, NDArray

from tsconv._validation import as_coefficients, as_float_array, as_int, as_positive_int, is_real

__all__ = ["Kernel", "Transfer"]


def _readonly(arr: NDArray[np.float64]) -> NDArray[np.float64]:
    arr.setflags(write=False)
    return arr


def _freq_grid(worN: Any) -> NDArray[np.float64]:
    """Angular frequencies in [0, pi): an int count (like ``scipy.signal.freqz``) or an array."""
    if isinstance(worN, numbers.Integral) and not isinstance(worN, bool):
        n = as_positive_int(worN, "worN")
        return np.linspace(0.0, np.pi, n, endpoint=False)
    w = as_float_array(worN, "worN", ndim=1, keep_float32=False, finite=True)
    return w


class Kernel:
    """A linear time-series operator: the lag polynomial ``sum_k coef[k] B**(k - origin)``.

    Parameters
    ----------
    coef : array_like
        Coefficients, non-empty, finite and real; stored as a read-only float64 copy.
    origin : int, default 0
        Index of the coefficient applied to ``x[t]`` itself (lag 0). ``origin=0`` is a
        causal kernel; ``origin=h`` centres a window of length ``2h + 1``.

    Notes
    -----
    Applied to ``x``: ``y[t] = sum_k coef[k] * x[t - k + origin]``, so the coefficient
    ``coef[k]`` acts at lag ``k - origin`` (positive lags look into the past). Kernels are
    immutable values: ``@`` composes (convolution of coefficients, origins add), ``+`` and
    ``-`` add operators aligned by lag, ``*`` scales by a number. This is the backshift
    (lag) operator calculus of Box, Jenkins, Reinsel & Ljung, *Time Series Analysis:
    Forecasting and Control*, 5th ed. (2015), sec. 3.1, extended to negative powers of
    ``B`` (look-ahead) so that centred smoothers are kernels too.

    See Also
    --------
    Transfer : a ratio of two kernels (an IIR filter).
    tsconv.apply : apply a kernel to data.

    Examples
    --------
    >>> from tsconv import Kernel
    >>> diff = Kernel([1.0, -1.0])            # (1 - B): the first difference
    >>> sdiff = Kernel([1.0, 0, 0, 0, -1.0])  # (1 - B^4): a seasonal difference
    >>> diff @ sdiff
    Kernel([1.0, -1.0, 0.0, 0.0, -1.0, 1.0], origin=0)
    >>> Kernel([1.0, 1.0, 1.0], origin=1).lags
    array([-1,  0,  1])
    """

    __slots__ = ("_coef", "_origin")
    __array_ufunc__ = None  # keep numpy from broadcasting over kernels: ``arr * k`` -> our __rmul__

    def __init__(self, coef: ArrayLike, origin: int = 0) -> None:
        self._coef = _readonly(as_coefficients(coef, "coef"))
        self._origin = as_int(origin, "origin")

    # -- basic data ---------------------------------------------------------------------
    @property
    def coef(self) -> NDArray[np.float64]:
        """The coefficients (read-only float64 array)."""
        return self._coef

    @property
    def origin(self) -> int:
        """Index of the lag-0 coefficient."""
        return self._origin

    @property
    def lags(self) -> NDArray[np.int64]:
        """The lag of each coefficient: ``arange(len(coef)) - origin``."""
        return np.arange(self._coef.size, dtype=np.int64) - self._origin

    @property
    def is_causal(self) -> bool:
        """True when every non-zero coefficient is at a lag >= 0 (no look-ahead)."""
        nz = np.flatnonzero(self._coef)
        return nz.size == 0 or int(nz[0]) >= self._origin

    def __len__(self) -> int:
        return int(self._coef.size)

    def trimmed(self) -> Kernel:
        """The same operator without zero coefficients at either end."""
        nz = np.flatnonzero(self._coef)
        if nz.size == 0:
            return Kernel([0.0], origin=0)
        lo, hi = int(nz[0]), int(nz[-1])
        return Kernel(self._coef[lo : hi + 1], origin=self._origin - lo)

    # -- algebra --------------------------------------------------------------------------
    def __matmul__(self, other: Any) -> Any:
        if isinstance(other, Kernel):
            return Kernel(np.convolve(self._coef, other._coef), self._origin + other._origin)
        if isinstance(other, Transfer):
            return other.__rmatmul__(self)
        return NotImplemented

    def _aligned(self, other: Kernel) -> tuple[NDArray[np.float64], NDArray[np.float64], int]:
        lo = min(-self._origin, -other._origin)
        hi = max(len(self) - 1 - self._origin, len(other) - 1 - other._origin)
        a = np.zeros(hi - lo + 1)
        b = np.zeros(hi - lo + 1)
        a[-self._origin - lo : -self._origin - lo + len(self)] = self._coef
        b[-other._origin - lo : -other._origin - lo + len(other)] = other._coef
        return a, b, -lo

    def __add__(self, other: Any) -> Kernel:
        if not isinstance(other, Kernel):
            return NotImplemented
        a, b, origin = self._aligned(other)
        return Kernel(a + b, origin)

    def __sub__(self, other: Any) -> Kernel:
        if not isinstance(other, Kernel):
            return NotImplemented
        a, b, origin = self._aligned(other)
        return Kernel(a - b, origin)

    def __neg__(self) -> Kernel:
        return Kernel(-self._coef, self._origin)

    def __pos__(self) -> Kernel:
        return self

    def __mul__(self, scalar: Any) -> Kernel:
        if isinstance(scalar, (Kernel, Transfer)):
            raise TypeError("use '@' to compose operators; '*' only scales by a number")
        if not is_real(scalar):
            return NotImplemented
        if not math.isfinite(scalar):
            raise ValueError(f"scalar must be finite, got {scalar}")
        return Kernel(self._coef * float(scalar), self._origin)

    __rmul__ = __mul__

    def __truediv__(self, scalar: Any) -> Kernel:
        if not is_real(scalar):
            return NotImplemented
        if scalar == 0 or not math.isfinite(scalar):
            raise ValueError(f"scalar must be finite and non-zero, got {scalar}")
        return Kernel(self._coef / float(scalar), self._origin)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Kernel):
            return NotImplemented
        a, b = self.trimmed(), other.trimmed()
        return a._origin == b._origin and np.array_equal(a._coef, b._coef)

    def __hash__(self) -> int:
        t = self.trimmed()
        return hash((t._origin, (t._coef + 0.0).tobytes()))  # + 0.0: -0.0 == 0.0 must hash alike

    def __repr__(self) -> str:
        return f"Kernel({self._coef.tolist()!r}, origin={self._origin})"

    # -- transformations -----------------------------------------------------------------
    def reversed(self) -> Kernel:
        """Time reversal ``h(1/B)``: lag ``l`` becomes lag ``-l``.

        Cross-correlation with ``k`` is convolution with ``k.reversed()``.
        """
        return Kernel(self._coef[::-1], len(self) - 1 - self._origin)

    def shift(self, k: int) -> Kernel:
        """Delay by ``k`` samples: the operator ``B**k @ self`` (``k < 0`` advances)."""
        k = as_int(k, "k")
        return Kernel(self._coef, self._origin - k)

    def normalized(self) -> Kernel:
        """The kernel scaled so that its coefficients sum to 1.

        Raises
        ------
        ValueError
            If the coefficients sum to zero (a difference, say): there is nothing to scale.
        """
        total = float(self._coef.sum())
        if total == 0.0 or abs(total) <= 1e-14 * float(np.abs(self._coef).sum()):
            raise ValueError(f"cannot normalize a kernel whose coefficients sum to zero, got sum {total!r}")
        return Kernel(self._coef / total, self._origin)

    def softmax(self, temperature: float = 1.0) -> Kernel:
        """The kernel as a probability density over its lags: ``exp(coef / T) / sum``.

        This is the diffusion 'propagator' reading of a kernel: non-negative weights that
        sum to 1, usable by :func:`tsconv.stochastic_apply`. Lower temperatures
        concentrate the mass on the largest coefficients.
        """
        if not is_real(temperature) or not (
            np.isfinite(temperature) and temperature > 0
        ):
            raise ValueError(f"temperature must be a finite number > 0, got {temperature!r}")
        z = self._coef / float(temperature)
        w = np.exp(z - z.max())
        return Kernel(w / w.sum(), self._origin)

    def inverse(self, n: int) -> Kernel:
        """The first ``n`` terms of the power-series inverse ``1 / h(B)``.

        For a causal MA polynomial ``theta(B)`` these are the pi weights. A kernel with
        origin ``o`` inverts to one with origin ``-o``.

        Raises
        ------
        ValueError
            If the leading coefficient ``coef[0]`` is zero (no power-series inverse).
        """
        n = as_positive_int(n, "n")
        if self._coef[0] == 0.0:
            raise ValueError(f"inverse needs a non-zero leading coefficient, got coef[0] = {self._coef[0]}")
        impulse = np.zeros(n)
        impulse[0] = 1.0
        return Kernel(scipy.signal.lfilter([1.0], self._coef, impulse), -self._origin)

    # -- analysis ------------------------------------------------------------------------
    def frequency_response(self, worN: int | ArrayLike = 512) -> tuple[NDArray[np.float64], NDArray[np.complex128]]:
        """Complex gain ``H(w) = sum_k coef[k] exp(-i w (k - origin))``.

        Parameters
        ----------
        worN : int or array_like, default 512
            Number of frequencies equally spaced in ``[0, pi)`` or the angular frequencies
            (radians per sample) themselves, as in ``scipy.signal.freqz``.

        Returns
        -------
        w : ndarray
            Angular frequencies.
        h : ndarray of complex
            The gain at each frequency.
        """
        w = _freq_grid(worN)
        _, h = scipy.signal.freqz(self._coef, worN=w)
        return w, h * np.exp(1j * w * self._origin)

    def roots(self) -> NDArray[np.complex128]:
        """Roots of the coefficient polynomial ``sum_k coef[k] z**k`` (statsmodels' convention).

        An AR polynomial is stationary and an MA polynomial invertible when every root
        lies outside the unit circle. Trailing coefficients below ``1e-14`` times the
        largest are dropped first: they only add roots beyond ``1e14`` in modulus, and
        would overflow the companion matrix.

        Examples
        --------
        >>> from tsconv import Kernel
        >>> Kernel([1.0, -0.5]).roots()
        array([2.+0.j])
        """
        c = self._coef
        big = np.flatnonzero(np.abs(c) > 1e-14 * np.abs(c).max()) if c.any() else np.zeros(1, dtype=int)
        return np.asarray(Polynomial(c[: int(big[-1]) + 1]).roots(), dtype=complex)

    # -- conversions ---------------------------------------------------------------------
    def to_polynomial(self) -> Polynomial:
        """``numpy.polynomial.Polynomial`` of the coefficients (the factor ``B**-origin`` dropped)."""
        return Polynomial(self._coef.copy())

    @classmethod
    def from_polynomial(cls, poly: Polynomial, origin: int = 0) -> Kernel:
        """Kernel from a ``numpy.polynomial.Polynomial`` in the lag operator."""
        if not isinstance(poly, Polynomial):
            raise TypeError(f"poly must be a numpy.polynomial.Polynomial, got {type(poly).__name__}")
        return cls(poly.coef, origin)

    def to_lag_polynomial(self) -> NDArray[np.float64]:
        """The statsmodels / lfilter lag polynomial (zero lag first) of a causal kernel.

        Raises
        ------
        ValueError
            If the kernel looks ahead (a non-zero coefficient at a negative lag).
        """
        if not self.is_causal:
            raise ValueError(f"only a causal kernel is a lag polynomial, got lags {self.lags.tolist()}")
        if not self._coef.any():
            return np.zeros(1)
        if self._origin <= 0:
            return np.r_[np.zeros(-self._origin), self._coef]
        return np.array(self._coef[self._origin :])

    @classmethod
    def from_lag_polynomial(cls, lagpoly: ArrayLike) -> Kernel:
        """Kernel of a statsmodels / lfilter lag polynomial (zero lag first)."""
        return cls(lagpoly, 0)

    @classmethod
    def from_ar_params(cls, params: ArrayLike) -> Kernel:
        """AR polynomial ``1 - sum_i phi_i B^i`` from statsmodels' AR parameters."""
        p = as_coefficients(params, "params") if np.size(params) else np.zeros(0)
        return cls(np.r_[1.0, -p])

    @classmethod
    def from_ma_params(cls, params: ArrayLike) -> Kernel:
        """MA polynomial ``1 + sum_i theta_i B^i`` from statsmodels' MA parameters."""
        q = as_coefficients(params, "params") if np.size(params) else np.zeros(0)
        return cls(np.r_[1.0, q])

    def plot(self, **kwargs: Any) -> Any:
        """Impulse and frequency response (needs the ``plot`` extra); see :mod:`tsconv.plot`."""
        from tsconv import plot as _plot

        return _plot.plot_kernel(self, **kwargs)


def _as_causal_coef(k: Any, name: str) -> NDArray[np.float64]:
    """The lag polynomial of a causal Kernel or coefficient array."""
    if isinstance(k, Transfer):
        raise TypeError(f"{name} must be a causal Kernel or coefficients, got a Transfer")
    kern = k if isinstance(k, Kernel) else Kernel(k)
    if not kern.is_causal:
        raise ValueError(f"{name} must be causal (no negative lags), got lags {kern.lags.tolist()}")
    return kern.to_lag_polynomial()


class Transfer:
    """The rational (IIR) operator ``num(B) / den(B)`` of two causal kernels.

    Parameters
    ----------
    num, den : Kernel or array_like
        Causal kernels (or lag polynomials, zero lag first). ``den`` must have a non-zero
        zero-lag coefficient.

    Notes
    -----
    Applying a Transfer is ``scipy.signal.lfilter(num, den, x)``: the recursion
    ``den(B) y = num(B) x`` with zero pre-sample values. The ARMA model
    ``phi(B) y = theta(B) e`` is ``Transfer(theta, phi)``; its impulse response is the
    psi (MA-infinity) weights (Box, Jenkins, Reinsel & Ljung, *Time Series Analysis*, 5th
    ed., 2015, sec. 3.4 and ch. 12 on transfer-function models).

    See Also
    --------
    Kernel : the finite (FIR) operators num and den are made of.
    tsconv.apply : applies a Transfer by recursion.

    Examples
    --------
    >>> from tsconv import Kernel, Transfer
    >>> ar1 = Transfer([1.0], [1.0, -0.5])       # 1 / (1 - 0.5 B)
    >>> ar1.impulse_response(4)
    Kernel([1.0, 0.5, 0.25, 0.125], origin=0)
    >>> ar1.is_stable
    True
    """

    __slots__ = ("_num", "_den")
    __array_ufunc__ = None

    def __init__(self, num: Kernel | ArrayLike, den: Kernel | ArrayLike) -> None:
        num_c = _as_causal_coef(num, "num")
        den_c = _as_causal_coef(den, "den")
        if den_c[0] == 0.0:
            raise ValueError(f"den must have a non-zero zero-lag coefficient, got den[0] = {den_c[0]}")
        self._num = Kernel(num_c)
        self._den = Kernel(den_c)

    @property
    def num(self) -> Kernel:
        """Numerator lag polynomial (causal Kernel)."""
        return self._num

    @property
    def den(self) -> Kernel:
        """Denominator lag polynomial (causal Kernel, non-zero lead)."""
        return self._den

    @property
    def is_causal(self) -> bool:
        """Always True: a Transfer is built from causal kernels."""
        return True

    def impulse_response(self, n: int) -> Kernel:
        """The first ``n`` coefficients of ``num(B) / den(B)`` as a causal Kernel."""
        n = as_positive_int(n, "n")
        impulse = np.zeros(n)
        impulse[0] = 1.0
        return Kernel(scipy.signal.lfilter(self._num.coef, self._den.coef, impulse))

    def inverse(self) -> Transfer:
        """``den(B) / num(B)``; needs a non-zero zero-lag numerator coefficient."""
        if self._num.coef[0] == 0.0:
            raise ValueError("cannot invert a Transfer whose numerator has a zero lead (a pure delay)")
        return Transfer(self._den, self._num)

    @property
    def poles(self) -> NDArray[np.complex128]:
        """Roots of ``den`` (in the lag operator B)."""
        return self._den.roots()

    @property
    def zeros(self) -> NDArray[np.complex128]:
        """Roots of ``num`` (in the lag operator B)."""
        return self._num.roots()

    @property
    def is_stable(self) -> bool:
        """True when every root of ``den(B)`` lies strictly outside the unit circle."""
        r = self.poles
        return bool(r.size == 0 or np.all(np.abs(r) > 1.0))

    def frequency_response(self, worN: int | ArrayLike = 512) -> tuple[NDArray[np.float64], NDArray[np.complex128]]:
        """Complex gain ``num(e^{-iw}) / den(e^{-iw})``; ``worN`` as for :meth:`Kernel.frequency_response`."""
        w = _freq_grid(worN)
        _, h = scipy.signal.freqz(self._num.coef, self._den.coef, worN=w)
        return w, h

    def __matmul__(self, other: Any) -> Transfer:
        if isinstance(other, Transfer):
            return Transfer(self._num @ other._num, self._den @ other._den)
        if isinstance(other, Kernel):
            return Transfer(self._num @ Kernel(_as_causal_coef(other, "other")), self._den)
        return NotImplemented

    def __rmatmul__(self, other: Any) -> Transfer:
        if isinstance(other, Kernel):
            return Transfer(Kernel(_as_causal_coef(other, "other")) @ self._num, self._den)
        return NotImplemented

    def __mul__(self, scalar: Any) -> Transfer:
        if not is_real(scalar):
            return NotImplemented
        return Transfer(self._num * scalar, self._den)

    __rmul__ = __mul__

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Transfer):
            return NotImplemented
        # equal as rational functions up to a common scale of num and den
        s = other._den.coef[0] / self._den.coef[0]
        return self._num * s == other._num and self._den * s == other._den

    def __hash__(self) -> int:
        # equality rescales by floats, so only scale-free features may enter the hash
        num, den = self._num.trimmed(), self._den.trimmed()
        return hash((len(num), num.origin, len(den), den.origin))

    def __repr__(self) -> str:
        return f"Transfer({self._num.coef.tolist()!r}, {self._den.coef.tolist()!r})"
