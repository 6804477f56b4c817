"""The on-disk catalog format: one ZIP file holding a JSON manifest and ``.npy`` arrays.

Format ``tsconv-audio-catalog``, version 1 (documented in ``docs/audio.md``):

- the file is a ZIP archive with uncompressed (stored) members;
- ``manifest.json`` (UTF-8 JSON) holds ``format``, ``version``, the matcher's settings,
  the list of tracks and, for every array member, its dtype, shape and SHA-256;
  ``manifest_sha256`` is the SHA-256 of the manifest serialised with sorted keys and
  without that field, so a changed digit in the manifest is caught too;
- each array member is a ``.npy`` file (NumPy format 1.0/2.0) readable with
  ``allow_pickle=False``; object arrays are refused on write and on read.

Writes are atomic: the archive is written to a temporary file in the target's directory,
flushed and fsync'ed, then moved over the target with ``os.replace``; an interrupted save
leaves the previous catalog untouched. Reads check the container, the format name and
version, every checksum, dtype and shape, and raise :class:`CatalogError` saying what is
wrong.
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
from numpy.typing import NDArray

__all__ = ["CatalogError", "FORMAT", "VERSION", "write_catalog", "read_catalog"]

FORMAT = "tsconv-audio-catalog"
VERSION = 1
_MANIFEST = "manifest.json"


class CatalogError(Exception):
    """A catalog file is missing, corrupt, truncated, foreign or of an unknown version."""


def _canonical(manifest: dict[str, Any]) -> bytes:
    body = {k: v for k, v in manifest.items() if k != "manifest_sha256"}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), allow_nan=False).encode()


def _npy_bytes(arr: NDArray[Any]) -> bytes:
    if arr.dtype.hasobject:
        raise TypeError(f"catalog arrays must not hold Python objects, got dtype {arr.dtype}")
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.ascontiguousarray(arr), allow_pickle=False)
    return buf.getvalue()


def write_catalog(path: str | os.PathLike[str], manifest: dict[str, Any], arrays: dict[str, NDArray[Any]]) -> None:
    """Write ``manifest`` and ``arrays`` atomically to ``path`` (see the module docstring)."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    manifest = dict(manifest)
    manifest["format"] = FORMAT
    manifest["version"] = VERSION
    members: dict[str, bytes] = {}
    entries = {}
    for name, arr in arrays.items():
        data = _npy_bytes(np.asarray(arr))
        members[f"{name}.npy"] = data
        entries[name] = {
            "file": f"{name}.npy",
            "dtype": np.asarray(arr).dtype.str,
            "shape": list(np.asarray(arr).shape),
            "sha256": hashlib.sha256(data).hexdigest(),
        }
    manifest["arrays"] = entries
    manifest["manifest_sha256"] = hashlib.sha256(_canonical(manifest)).hexdigest()
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".tsconv-catalog", dir=directory)
    try:
        with os.fdopen(fd, "wb") as fh:
            with zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
                zf.writestr(_MANIFEST, json.dumps(manifest, indent=1, sort_keys=True, allow_nan=False))
                for member, data in members.items():
                    _write_member(zf, member, data)
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


def _write_member(zf: zipfile.ZipFile, member: str, data: bytes) -> None:
    # a separate function so that tests can simulate a crash in the middle of a save
    zf.writestr(member, data)


def read_catalog(path: str | os.PathLike[str]) -> tuple[dict[str, Any], dict[str, NDArray[Any]]]:
    """Read and verify a catalog; return ``(manifest, arrays)``.

    Raises
    ------
    CatalogError
        Missing file, not a ZIP archive (foreign or truncated), no or unreadable manifest,
        wrong format name, unsupported version, a checksum, dtype or shape mismatch.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise CatalogError(f"catalog file not found: {path!r}")
    try:
        zf = zipfile.ZipFile(path, "r")
    except zipfile.BadZipFile as exc:
        raise CatalogError(
            f"{path!r} is not a tsconv catalog: not a ZIP archive, or truncated ({exc})"
        ) from exc
    except OSError as exc:
        raise CatalogError(f"cannot read catalog {path!r}: {exc}") from exc
    with zf:
        names = set(zf.namelist())
        if _MANIFEST not in names:
            raise CatalogError(f"{path!r} is not a tsconv catalog: no {_MANIFEST} in the archive")
        try:
            raw = zf.read(_MANIFEST)
            manifest = json.loads(raw.decode("utf-8"))
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise CatalogError(f"{path!r}: the manifest is corrupt ({exc})") from exc
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise CatalogError(f"{path!r}: the manifest is not valid JSON ({exc})") from exc
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            found = manifest.get("format") if isinstance(manifest, dict) else type(manifest).__name__
            raise CatalogError(f"{path!r} is not a tsconv catalog: format is {found!r}, expected {FORMAT!r}")
        version = manifest.get("version")
        if version != VERSION:
            raise CatalogError(f"{path!r}: catalog format version {version!r} is not supported (this tsconv reads {VERSION})")
        expected = manifest.get("manifest_sha256")
        if expected != hashlib.sha256(_canonical(manifest)).hexdigest():
            raise CatalogError(f"{path!r}: the manifest checksum does not match: the manifest was modified or corrupted")
        arrays: dict[str, NDArray[Any]] = {}
        for name, entry in manifest.get("arrays", {}).items():
            member = entry["file"]
            if member not in names:
                raise CatalogError(f"{path!r}: array member {member!r} listed in the manifest is missing")
            try:
                data = zf.read(member)
            except (zipfile.BadZipFile, OSError, EOFError) as exc:
                raise CatalogError(f"{path!r}: array member {member!r} is corrupt ({exc})") from exc
            digest = hashlib.sha256(data).hexdigest()
            if digest != entry["sha256"]:
                raise CatalogError(f"{path!r}: checksum mismatch in {member!r}: expected sha256 {entry['sha256']}, got {digest}")
            try:
                arr = np.lib.format.read_array(io.BytesIO(data), allow_pickle=False)
            except (ValueError, OSError, EOFError) as exc:
                raise CatalogError(f"{path!r}: {member!r} is not a readable .npy array ({exc})") from exc
            if arr.dtype.str != entry["dtype"] or list(arr.shape) != list(entry["shape"]):
                raise CatalogError(
                    f"{path!r}: {member!r} has dtype {arr.dtype.str} and shape {list(arr.shape)}, "
                    f"the manifest says {entry['dtype']} and {entry['shape']}"
                )
            arrays[name] = arr
    return manifest, arrays
