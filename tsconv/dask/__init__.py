"""Scale out on Dask: out-of-core series, panels of many series, sharded catalogs.

``import tsconv.dask`` (the optional ``dask`` extra: ``pip install "tsconv[dask]"``); plain
``import tsconv`` never imports Dask, and ``import tsconv.dask`` does not import the audio
stack until :class:`ShardedMatcher` is used. Every function here is a thin shell over the
in-memory one and returns the same numbers:

* :func:`apply` and :class:`Stream` (:mod:`tsconv.dask.filtering`) filter a ``dask.array``
  chunked along time with a :class:`~tsconv.Kernel` or a :class:`~tsconv.Transfer`.
* :func:`fit_arima`, :func:`forecast` and :func:`verify` (:mod:`tsconv.dask.panels`) fit,
  forecast and score every series of a long ``dask.dataframe`` (``unique_id``, ``ds``,
  ``y``), one batched :func:`tsconv.fit_arima` per partition.
* :class:`ShardedMatcher` (:mod:`tsconv.dask.audio`) searches a
  :class:`tsconv.audio.Matcher` catalog sharded across workers, through the matcher's public
  two-stage search (:meth:`~tsconv.audio.Matcher.candidates`,
  :meth:`~tsconv.audio.Matcher.score`).

Results are lazy (arrays and data frames); compute them with any Dask scheduler (threads,
processes or a ``dask.distributed`` cluster). See ``docs/scaling.md``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tsconv.dask.filtering import Stream, apply
from tsconv.dask.panels import fit_arima, forecast, verify

if TYPE_CHECKING:
    from tsconv.dask.audio import ShardedMatcher

__all__ = ["apply", "Stream", "fit_arima", "forecast", "verify", "ShardedMatcher"]


def __getattr__(name: str) -> Any:
    # the audio stack (soundfile, the matcher) is imported on first use only
    if name == "ShardedMatcher":
        from tsconv.dask.audio import ShardedMatcher

        return ShardedMatcher
    raise AttributeError(f"module 'tsconv.dask' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | {"ShardedMatcher"})
