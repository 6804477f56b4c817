"""The on-disk format of fitted models: one ZIP file holding a JSON manifest and ``.npy`` arrays.

Format ``tsconv-model``, version 1:

- a ZIP archive with stored (uncompressed) members;
- ``manifest.json`` (UTF-8 JSON): ``format``, ``version``, ``kind`` (``"fitted"`` or
  ``"batch"``), the model's settings and, for every array member, its dtype, shape and
  SHA-256; ``manifest_sha256`` is the SHA-256 of the manifest serialised with sorted keys
  and without that field;
- each array is a ``.npy`` member readable with ``allow_pickle=False`` (object arrays are
  refused on write and on read). Nothing is ever unpickled.

Writes are atomic (a temporary file in the target's directory, fsync'ed, then
``os.replace``). Reads check the container, format, version, checksums, dtypes and shapes
and raise :class:`ModelFileError` saying what is wrong.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
import zipfile
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

FORMAT = "tsconv-model"
VERSION = 1
_MANIFEST = "manifest.json"


class ModelFileError(Exception):
    """A model file is missing, corrupt, truncated, foreign or of an unknown version."""


def canonical_json(manifest: dict[str, Any]) -> bytes:
    """The bytes a manifest's checksum covers (every key but ``manifest_sha256``); shared by
    the model files here and the audio catalog (:mod:`tsconv.audio.catalog`)."""
    body = {k: v for k, v in manifest.items() if k != "manifest_sha256"}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), allow_nan=False).encode()


def npy_bytes(arr: NDArray[Any]) -> bytes:
    """``arr`` as a ``.npy`` member, refusing object arrays (nothing is ever pickled)."""
    if arr.dtype.hasobject:
        raise TypeError(f"stored arrays must not hold Python objects, got dtype {arr.dtype}")
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.ascontiguousarray(arr), allow_pickle=False)
    return buf.getvalue()


def write_model(path: str | os.PathLike[str], kind: str, manifest: dict[str, Any], arrays: dict[str, Any]) -> None:
    """Write ``manifest`` and ``arrays`` atomically to ``path``."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
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
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".tsconv-model", dir=directory)
    try:
        with os.fdopen(fd, "wb") as fh:
            with zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
                zf.writestr(_MANIFEST, text)
                for member, data in members.items():
                    zf.writestr(member, data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def read_model(path: str | os.PathLike[str], kind: str) -> tuple[dict[str, Any], dict[str, NDArray[Any]]]:
    """Read and verify a model file of ``kind``; return ``(manifest, arrays)``."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise ModelFileError(f"model file not found: {path!r}")
    try:
        zf = zipfile.ZipFile(path, "r")
    except (zipfile.BadZipFile, OSError) as exc:
        raise ModelFileError(f"{path!r} is not a tsconv model file: not a ZIP archive, or truncated ({exc})") from exc
    with zf:
        try:
            manifest = json.loads(zf.read(_MANIFEST).decode("utf-8"))
        except KeyError:
            raise ModelFileError(f"{path!r} is not a tsconv model file: no {_MANIFEST}") from None
        except (zipfile.BadZipFile, OSError, EOFError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ModelFileError(f"{path!r}: the manifest is corrupt ({exc})") from exc
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            raise ModelFileError(f"{path!r} is not a tsconv model file (format {manifest.get('format') if isinstance(manifest, dict) else None!r})")
        if manifest.get("version") != VERSION:
            raise ModelFileError(f"{path!r} has format version {manifest.get('version')!r}; this tsconv reads version {VERSION}")
        if manifest.get("manifest_sha256") != hashlib.sha256(canonical_json(manifest)).hexdigest():
            raise ModelFileError(f"{path!r}: the manifest does not match its checksum (edited or corrupt)")
        if manifest.get("kind") != kind:
            raise ModelFileError(f"{path!r} holds a {manifest.get('kind')!r} model, not a {kind!r} one")
        arrays = {}
        for name, entry in manifest["arrays"].items():
            try:
                data = zf.read(f"{name}.npy")
            except (KeyError, zipfile.BadZipFile, OSError, EOFError) as exc:
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


def jsonable(value: Any) -> Any:
    """A label as JSON (numpy scalars as Python ones); a TypeError for anything else."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    raise TypeError(f"cannot save the label {value!r} ({type(value).__name__}): labels must be numbers or strings")


def index_to_arrays(index: pd.Index) -> tuple[dict[str, Any], NDArray[Any]]:
    """``(description, values)`` of a pandas index, for :func:`index_from_arrays`."""
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
        return pd.PeriodIndex(pd.arrays.PeriodArray(np.asarray(values, dtype=np.int64), dtype=dtype), name=desc["name"])
    if kind == "datetime":
        idx = pd.DatetimeIndex(values, name=desc["name"])
        if desc["tz"] is not None:
            idx = idx.tz_localize("UTC").tz_convert(desc["tz"])
        if desc["freq"] is not None:
            idx.freq = desc["freq"]
        return idx
    if kind == "labels":
        return pd.Index(desc["values"], name=desc["name"])
    return pd.Index(values, name=desc["name"])
