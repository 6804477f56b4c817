"""The one validation funnel: inputs become float arrays or raise a named error.

Every public function of tsconv passes its inputs through these helpers, so that a
bad value is reported with the parameter's name and what was received, and nothing
is silently coerced into a wrong answer.
"""

from __future__ import annotations

import numbers
import os
from typing import Any, Literal, NamedTuple, TypeVar, get_args, overload

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "as_float_array",
    "as_coefficients",
    "check_option",
    "is_real",
    "as_int",
    "as_positive_int",
    "as_axis",
    "as_workers",
    "check_real_dtype",
    "first_nonfinite",
    "as_lags",
    "parse_orders",
    "Orders",
]


def _describe(value: Any) -> str:
    """Short description of a received value for an error message."""
    if isinstance(value, np.ndarray):
        return f"array of shape {value.shape} and dtype {value.dtype}"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


_Option = TypeVar("_Option")


@overload
def as_float_array(
    x: ArrayLike,
    name: str = ...,
    *,
    ndim: int | tuple[int, ...] | None = ...,
    allow_empty: bool = ...,
    keep_float32: Literal[False],
    finite: bool = ...,
) -> NDArray[np.float64]: ...


@overload
def as_float_array(
    x: ArrayLike,
    name: str = ...,
    *,
    ndim: int | tuple[int, ...] | None = ...,
    allow_empty: bool = ...,
    keep_float32: bool = ...,
    finite: bool = ...,
) -> NDArray[np.floating]: ...


def as_float_array(
    x: ArrayLike,
    name: str = "x",
    *,
    ndim: int | tuple[int, ...] | None = None,
    allow_empty: bool = False,
    keep_float32: bool = True,
    finite: bool = False,
) -> NDArray[np.floating]:
    """Convert ``x`` to a real floating array, or raise a named error.

    float32 stays float32 (when ``keep_float32``), float16 becomes float32, integers
    become float64. Booleans, complex numbers, strings and objects are refused.

    Raises
    ------
    TypeError
        If ``x`` is not real numeric (complex, bool, strings, objects).
    ValueError
        If ``x`` has the wrong number of dimensions, is empty, or (with ``finite``)
        holds NaN or infinity.
    """
    if isinstance(x, (str, bytes)):
        raise TypeError(f"{name} must be a real numeric array, got {_describe(x)}")
    try:
        arr = np.asarray(x)
    except Exception as exc:  # ragged lists and the like
        raise TypeError(f"{name} must be a real numeric array, got {_describe(x)}") from exc
    check_real_dtype(arr.dtype, name)
    kind = arr.dtype.kind
    if kind == "f" and arr.dtype.itemsize <= 4 and keep_float32:
        arr = arr.astype(np.float32, copy=False)
    else:
        arr = arr.astype(np.float64, copy=False)
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else ndim
        if arr.ndim not in allowed:
            want = " or ".join(f"{d}-D" for d in allowed)
            raise ValueError(f"{name} must be {want}, got {arr.ndim}-D array of shape {arr.shape}")
    if arr.size == 0 and not allow_empty:
        raise ValueError(f"{name} must not be empty, got shape {arr.shape}")
    if finite:
        bad = first_nonfinite(arr)
        if bad is not None:
            raise ValueError(
                f"{name} must be finite, got {arr[bad]} at index {bad if arr.ndim > 1 else bad[0]}"
            )
    return arr


def check_real_dtype(dtype: Any, name: str) -> None:
    """Raise unless ``dtype`` is a real integer or floating type (not bool, not complex)."""
    kind = np.dtype(dtype).kind
    if kind == "c":
        raise TypeError(f"{name} must be real, got complex dtype {dtype}")
    if kind == "b":
        raise TypeError(f"{name} must be real numeric, got dtype bool")
    if kind not in "iuf":
        raise TypeError(f"{name} must be real numeric, got dtype {dtype}")


def first_nonfinite(arr: NDArray[np.floating]) -> tuple[int, ...] | None:
    """Index of the first NaN or infinity of ``arr`` (C order), or None."""
    mask = ~np.isfinite(arr)
    if not mask.any():
        return None
    flat = int(np.argmax(mask.ravel()))
    return tuple(int(i) for i in np.unravel_index(flat, arr.shape))


def as_coefficients(coef: ArrayLike, name: str = "coef") -> NDArray[np.float64]:
    """Kernel coefficients: a non-empty, finite, real 1-D float64 array (a copy)."""
    values: Any = [coef] if np.isscalar(coef) and not isinstance(coef, (str, bytes)) else coef
    arr = as_float_array(values, name, ndim=1, keep_float32=False, finite=True)
    return np.array(arr, dtype=np.float64, copy=True)


def check_option(value: _Option, alias: Any, name: str) -> _Option:
    """Check ``value`` against the strings of a ``Literal`` alias; the error lists them.

    Returns ``value`` itself, typed as the caller declared it (the ``Literal`` alias).
    """
    allowed = get_args(alias)
    if not isinstance(value, str) or value not in allowed:
        listed = ", ".join(repr(a) for a in allowed)
        raise ValueError(f"{name} must be one of {listed}, got {_describe(value)}")
    return value


def as_bool(value: Any, name: str) -> bool:
    """``value`` as a bool: True / False (NumPy's included) only, nothing truthy."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def is_real(value: Any) -> bool:
    """A real number, Python's or NumPy's (integers too), not a bool."""
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def as_int(value: Any, name: str, *, minimum: int | None = None) -> int:
    """An integer (Python or numpy, not bool, not float), optionally bounded below."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {_describe(value)}")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return value


def as_positive_int(value: Any, name: str) -> int:
    """An integer >= 1."""
    return as_int(value, name, minimum=1)


def as_axis(axis: Any, ndim: int, name: str = "axis") -> int:
    """Normalize ``axis`` for an array of ``ndim`` dimensions."""
    axis = as_int(axis, name)
    if not -ndim <= axis < ndim:
        raise ValueError(f"{name} must be in [{-ndim}, {ndim - 1}] for {ndim}-D input, got {axis}")
    return axis % ndim


def as_lags(spec: Any, name: str) -> tuple[int, ...]:
    """An order: an integer ``k >= 0`` (lags 1..k) or a list of distinct positive lags (sorted)."""
    if isinstance(spec, numbers.Integral) and not isinstance(spec, bool):
        return tuple(range(1, as_int(spec, name, minimum=0) + 1))
    if not isinstance(spec, (list, tuple, range, np.ndarray)) or np.ndim(spec) != 1:
        raise TypeError(f"{name} must be a non-negative integer or a list of positive lags, got {_describe(spec)}")
    lags = [as_int(v, f"{name} lags", minimum=1) for v in spec]
    if len(set(lags)) != len(lags):
        raise ValueError(f"{name} must list distinct lags, got {_describe(spec)}")
    return tuple(sorted(lags))


class Orders(NamedTuple):
    """A (seasonal) ARIMA order, parsed: the lags of each polynomial and the differences."""

    ar: tuple[int, ...]
    d: int
    ma: tuple[int, ...]
    seasonal_ar: tuple[int, ...]
    D: int
    seasonal_ma: tuple[int, ...]
    s: int

    @property
    def seasonal(self) -> bool:
        return bool(self.seasonal_ar or self.seasonal_ma or self.D)


def parse_orders(order: Any, seasonal_order: Any = (0, 0, 0, 0)) -> Orders:
    """The one parser of ``order=(p, d, q)`` and ``seasonal_order=(P, D, Q, s)``.

    ``p, q, P, Q``: an integer k (lags 1..k) or a list of distinct positive lags;
    ``d, D``: integers >= 0; ``s``: an integer >= 0, and >= 2 when there is a seasonal
    part. A wrong type raises ``TypeError``, a wrong value
    ``ValueError``, each naming the element (``order[0] (p)``, ...).

    Examples
    --------
    >>> from tsconv._validation import parse_orders
    >>> parse_orders((2, 1, [1, 4]), (1, 0, 0, 12))
    Orders(ar=(1, 2), d=1, ma=(1, 4), seasonal_ar=(1,), D=0, seasonal_ma=(), s=12)
    >>> parse_orders((1, 0, 0), (1, 0, 0, 1))
    Traceback (most recent call last):
    ...
    ValueError: a seasonal part needs a period s >= 2, got seasonal_order=(1, 0, 0, 1)
    """
    if not isinstance(order, (tuple, list)) or len(order) != 3:
        raise ValueError(f"order must be a tuple (p, d, q), got {_describe(order)}")
    if not isinstance(seasonal_order, (tuple, list)) or len(seasonal_order) != 4:
        raise ValueError(f"seasonal_order must be a tuple (P, D, Q, s), got {_describe(seasonal_order)}")
    parsed = Orders(
        as_lags(order[0], "order[0] (p)"),
        as_int(order[1], "order[1] (d)", minimum=0),
        as_lags(order[2], "order[2] (q)"),
        as_lags(seasonal_order[0], "seasonal_order[0] (P)"),
        as_int(seasonal_order[1], "seasonal_order[1] (D)", minimum=0),
        as_lags(seasonal_order[2], "seasonal_order[2] (Q)"),
        as_int(seasonal_order[3], "seasonal_order[3] (s)", minimum=0),
    )
    if parsed.seasonal and parsed.s < 2:
        raise ValueError(f"a seasonal part needs a period s >= 2, got seasonal_order={tuple(seasonal_order)!r}")
    return parsed


def as_workers(workers: Any, name: str = "workers") -> int | None:
    """``workers`` as ``scipy.fft`` reads it: None (the default), n >= 1, or -1 for every
    core (-2 for all but one, ...); the number of threads, or None."""
    if workers is None:
        return None
    if isinstance(workers, bool) or not isinstance(workers, numbers.Integral):
        raise TypeError(f"{name} must be an integer or None, got {workers!r}")
    n, cores = int(workers), os.cpu_count() or 1
    if n == 0 or n < -cores:
        raise ValueError(f"{name} must be >= 1, or -1 ... -{cores} to count back from the {cores} cores, got {n}")
    return n if n > 0 else cores + 1 + n
