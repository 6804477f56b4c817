"""The one validation funnel: inputs become float arrays or raise a named error.

Every public function of tsconv passes its inputs through these helpers, so that a
bad value is reported with the parameter's name and what was received, and nothing
is silently coerced into a wrong answer.
"""

from __future__ import annotations

import numbers
from typing import Any, Literal, TypeVar, get_args, overload

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "as_float_array",
    "as_coefficients",
    "check_option",
    "as_int",
    "as_positive_int",
    "as_axis",
    "check_real_dtype",
    "first_nonfinite",
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
