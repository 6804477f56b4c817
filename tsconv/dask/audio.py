"""A :class:`tsconv.audio.Matcher` catalog sharded across Dask workers: :class:`ShardedMatcher`.

The shards are ordinary matchers (:meth:`Matcher.subset` of the catalog, or of the catalog
file loaded by each worker); a query runs the matcher's two public stages on them:
:meth:`Matcher.candidates` on every shard, combined and fitted on the client
(:meth:`Candidates.combine`, :meth:`Candidates.fitted`), then :meth:`Matcher.score` on the
shards holding the chosen candidates. :meth:`ShardedMatcher.match` and
:meth:`ShardedMatcher.find_all` are :class:`Matcher`'s own, built from those two stages.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import math
import os
import uuid
from collections.abc import Callable, Iterable
from typing import Any

import dask.threaded
import numpy as np
from dask.sizeof import sizeof
from numpy.typing import ArrayLike, NDArray

from tsconv._validation import as_int
from tsconv.audio.catalog import CatalogError, read_manifest, read_music_null
from tsconv.audio.matcher import Candidates, Match, Matcher

__all__ = ["ShardedMatcher"]


@sizeof.register(Matcher)
def _sizeof_matcher(m: Matcher) -> int:
    # what Dask's scheduler weighs before moving data: the arrays, not the shell (so it
    # moves the clip to the shard, never the shard to the clip)
    return 1000 + m.nbytes


# ---------------------------------------------------------------------------------------
# Tasks run where the shards live (module functions: the workers import this module)
# ---------------------------------------------------------------------------------------
def _built(shard: Matcher) -> Matcher:
    """The shard with its search index built: a silent clip builds it and searches nothing."""
    shard.candidates(np.zeros(shard.sr), shard.sr)
    return shard


def _check_unchanged(path: str, expected: str | None) -> None:
    found = read_manifest(path).get("manifest_sha256")
    if found != expected:
        raise CatalogError(
            f"catalog {path!r} changed on disk since the ShardedMatcher was built (manifest sha256 "
            f"{str(found)[:12]}..., expected {str(expected)[:12]}...): a lost shard cannot be rebuilt from it; "
            "build a new ShardedMatcher"
        )


def _shard_from_file(path: str, names: list[str], expected: str | None) -> Matcher:
    """A shard loaded from the catalog file: Dask's recipe to rebuild it where it is lost.

    The file must still be the catalog the ShardedMatcher was built on (checked before
    and after reading it), else the shard's tracks would not be the catalog's.
    """
    _check_unchanged(path, expected)
    # mapped: the worker's memory holds its shard's index and the pages its tracks touch,
    # never the whole catalog (the file is verified by streaming it once)
    shard = Matcher.load(path, workers=1, mmap=True).subset(names)
    _check_unchanged(path, expected)
    return _built(shard)


def _candidates_on(shard: Matcher, samples: Any, sr: int, catalog_lags: int, surrogates: int,
                   exclude: tuple[str, ...] = ()) -> Candidates:
    mine = tuple(n for n in exclude if n in set(shard.tracks))
    return shard.candidates(samples, sr, catalog_lags=catalog_lags, surrogates=surrogates, exclude=mine)


def _score_on(shard: Matcher, samples: Any, sr: int, picked: Candidates) -> list[Match | None]:
    return shard.score(samples, sr, picked)


def _trace_on(shard: Matcher, samples: Any, sr: int, track: str) -> NDArray[np.float64]:
    return shard.trace(samples, sr, track)


def _search_lags_on(shard: Matcher) -> int:
    return shard.search_lags


# ---------------------------------------------------------------------------------------
# Placement
# ---------------------------------------------------------------------------------------
def _balanced_shards(lengths: list[int], n_shards: int) -> list[list[int]]:
    """Tracks split into ``n_shards`` groups of about equal total length (longest first)."""
    groups: list[list[int]] = [[] for _ in range(n_shards)]
    load = [0] * n_shards
    for i in sorted(range(len(lengths)), key=lambda i: -lengths[i]):
        g = int(np.argmin(load))
        groups[g].append(i)
        load[g] += lengths[i]
    return [sorted(g) for g in groups if g]


def _read_manifest(path: str) -> dict[str, Any]:
    """The verified manifest of a saved catalog (verified again, with the arrays, by each worker)."""
    manifest = read_manifest(path)
    tracks = manifest.get("tracks")
    if not isinstance(tracks, list) or not all(
        isinstance(t, dict) and isinstance(t.get("name"), str) and isinstance(t.get("n_samples"), int) for t in tracks
    ):
        Matcher.load(path)  # let the catalog reader say exactly what is wrong
        raise CatalogError(f"{path!r}: the manifest's track list is malformed")
    return manifest


def _resolve_client(client: Any) -> Any:
    if isinstance(client, str) and client == "threads":
        return "threads"
    from distributed import Client, default_client

    if client is None:
        try:
            return default_client()
        except ValueError:
            return "threads"
    if not isinstance(client, Client):
        raise TypeError(f"client must be a dask.distributed.Client, 'threads' or None, got {client!r}")
    return client


def _check_timeout(timeout: Any) -> float | None:
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 < timeout < math.inf:
        raise ValueError(f"timeout must be a positive number of seconds or None, got {timeout!r}")
    return float(timeout)


class ShardedMatcher(Matcher):
    """A :class:`tsconv.audio.Matcher` catalog sharded across Dask workers.

    Each shard (a group of whole tracks of about equal total duration) is loaded once on
    one worker, which builds and keeps its search index. A query runs the matcher's two
    public stages: every shard returns the :meth:`~tsconv.audio.Matcher.candidates` of its
    tracks (searched with the whole catalog's chunks of lags); the client combines them and
    fits the null distribution over the whole catalog's chunk maxima
    (:meth:`~tsconv.audio.Candidates.combine`, :meth:`~tsconv.audio.Candidates.fitted`) and
    picks the candidates; the shards holding them :meth:`~tsconv.audio.Matcher.score`
    those. ``match`` and ``find_all`` are :class:`~tsconv.audio.Matcher`'s own methods,
    built from the two stages: same tracks, offsets, scores and false-alarm probabilities
    as ``Matcher.match`` on the whole catalog.

    Parameters
    ----------
    catalog : Matcher or path-like
        An in-memory matcher (each shard, a :meth:`~tsconv.audio.Matcher.subset` of it, is
        sent to a worker once; the scheduler keeps it to rebuild the shard if its worker
        dies) or the path of a catalog saved by ``Matcher.save`` on storage every worker
        can read (each worker maps and verifies the file and keeps its shard's tracks
        mapped, so that it holds its shard's index and pages, not the catalog; a shard lost
        with its worker is rebuilt from the file).
    client : dask.distributed.Client, 'threads' or None, default None
        Where the shards live. None: the default ``distributed`` client if one is
        running, else ``'threads'`` (shards in this process, searched on Dask's local
        threaded scheduler).
    n_shards : int, optional
        Number of shards (default: the number of workers, or 2 with threads).
    timeout : float, optional
        Seconds each round of a query (the candidates, the exact scores) may wait for the
        workers before :class:`TimeoutError` is raised (default: no limit). With
        ``'threads'`` there is nothing to wait for and it is not used.

    Attributes
    ----------
    tracks : list of str
        Track names, in catalog order.
    duration : float
        Total duration of the catalog in seconds.
    shards : list of list of str
        The track names of each shard.

    Raises
    ------
    TypeError
        If ``catalog`` or ``client`` is of the wrong type.
    ValueError
        If ``n_shards`` or ``timeout`` is out of range.
    tsconv.audio.CatalogError
        If the catalog file is missing, corrupt or foreign; at query time, if a shard lost
        with its worker must be rebuilt from a file that changed on disk.
    TimeoutError
        At query time, if the workers do not answer within ``timeout``.

    See Also
    --------
    tsconv.audio.Matcher : the single-machine matcher whose answers this reproduces.

    Notes
    -----
    A query costs each shard about ``T_shard / step`` block products and inverse FFTs
    (``T_shard`` catalog samples in the shard, ``step`` about ``2^18`` samples): the work
    is proportional to the catalog's hours and divided among the workers; the network
    carries the clip, the chunk maxima (about 14,000 per catalog hour) and a few
    candidates. A worker that dies during a query is replaced by Dask: its shards are
    rebuilt from their recipe (the file, or the tracks the scheduler kept) and the
    query's tasks rerun. The speed search (``speed_range > 0``) is not sharded. The
    catalog is read-only: build it with a ``Matcher``. See ``docs/scaling.md``.

    Examples
    --------
    >>> from tsconv.audio import Matcher
    >>> from tsconv.audio._synth import synth_track
    >>> from tsconv.dask import ShardedMatcher
    >>> m = Matcher()
    >>> for i in range(3):
    ...     m.add(f"t{i}", synth_track(6.0, 8000, seed=i), 8000)
    >>> sm = ShardedMatcher(m, client="threads", n_shards=2)
    >>> clip = synth_track(6.0, 8000, seed=2)[8000:24000]
    >>> sm.match(clip, 8000)[0] == m.match(clip, 8000)[0]
    True
    """

    def __init__(self, catalog: Matcher | str | os.PathLike[str], *, client: Any = None, n_shards: int | None = None,
                 timeout: float | None = None) -> None:
        self._client = _resolve_client(client)
        self._timeout = _check_timeout(timeout)
        if isinstance(catalog, ShardedMatcher):
            raise TypeError("catalog must be a tsconv.audio.Matcher or the path of a saved catalog, got a ShardedMatcher")
        if isinstance(catalog, Matcher):
            self._path: str | None = None
            self._source: Matcher | None = catalog
            self._manifest_sha: str | None = None
            settings: dict[str, Any] = {
                "sr": catalog.sr, "whitening": catalog.whitening, "lpc_order": catalog.lpc_order,
                "max_needle": catalog.max_needle, "storage": catalog.storage, "speed_range": catalog.speed_range,
            }
            names = catalog.tracks
            lengths = catalog.track_samples
            music_null = catalog.music_null
        elif isinstance(catalog, (str, os.PathLike)):
            self._path = os.path.abspath(os.fspath(catalog))
            self._source = None
            manifest = _read_manifest(self._path)
            self._manifest_sha = manifest.get("manifest_sha256")
            settings = {k: manifest.get(k) for k in ("sr", "whitening", "lpc_order", "max_needle", "storage")}
            settings["speed_range"] = float(manifest.get("speed_range", 0.0))
            names = [str(t["name"]) for t in manifest["tracks"]]
            lengths = [int(t["n_samples"]) for t in manifest["tracks"]]
            again, music_null = read_music_null(self._path)
            if again.get("manifest_sha256") != self._manifest_sha:
                raise CatalogError(f"catalog {self._path!r} changed on disk while the ShardedMatcher was built: build a new one")
        else:
            raise TypeError(f"catalog must be a tsconv.audio.Matcher or the path of a saved catalog, got {type(catalog).__name__}")
        # the client side is a Matcher without tracks: it prepares nothing itself, runs the
        # two stages on the shards and merges their answers with Matcher's own code
        super().__init__(**settings)
        # the whole catalog's music null: applied to the combined candidates (candidates())
        self._catalog_null = music_null
        self._track_names = list(names)
        self._lengths = list(lengths)
        if n_shards is None:
            n_shards = len(self._workers()) if self._client != "threads" else 2
        n_shards = as_int(n_shards, "n_shards", minimum=1)
        self._groups = _balanced_shards(self._lengths, n_shards) if self._lengths else []
        self._owner = {self._track_names[g]: s for s, grp in enumerate(self._groups) for g in grp}
        self._shards: list[Any] = []
        self._build()
        # the whole catalog's lags: every shard searches with the catalog's chunks of lags
        self._catalog_lags = int(sum(self._map(_search_lags_on, [(s, ()) for s in range(self.n_shards)])))

    # -- placement -------------------------------------------------------------------------
    def _workers(self) -> list[str]:
        return sorted(self._client.scheduler_info(n_workers=-1)["workers"])

    def _build(self) -> None:
        names = [[self._track_names[g] for g in grp] for grp in self._groups]
        if self._client == "threads":
            source = self._source if self._source is not None else Matcher.load(self._path, workers=1, mmap=True)  # type: ignore[arg-type]
            self._shards = [_built(source.subset(group, workers=1)) for group in names]
            return
        from distributed import wait

        workers = self._workers()
        self._shards = []
        for s, group in enumerate(names):
            where = [workers[s % len(workers)]] if workers else None
            key = f"tsconv-shard-{s}-{uuid.uuid4().hex}"
            if self._path is not None:
                fut = self._client.submit(_shard_from_file, self._path, group, self._manifest_sha, key=key, workers=where,
                                          allow_other_workers=True)
            else:
                assert self._source is not None
                fut = self._client.submit(_built, self._source.subset(group, workers=1), key=key, workers=where,
                                          allow_other_workers=True)
            self._shards.append(fut)
        wait(self._shards)
        for fut in self._shards:
            if fut.status == "error":
                fut.result()  # raise the worker's error here

    def _map(self, fn: Callable[..., Any], work: list[tuple[int, tuple[Any, ...]]]) -> list[Any]:
        """``fn(shard, *args)`` for every ``(shard, args)`` of ``work``; results in order."""
        if self._client == "threads":
            # partials keep the scheduler from walking the arguments (arrays, candidates)
            dsk = {("tsconv-shard-call", i): (functools.partial(fn, self._shards[s], *args),) for i, (s, args) in enumerate(work)}
            return list(dask.threaded.get(dsk, list(dsk)))
        from distributed import wait

        futs = [self._client.submit(fn, self._shards[s], *args, pure=False) for s, args in work]
        try:
            wait(futs, timeout=self._timeout)
        except (TimeoutError, asyncio.TimeoutError):
            self._client.cancel(futs)
            raise TimeoutError(
                f"ShardedMatcher: the workers did not answer within timeout={self._timeout} s "
                f"({sum(f.status == 'finished' for f in futs)} of {len(futs)} shard tasks done; a worker may be "
                "dead or restarting, or the catalog file unreadable)"
            ) from None
        return list(self._client.gather(futs))

    # -- the catalog -------------------------------------------------------------------------
    @property
    def tracks(self) -> list[str]:
        """Track names, in catalog order."""
        return list(self._track_names)

    @property
    def track_samples(self) -> list[int]:
        """Length of every track at the working rate (samples), in catalog order."""
        return list(self._lengths)

    @property
    def duration(self) -> float:
        """Total duration of the catalog in seconds."""
        return sum(self._lengths) / self.sr

    @property
    def search_lags(self) -> int:
        """Lags the coarse pass searches over the whole catalog (see :attr:`tsconv.audio.Matcher.search_lags`)."""
        return self._catalog_lags

    @property
    def music_null(self) -> Any:
        """The whole catalog's music null (:meth:`tsconv.audio.Matcher.calibrate`), or None."""
        return self._catalog_null

    @property
    def n_shards(self) -> int:
        """Number of shards."""
        return len(self._groups)

    @property
    def shards(self) -> list[list[str]]:
        """The track names of each shard."""
        return [[self._track_names[i] for i in grp] for grp in self._groups]

    def __len__(self) -> int:
        return len(self._track_names)

    def __repr__(self) -> str:
        where = "threads" if self._client == "threads" else f"{len(self._workers())} workers"
        return f"ShardedMatcher({len(self)} tracks, {self.duration / 3600:.2f} h, {self.n_shards} shards on {where})"

    def _read_only(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError("a ShardedMatcher is read-only: add tracks to a Matcher (and save it), then shard that")

    add = add_file = add_directory = save = subset = _read_only

    # -- the two stages, on the shards -----------------------------------------------------
    def candidates(self, samples: ArrayLike, sr: int, *, catalog_lags: int | None = None,
                   surrogates: int | None = None, exclude: Iterable[str] = ()) -> Candidates:
        """Stage 1 on the shards: their candidates, combined (:meth:`tsconv.audio.Matcher.candidates`).

        With ``surrogates=None`` a small catalog's null fit gets the surrogate copies it
        needs: rounds with more copies until the combination is complete. The whole
        catalog's music null is attached (the shards hold none), unless tracks are
        excluded or ``catalog_lags`` is given (then this is not the whole catalog's search).
        """
        if isinstance(exclude, str):
            raise TypeError(f"exclude must be an iterable of track names, got the string {exclude!r}")
        left_out = tuple(dict.fromkeys(exclude))
        for name in left_out:
            if name not in self._owner:
                raise ValueError(f"exclude must hold names of this catalog's tracks, got {name!r}")
        if catalog_lags is not None:
            lags = as_int(catalog_lags, "catalog_lags", minimum=1)
        else:  # the lags of the catalog without the excluded tracks
            needle = int(round(self.max_needle * self.sr))
            lags = self._catalog_lags - sum(self._lengths[self._track_names.index(n)] + needle for n in left_out)
        k = 0 if surrogates is None else surrogates
        while True:
            parts = self._map(_candidates_on, [(s, (samples, sr, lags, k, left_out)) for s in range(self.n_shards)])
            found = Candidates.combine(parts)
            if surrogates is not None or found.complete:
                # the shards hold no music null (parts of a catalog): the whole catalog's applies
                whole = catalog_lags is None and not left_out
                return dataclasses.replace(found, music_null=self._catalog_null) if whole else found
            k = 8 if k == 0 else 2 * k  # a small catalog: more copies of the clip for its null fit

    def score(self, samples: ArrayLike, sr: int, candidates: Candidates) -> list[Match | None]:
        """Stage 2 on the shards holding the candidates (:meth:`tsconv.audio.Matcher.score`)."""
        if not isinstance(candidates, Candidates):
            raise TypeError(f"candidates must be a tsconv.audio.Candidates, got {type(candidates).__name__}")
        names = [candidates.tracks[int(g)] for g in candidates.track]
        missing = sorted({n for n in names if n not in self._owner})
        if missing:
            raise ValueError(f"candidates must be on tracks of this catalog, got tracks {missing[:5]} it does not hold")
        owner = np.array([self._owner[n] for n in names], dtype=np.int64)
        work, slots = [], []
        for s in sorted(set(owner.tolist())):
            sel = np.flatnonzero(owner == s)
            # the surrogate maxima served the fit on the client: the shards need the null only
            work.append((s, (samples, sr, dataclasses.replace(candidates.take(sel), surrogates=()))))
            slots.append(sel)
        out: list[Match | None] = [None] * len(candidates)
        for sel, part in zip(slots, self._map(_score_on, work)):
            for i, mt in zip(sel, part):
                out[int(i)] = mt
        return out

    def match(self, samples: ArrayLike, sr: int, top_k: int = 5, *, max_false_alarm: float = 0.01,
              speed_range: float | None = None, check_rate: bool = False) -> list[Match]:
        """:meth:`tsconv.audio.Matcher.match` on the shards (``speed_range`` must be 0)."""
        speed = self.speed_range if speed_range is None else speed_range
        if speed != 0.0:
            raise ValueError(
                f"speed_range={speed!r}: the speed search is not sharded; use speed_range=0.0 "
                "(or tsconv.audio.Matcher on one machine)"
            )
        return super().match(samples, sr, top_k, max_false_alarm=max_false_alarm, speed_range=0.0,
                             check_rate=check_rate)

    def trace(self, samples: ArrayLike, sr: int, track: str) -> NDArray[np.float64]:
        """:meth:`tsconv.audio.Matcher.trace`, computed on the shard holding ``track``."""
        if track not in self._owner:
            raise ValueError(f"track must be one of the catalog's tracks, got {track!r}")
        return self._map(_trace_on, [(self._owner[track], (samples, sr, track))])[0]

    def close(self) -> None:
        """Release the shards (their memory on the workers)."""
        if self._client != "threads" and self._shards:
            self._client.cancel([f for f in self._shards if f is not None])
        self._shards = []
