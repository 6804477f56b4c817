"""The on-disk format of fitted models: one ZIP file holding a JSON manifest and ``.npy`` arrays.

Format ``tsconv-model``, version 2:

- a ZIP archive with stored (uncompressed) members;
- ``manifest.json`` (UTF-8 JSON): ``format``, ``version``, ``kind`` (``"fitted"`` or
  ``"batch"``), the model's settings and, for every array member, its dtype, shape and
  SHA-256; ``manifest_sha256`` is the SHA-256 of the manifest serialised with sorted keys
  and without that field;
- each array is a ``.npy`` member readable with ``allow_pickle=False`` (object arrays are
  refused on write and on read). Nothing is ever unpickled;
- the estimates' full covariance matrix is the array ``cov``: ``(k, k)`` for a fitted model,
  ``(n_series, k, k)`` for a panel, over the parameters and ``sigma2`` (last).

Version 1 stored only the standard errors (array ``bse``, ``sigma2`` last). Version-1 files
are still read: their covariance matrix is ``diag(bse**2)`` (the off-diagonal terms were never
saved), and loading one warns (:class:`DiagonalCovarianceWarning`). Other versions are refused.

Writes are atomic (a temporary file in the target's directory, fsync'ed, then
``os.replace``). Reads check the container, format, version, checksums, dtypes and shapes
and raise :class:`ModelFileError` saying what is wrong.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import secrets
import stat
import warnings
import zipfile
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

FORMAT = "tsconv-model"
VERSION = 2
READABLE_VERSIONS = (1, 2)
_MANIFEST = "manifest.json"
_TMP_PREFIX = ".tmp-"
_TMP_SUFFIX = ".tsconv-model"


class ModelFileError(Exception):
    """A model file is missing, corrupt, truncated, foreign or of an unknown version."""


class DiagonalCovarianceWarning(UserWarning):
    """A model file of format version 1 was loaded: it kept the standard errors only, so the
    covariance matrix of the estimates is ``diag(bse**2)`` (zero covariances)."""


def canonical_json(manifest: dict[str, Any]) -> bytes:
    """The bytes a manifest's checksum covers (every key but ``manifest_sha256``); shared by
    the model files here and the audio catalog (:mod:`tsconv.audio.catalog`)."""
    body = {k: v for k, v in manifest.items() if k != "manifest_sha256"}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), allow_nan=False).encode()


class NpyMember:
    """An ``.npy`` member made of ``parts`` stacked along the first axis, never concatenated.

    The bytes are those :func:`numpy.save` writes for the stacked array (format 1.0 header,
    C order), produced part by part: :attr:`size` and :meth:`sha256` without a copy,
    :meth:`chunks` for a streaming write. A large catalog is saved without a second copy
    of its arrays in memory. Object arrays are refused (nothing is ever pickled).
    """

    def __init__(self, parts: NDArray[Any] | list[NDArray[Any]], empty: NDArray[Any] | None = None) -> None:
        parts = [np.asarray(parts)] if isinstance(parts, np.ndarray) else [np.asarray(p) for p in parts]
        if not parts:
            if empty is None:
                raise ValueError("an empty list of parts needs an empty array giving the dtype and trailing shape")
            parts = [np.asarray(empty)]
        dtype, tail = parts[0].dtype, parts[0].shape[1:]
        if dtype.hasobject:
            raise TypeError(f"stored arrays must not hold Python objects, got dtype {dtype}")
        for p in parts:
            if p.dtype != dtype or p.ndim == 0 and len(parts) > 1 or p.shape[1:] != tail:
                raise ValueError(f"parts must share dtype and trailing shape, got {dtype}{tail} and {p.dtype}{p.shape[1:]}")
        self.dtype = dtype
        self.shape = parts[0].shape if len(parts) == 1 else (sum(p.shape[0] for p in parts), *tail)
        self.parts = parts
        head = io.BytesIO()
        np.lib.format.write_array_header_1_0(
            head, {"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False, "shape": self.shape})
        self.header = head.getvalue()
        self.size = len(self.header) + sum(int(p.nbytes) for p in parts)

    def chunks(self, limit: int = 64 * 2**20) -> Iterator[bytes | memoryview]:
        """The member's bytes: the header, then each part in pieces of at most ``limit`` bytes."""
        yield self.header
        for p in self.parts:
            flat = np.ascontiguousarray(p).reshape(-1).view(np.uint8).data
            for a in range(0, len(flat), limit):
                yield flat[a : a + limit]

    def sha256(self) -> str:
        h = hashlib.sha256()
        for c in self.chunks():
            h.update(c)
        return h.hexdigest()


def npy_bytes(arr: NDArray[Any]) -> bytes:
    """``arr`` as a ``.npy`` member, refusing object arrays (nothing is ever pickled)."""
    return b"".join(bytes(c) for c in NpyMember(np.asarray(arr)).chunks())


def _tmp_name(path: str, suffix: str) -> str:
    """``.tmp-<target name>.<pid>.<random><suffix>`` next to ``path``: a save's temporary file.

    The writer's process id in the name lets the next save or load of the same target find
    and remove the leftovers of a writer that was killed (:func:`remove_stale_temps`).
    """
    directory, base = os.path.split(os.path.abspath(path))
    return os.path.join(directory, f"{_TMP_PREFIX}{base}.{os.getpid()}.{secrets.token_hex(6)}{suffix}")


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True  # someone else's live process (or an unknown one): leave its file alone
    return True


def remove_stale_temps(path: str, suffix: str) -> list[str]:
    """Remove the temporary files that killed saves of ``path`` left behind; return their paths.

    A temporary file is stale when the process named in it no longer runs (SIGKILL, power
    loss, SIGTERM without a handler). Files of live writers are left alone.
    """
    directory, base = os.path.split(os.path.abspath(path))
    head = f"{_TMP_PREFIX}{base}."
    removed: list[str] = []
    try:
        names = os.listdir(directory)
    except OSError:
        return removed
    for fn in names:
        if not (fn.startswith(head) and fn.endswith(suffix)):
            continue
        parts = fn[len(head) : -len(suffix)].split(".")
        if len(parts) != 2 or not parts[0].isdigit():
            continue
        if _pid_alive(int(parts[0])):
            continue
        full = os.path.join(directory, fn)
        try:
            if stat.S_ISREG(os.lstat(full).st_mode):
                os.unlink(full)
                removed.append(full)
        except OSError:
            pass
    return removed


def atomic_write(path: str, write: Any, suffix: str) -> None:
    """Call ``write(fh)`` on a temporary file next to ``path``, fsync it, move it over ``path``.

    Temporary files of killed writers of the same target are removed first; the new file
    gets ``0o666`` less the umask. On any exception (Ctrl-C included) the temporary file is
    removed and ``path`` is left as it was.
    """
    if not path:  # abspath('') is the working directory: the file would be written, then not moved
        raise ValueError(f"path must name a file, got {path!r}")
    if os.path.isdir(path):  # checked before writing: os.replace would refuse only after the whole file
        raise IsADirectoryError(f"cannot write {path!r}: it is a directory")
    if os.path.isfile(path) and not os.path.islink(path) and not os.access(path, os.W_OK):
        # os.replace would succeed over a read-only file (the directory decides): refuse,
        # as open(path, "wb") would
        raise PermissionError(f"cannot write {path!r}: the file is read-only")
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):  # named here: the temporary file's name means nothing to a caller
        raise FileNotFoundError(f"cannot write {path!r}: directory {directory!r} does not exist")
    remove_stale_temps(path, suffix)
    tmp = _tmp_name(path, suffix)
    # os.open applies the umask (tempfile.mkstemp would force 0600)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    try:  # make the rename itself durable
        dfd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:  # pragma: no cover - platforms without directory fsync
        pass


def write_model(path: str | os.PathLike[str], kind: str, manifest: dict[str, Any], arrays: dict[str, Any]) -> None:
    """Write ``manifest`` and ``arrays`` atomically to ``path``."""
    path = os.fspath(path)
    manifest = {**manifest, "format": FORMAT, "version": VERSION, "kind": kind}
    members, entries = {}, {}
    for name, value in arrays.items():
        arr = np.asarray(value)
        data = npy_bytes(arr)
        members[f"{name}.npy"] = data
        entries[name] = {"dtype": arr.dtype.str, "shape": list(arr.shape), "sha256": hashlib.sha256(data).hexdigest()}
    manifest["arrays"] = entries
    manifest["manifest_sha256"] = hashlib.sha256(canonical_json(manifest)).hexdigest()
    text = json.dumps(manifest, indent=1, sort_keys=True, allow_nan=False)

    def write(fh: Any) -> None:
        with zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
            zf.writestr(_MANIFEST, text)
            for member, data in members.items():
                zf.writestr(member, data)

    atomic_write(path, write, _TMP_SUFFIX)


def read_model(path: str | os.PathLike[str], kind: str) -> tuple[dict[str, Any], dict[str, NDArray[Any]]]:
    """Read and verify a model file of ``kind``; return ``(manifest, arrays)`` (the manifest's
    ``version`` is one of :data:`READABLE_VERSIONS`; :func:`covariance` reads either)."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise ModelFileError(f"model file not found: {path!r}")
    # what zipfile raises on a damaged archive besides BadZipFile: a flipped bit in the
    # central directory reads as an unknown compression (NotImplementedError), encryption
    # (RuntimeError) or a bad length (EOFError, ValueError)
    damaged = (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError, ValueError)
    try:
        zf = zipfile.ZipFile(path, "r")
    except damaged as exc:
        raise ModelFileError(f"{path!r} is not a tsconv model file: not a ZIP archive, or truncated ({exc})") from exc
    with zf:
        try:
            manifest = json.loads(zf.read(_MANIFEST).decode("utf-8"))
        except KeyError:
            raise ModelFileError(f"{path!r} is not a tsconv model file: no {_MANIFEST}") from None
        except (*damaged, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ModelFileError(f"{path!r}: the manifest is corrupt ({exc})") from exc
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            raise ModelFileError(f"{path!r} is not a tsconv model file (format {manifest.get('format') if isinstance(manifest, dict) else None!r})")
        version = manifest.get("version")
        if isinstance(version, bool) or version not in READABLE_VERSIONS:
            raise ModelFileError(f"{path!r} has format version {version!r}; this tsconv reads versions "
                                 f"{', '.join(map(str, READABLE_VERSIONS))}")
        if manifest.get("manifest_sha256") != hashlib.sha256(canonical_json(manifest)).hexdigest():
            raise ModelFileError(f"{path!r}: the manifest does not match its checksum (edited or corrupt)")
        if manifest.get("kind") != kind:
            raise ModelFileError(f"{path!r} holds a {manifest.get('kind')!r} model, not a {kind!r} one")
        listed = manifest.get("arrays")
        if not isinstance(listed, dict) or not all(
                isinstance(e, dict) and {"sha256", "dtype", "shape"} <= set(e) for e in listed.values()):
            raise ModelFileError(f"{path!r}: the manifest's list of arrays is malformed")
        arrays = {}
        for name, entry in listed.items():
            try:
                data = zf.read(f"{name}.npy")
            except (KeyError, *damaged) as exc:
                raise ModelFileError(f"{path!r}: array {name!r} is missing or corrupt ({exc})") from exc
            if hashlib.sha256(data).hexdigest() != entry["sha256"]:
                raise ModelFileError(f"{path!r}: array {name!r} does not match its checksum")
            try:
                arr = np.lib.format.read_array(io.BytesIO(data), allow_pickle=False)
            except ValueError as exc:
                raise ModelFileError(f"{path!r}: array {name!r} is not a plain .npy array ({exc})") from exc
            if arr.dtype.str != entry["dtype"] or list(arr.shape) != entry["shape"]:
                raise ModelFileError(f"{path!r}: array {name!r} has dtype/shape {arr.dtype.str}/{arr.shape}, "
                                     f"expected {entry['dtype']}/{entry['shape']}")
            arrays[name] = arr
    return manifest, arrays


def covariance(manifest: dict[str, Any], arrays: dict[str, NDArray[Any]], path: Any) -> NDArray[np.float64]:
    """The covariance matrices of a model file read by :func:`read_model`: the array ``cov``
    of a version-2 file, ``diag(bse**2)`` of a version-1 file (with a
    :class:`DiagonalCovarianceWarning`: version 1 never stored the covariances)."""
    if manifest["version"] >= 2:
        return np.asarray(arrays["cov"], dtype=np.float64)
    warnings.warn(
        f"{path!r} is a version-1 model file, which kept only the standard errors: cov_params() is diag(bse**2), "
        "without the covariances of the estimates (fit the model again and save it for the full matrix)",
        DiagonalCovarianceWarning,
        stacklevel=3,
    )
    bse = np.asarray(arrays["bse"], dtype=np.float64)
    eye = np.eye(bse.shape[-1])
    return np.asarray(bse[..., :, None] ** 2 * eye, dtype=np.float64)


def jsonable(value: Any) -> Any:
    """A label as JSON (numpy scalars as Python ones); a TypeError for anything else."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    raise TypeError(f"cannot save the label {value!r} ({type(value).__name__}): labels must be numbers or strings")


def label_from_json(value: Any) -> Any:
    """A label read back from :func:`jsonable`: lists are tuples again (a tuple, e.g. a
    column of a MultiIndex, is a label; a list cannot be one)."""
    return tuple(label_from_json(v) for v in value) if isinstance(value, list) else value


def index_to_arrays(index: pd.Index) -> tuple[dict[str, Any], NDArray[Any]]:
    """``(description, values)`` of a pandas index, for :func:`index_from_arrays`; a
    TypeError, before anything is written, for an index whose frequency or time zone
    cannot be written as text and read back (a custom business day with holidays,
    ``pd.DateOffset(months=1)``, a pytz or dateutil fixed offset)."""
    desc, values = _index_description(index)
    try:
        back = index_from_arrays(json.loads(json.dumps(desc)), values)
        same = back.equals(index) and getattr(back, "freq", None) == getattr(index, "freq", None) and (
            getattr(back, "tz", None) is None) == (getattr(index, "tz", None) is None)
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        same, why = False, f" ({exc})"
    else:
        why = ""
    if not same:
        raise TypeError(f"cannot save the index {type(index).__name__} (freq {getattr(index, 'freqstr', None)!r}, "
                        f"tz {str(getattr(index, 'tz', None))!r}): it would not read back as it is{why}; set a "
                        "frequency or time zone pandas can name by a string (e.g. index.freq = None, "
                        "index.tz_convert('UTC')) first")
    return desc, values


def _index_description(index: pd.Index) -> tuple[dict[str, Any], NDArray[Any]]:
    if isinstance(index, pd.PeriodIndex):
        return {"kind": "period", "freq": index.freqstr, "name": jsonable(index.name)}, index.asi8.copy()
    if isinstance(index, pd.DatetimeIndex):
        tz = None if index.tz is None else str(index.tz)
        naive = index if index.tz is None else index.tz_convert("UTC").tz_localize(None)
        return {"kind": "datetime", "freq": index.freqstr, "tz": tz, "name": jsonable(index.name)}, naive.to_numpy()
    values = index.to_numpy()
    if values.dtype.hasobject:
        return {"kind": "labels", "values": jsonable(list(values)), "name": jsonable(index.name)}, np.zeros(0)
    return {"kind": "values", "name": jsonable(index.name)}, values


def index_from_arrays(desc: dict[str, Any], values: NDArray[Any]) -> pd.Index:
    kind = desc["kind"]
    if kind == "period":
        # from ordinals (PeriodIndex.from_ordinals needs pandas 2.2; PeriodArray takes them on 2.0 too)
        dtype = pd.PeriodDtype(desc["freq"])
        return pd.PeriodIndex(pd.arrays.PeriodArray(np.asarray(values, dtype=np.int64), dtype=dtype),
                              name=label_from_json(desc["name"]))
    if kind == "datetime":
        idx = pd.DatetimeIndex(values, name=label_from_json(desc["name"]))
        if desc["tz"] is not None:
            idx = idx.tz_localize("UTC").tz_convert(desc["tz"])
        if desc["freq"] is not None:
            idx.freq = desc["freq"]
        return idx
    if kind == "labels":
        return pd.Index([label_from_json(v) for v in desc["values"]], name=label_from_json(desc["name"]), tupleize_cols=False)
    return pd.Index(values, name=label_from_json(desc["name"]))
