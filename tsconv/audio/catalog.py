"""The on-disk catalog format: one ZIP file holding a JSON manifest and ``.npy`` arrays.

Format ``tsconv-audio-catalog``, version 5 (documented in ``docs/audio.md``; version 1
files, which neither align members nor hold a music null, version 2 files, which hold no
search index, version 3 files, whose music null was probed on the whole catalog, and version 4
files, whose music null recalibrates two tests, are still read):

- the file is a ZIP archive with uncompressed (stored) members;
- ``manifest.json`` (UTF-8 JSON) holds ``format``, ``version``, the matcher's settings,
  the list of tracks and, for every array member, its dtype, shape and SHA-256;
  ``manifest_sha256`` is the SHA-256 of the manifest serialised with sorted keys and
  without that field, so a changed digit in the manifest is caught too;
- each array member is a ``.npy`` file (NumPy format 1.0/2.0) readable with
  ``allow_pickle=False``; object arrays are refused on write and on read;
- since version 2: every member's data starts at a multiple of 64 bytes in the file (padding
  in the local header's extra field, ID ``0xD935`` as zipalign uses), so that
  ``read_catalog(path, mmap=True)`` maps the arrays straight from the file, aligned;
- version 3: complex64 arrays too (the matcher's stored search index);
- version 4: the music null's ``null_lags`` (float64, shape ``(1,)``): the catalog lags its
  probes searched, a part of the catalog's (``Matcher.calibrate``'s ``probe_hours``); a
  version-3 reader would read such a null as if its probes had searched the whole catalog;
- version 5: the music null's ``null_log_p_query`` (float64, the shape of ``null_log_p``):
  the probes' per-query probabilities of the two tests united, a third recalibrated test
  (``Matcher.calibrate``); a version-4 reader would give other probabilities.

Large arrays are written part by part (``tsconv._persist.NpyMember``) and read by
streaming each member once straight into its array: neither a save nor a read holds a
second copy of the catalog.

Checksums of mapped arrays: ``read_catalog(path, mmap=True)`` still checks every SHA-256
(and that every value is finite) at load, by streaming the member through the page cache
in 16 MiB reads: the process's memory does not grow with the file, the load costs one read
of it. ``verify=False`` skips that pass for the mapped arrays (the manifest and the
container are still checked): for a file already verified, e.g. by an earlier load.

Writes are atomic: the archive is written to a temporary file in the target's directory
(``.tmp-<name>.<pid>.<random>.tsconv-catalog``), flushed and fsync'ed, then moved over the
target with ``os.replace``; an interrupted save leaves the previous catalog untouched, and
the temporary files of killed writers are removed by the next save or load of the same
target. Files follow the umask. Reads check the container, the format name and
version, every checksum, dtype and shape, and raise :class:`CatalogError` saying what is
wrong.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import stat
import struct
import zipfile
from typing import Any

import numpy as np
from numpy.typing import NDArray

from tsconv._persist import NpyMember, atomic_write, canonical_json, remove_stale_temps
from tsconv.audio._null import MusicNull

__all__ = ["CatalogError", "FORMAT", "VERSION", "write_catalog", "read_catalog", "read_manifest", "read_music_null"]

FORMAT = "tsconv-audio-catalog"
VERSION = 5
# version 1: unaligned members, no music null (loaded with a warning by Matcher.load);
# version 2: no search index (the first query builds it); version 3: no null_lags (the
# music null's probes searched the whole catalog less their own track); version 4: no
# null_log_p_query (the music null recalibrates the search and the exact score only)
_READABLE = (1, 2, 3, 4, 5)
_NULL_MEMBERS = ("null_durations", "null_log_p", "null_log_p_exact", "null_lags", "null_log_p_query")
_ALIGN = 64  # member data alignment since version 2 (bytes)
_ALIGN_ID = 0xD935  # extra-field ID of the padding
_CHUNK = 16 * 2**20  # bytes per read when streaming a member
_MANIFEST = "manifest.json"


class CatalogError(Exception):
    """A catalog file is missing, corrupt, truncated, foreign or of an unknown version."""


_TMP_SUFFIX = ".tsconv-catalog"  # of a save's temporary file (see tsconv._persist.atomic_write)
# the manifest of a catalog of 100,000 tracks is about 25 MB: a larger one is not ours
_MAX_MANIFEST = 64 * 2**20
_MAX_NPY_HEADER = 10_000  # numpy's own default limit of an .npy header


def write_catalog(path: str | os.PathLike[str], manifest: dict[str, Any],
                  arrays: dict[str, NDArray[Any] | NpyMember]) -> None:
    """Write ``manifest`` and ``arrays`` atomically to ``path`` (see the module docstring).

    An array may be given as a ``tsconv._persist.NpyMember`` (parts stacked along the
    first axis): it is hashed and written part by part, never copied whole. The file gets the
    permissions of any new file (``0o666`` less the process's umask). Temporary files left by
    killed saves of the same target are removed first.
    """
    path = os.fspath(path)
    manifest = dict(manifest)
    manifest["format"] = FORMAT
    manifest["version"] = VERSION
    members: dict[str, NpyMember] = {}
    entries = {}
    for name, arr in arrays.items():
        data = arr if isinstance(arr, NpyMember) else NpyMember(np.asarray(arr))
        members[f"{name}.npy"] = data
        entries[name] = {
            "file": f"{name}.npy",
            "dtype": data.dtype.str,
            "shape": list(data.shape),
            "sha256": data.sha256(),
        }
    manifest["arrays"] = entries
    manifest["manifest_sha256"] = hashlib.sha256(canonical_json(manifest)).hexdigest()

    def write(fh: Any) -> None:
        with zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
            zf.writestr(_MANIFEST, json.dumps(manifest, indent=1, sort_keys=True, allow_nan=False))
            for member, data in members.items():
                _write_member(zf, member, data)

    atomic_write(path, write, _TMP_SUFFIX)


def _atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (as a catalog is written)."""
    atomic_write(os.fspath(path), lambda fh: fh.write(data), _TMP_SUFFIX)


def _write_member(zf: zipfile.ZipFile, member: str, data: NpyMember) -> None:
    # a separate function so that tests can simulate a crash in the middle of a save
    zinfo = zipfile.ZipInfo(member, date_time=(1980, 1, 1, 0, 0, 0))
    zinfo.compress_type = zipfile.ZIP_STORED
    zinfo.external_attr = 0o644 << 16
    zinfo.file_size = data.size  # before open(): zipfile decides on ZIP64 from it
    assert zf.fp is not None
    pos = zf.fp.tell()
    head = 30 + len(member.encode("utf-8"))
    if data.size * 1.05 > zipfile.ZIP64_LIMIT:  # zipfile adds a 20-byte ZIP64 extra field
        head += 20
    pad = (-(pos + head + 4)) % _ALIGN
    zinfo.extra = struct.pack("<HH", _ALIGN_ID, pad) + bytes(pad)
    with zf.open(zinfo, "w") as dest:
        for chunk in data.chunks():
            dest.write(chunk)


def _no_constants(token: str) -> Any:
    raise ValueError(f"{token} is not allowed in a catalog manifest")


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise ValueError(f"duplicate key {k!r}")
        out[k] = v
    return out


def _check_members(path: str, zf: zipfile.ZipFile, file_size: int) -> dict[str, zipfile.ZipInfo]:
    """The archive's members, refused unless every one is stored, unencrypted, named once
    and declares sizes the file can hold (nothing is read or allocated before this)."""
    infos: dict[str, zipfile.ZipInfo] = {}
    total = 0
    for info in zf.infolist():
        name = info.filename
        if name in infos:
            raise CatalogError(f"{path!r}: the archive holds {name!r} twice")
        if info.flag_bits & 0x1:
            raise CatalogError(f"{path!r}: member {name!r} is encrypted")
        if info.compress_type != zipfile.ZIP_STORED:
            raise CatalogError(
                f"{path!r}: member {name!r} is compressed (ZIP method {info.compress_type}); "
                "catalog members are stored uncompressed"
            )
        if info.file_size != info.compress_size:
            raise CatalogError(
                f"{path!r}: member {name!r} declares {info.file_size} bytes but stores {info.compress_size}"
            )
        total += info.file_size
        if info.file_size < 0 or total > file_size:
            raise CatalogError(
                f"{path!r}: the members declare more bytes ({total}) than the file holds ({file_size}): "
                "corrupt or crafted"
            )
        infos[name] = info
    return infos


def _check_arrays_entry(path: str, entries: Any) -> dict[str, tuple[str, np.dtype[Any], tuple[int, ...], str]]:
    """Validate the manifest's ``arrays`` table: ``{name: (file, dtype, shape, sha256)}``."""
    if not isinstance(entries, dict):
        raise CatalogError(f"{path!r}: the manifest's 'arrays' must be a mapping, got {type(entries).__name__}")
    out = {}
    for name, entry in entries.items():
        if not isinstance(entry, dict):
            raise CatalogError(f"{path!r}: the manifest's entry of array {name!r} must be a mapping, got {entry!r:.80}")
        missing = {"file", "dtype", "shape", "sha256"} - set(entry)
        if missing:
            raise CatalogError(f"{path!r}: the manifest's entry of array {name!r} lacks {sorted(missing)}")
        member, dtype_str, shape, digest = entry["file"], entry["dtype"], entry["shape"], entry["sha256"]
        if not isinstance(member, str) or member != f"{name}.npy":
            raise CatalogError(f"{path!r}: array {name!r} must be stored as {name + '.npy'!r}, the manifest says {member!r:.80}")
        if not isinstance(digest, str) or len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise CatalogError(f"{path!r}: array {name!r} has no valid sha256 in the manifest (got {digest!r:.80})")
        if (not isinstance(shape, list) or len(shape) > 8
                or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape)):
            raise CatalogError(f"{path!r}: array {name!r} has an invalid shape in the manifest: {shape!r:.80}")
        if not isinstance(dtype_str, str) or dtype_str not in _DTYPES:
            raise CatalogError(f"{path!r}: array {name!r} has dtype {dtype_str!r:.40}; catalogs hold {sorted(_DTYPES)}")
        out[name] = (member, np.dtype(dtype_str), tuple(shape), digest)
    return out


# the dtypes a catalog may hold (little-endian floats, as written on every platform tsconv runs on)
_DTYPES = {"<f2", "<f4", "<f8", "<c8"}  # complex64: the stored search index (version 3)


def _open(path: str) -> tuple[zipfile.ZipFile, dict[str, zipfile.ZipInfo]]:
    try:
        st = os.stat(path)
    except (OSError, ValueError) as exc:
        raise CatalogError(f"catalog file not found: {path!r}") from exc
    if not stat.S_ISREG(st.st_mode):
        raise CatalogError(f"catalog {path!r} is not a regular file")
    remove_stale_temps(path, _TMP_SUFFIX)
    try:
        zf = zipfile.ZipFile(path, "r")
    except zipfile.BadZipFile as exc:
        raise CatalogError(
            f"{path!r} is not a tsconv catalog: not a ZIP archive, or truncated ({exc})"
        ) from exc
    except OSError as exc:
        raise CatalogError(f"cannot read catalog {path!r}: {exc}") from exc
    except Exception as exc:  # zipfile raises many types on crafted directories
        raise CatalogError(f"{path!r} is not a tsconv catalog: unreadable ZIP directory ({type(exc).__name__}: {exc})") from exc
    try:
        return zf, _check_members(path, zf, st.st_size)
    except BaseException:
        zf.close()
        raise


def _manifest(path: str, zf: zipfile.ZipFile, infos: dict[str, zipfile.ZipInfo]) -> dict[str, Any]:
    """The verified manifest: JSON, format, version, its own checksum."""
    if _MANIFEST not in infos:
        raise CatalogError(f"{path!r} is not a tsconv catalog: no {_MANIFEST} in the archive")
    if infos[_MANIFEST].file_size > _MAX_MANIFEST:
        raise CatalogError(f"{path!r}: the manifest is {infos[_MANIFEST].file_size} bytes, more than a catalog's ({_MAX_MANIFEST})")
    raw = _read_member(path, zf, _MANIFEST)
    try:
        manifest = json.loads(raw.decode("utf-8"), parse_constant=_no_constants, object_pairs_hook=_no_duplicate_keys)
    except RecursionError as exc:
        raise CatalogError(f"{path!r}: the manifest is not valid JSON (nested too deeply)") from exc
    except (UnicodeDecodeError, ValueError) as exc:
        raise CatalogError(f"{path!r}: the manifest is not valid JSON ({exc})") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        found = manifest.get("format") if isinstance(manifest, dict) else type(manifest).__name__
        raise CatalogError(f"{path!r} is not a tsconv catalog: format is {found!r:.80}, expected {FORMAT!r}")
    version = manifest.get("version")
    if type(version) is not int or version not in _READABLE:
        raise CatalogError(
            f"{path!r}: catalog format version {version!r:.40} is not supported (this tsconv reads "
            f"{', '.join(map(str, _READABLE))})"
        )
    expected = manifest.get("manifest_sha256")
    try:
        actual = hashlib.sha256(canonical_json(manifest)).hexdigest()
    except (ValueError, TypeError, RecursionError) as exc:
        raise CatalogError(f"{path!r}: the manifest cannot be checked ({exc})") from exc
    if expected != actual:
        raise CatalogError(f"{path!r}: the manifest checksum does not match: the manifest was modified or corrupted")
    return manifest


def read_music_null(path: str | os.PathLike[str]) -> tuple[dict[str, Any], MusicNull | None]:
    """``(manifest, music null)`` of a catalog: the null's arrays read and verified, no other.

    The music null is None when the manifest declares none (``music_null`` absent or false).

    Raises
    ------
    CatalogError
        As :func:`read_catalog`, and when the declared null's arrays are missing or malformed.
    """
    manifest, arrays = read_catalog(path, only=_NULL_MEMBERS)
    try:
        return manifest, _music_null_of(manifest, arrays)
    except CatalogError as exc:
        raise CatalogError(f"{os.fspath(path)!r}: {exc}") from exc


def _music_null_of(manifest: dict[str, Any], arrays: dict[str, NDArray[Any]]) -> MusicNull | None:
    """The music null a catalog's manifest declares, from its arrays (None when it declares none).

    Raises
    ------
    CatalogError
        A ``music_null`` flag that is not a bool, missing or malformed null arrays.
    """
    flag = manifest.get("music_null", False)
    if flag is False:
        return None
    if flag is not True:
        raise CatalogError(f"the manifest's music_null must be true or false, got {flag!r:.40}")
    if "null_durations" not in arrays or "null_log_p" not in arrays:
        raise CatalogError("the manifest declares a music null and the archive has no null arrays")
    try:
        exact, lags, united = arrays.get("null_log_p_exact"), arrays.get("null_lags"), arrays.get("null_log_p_query")
        if lags is not None and lags.shape != (1,):
            raise ValueError(f"null_lags must have shape (1,), got {lags.shape}")
        return MusicNull(arrays["null_durations"].astype(np.float64), arrays["null_log_p"].astype(np.float64),
                         None if exact is None else exact.astype(np.float64),
                         None if lags is None else float(lags[0]),
                         None if united is None else united.astype(np.float64))
    except (ValueError, TypeError) as exc:
        raise CatalogError(f"the music null is malformed ({exc})") from exc


def read_manifest(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The verified manifest of a catalog, without reading its arrays (the container and the
    manifest are checked as :func:`read_catalog` checks them)."""
    path = os.fspath(path)
    zf, infos = _open(path)
    with zf:
        return _manifest(path, zf, infos)


def read_catalog(
    path: str | os.PathLike[str], *, mmap: bool = False, verify: bool = True, only: tuple[str, ...] | None = None
) -> tuple[dict[str, Any], dict[str, NDArray[Any]]]:
    """Read and verify a catalog; return ``(manifest, arrays)``.

    With ``mmap=True`` the arrays are read-only :class:`numpy.memmap` views of the file
    (nothing is copied; the file must stay in place while they are used; a later atomic
    save over the same path does not disturb them, it replaces the directory entry, not the
    mapped file). Their checksums are checked at load by streaming the members through the
    page cache, and their values must be finite, unless ``verify=False`` (see the module
    docstring). ``only``: read (and verify) just these arrays, the others are skipped
    (the container and the manifest are checked all the same).

    Nothing is allocated from a size the file declares before that size is checked against
    the file: members must be stored (not compressed), and the members' sizes, the
    manifest's size and every ``.npy`` header's shape must fit the bytes actually there.
    Every member is streamed once in 16 MiB reads (its SHA-256 and the finiteness of its
    values checked on the way); a read member's values go straight into its array, so a
    catalog costs its own size in memory to read, not twice that.

    Raises
    ------
    CatalogError
        Missing or non-regular file, not a ZIP archive (foreign or truncated), compressed,
        encrypted, duplicated or unlisted members, sizes larger than the file, no or
        unreadable manifest, wrong format name, unsupported version, a checksum, dtype or
        shape mismatch.
    """
    path = os.fspath(path)
    zf, infos = _open(path)
    with zf:
        manifest = _manifest(path, zf, infos)
        entries = _check_arrays_entry(path, manifest.get("arrays", {}))
        listed = {e[0] for e in entries.values()} | {_MANIFEST}
        extra = sorted(set(infos) - listed)
        if extra:
            raise CatalogError(f"{path!r}: the archive holds members the manifest does not list: {extra[:5]}")
        arrays: dict[str, NDArray[Any]] = {}
        for name, (member, dtype, shape, digest) in entries.items():
            if only is not None and name not in only:
                continue
            if member not in infos:
                raise CatalogError(f"{path!r}: array member {member!r} listed in the manifest is missing")
            # the declared shape must fit the member before anything is read
            if math.prod(shape) * dtype.itemsize > infos[member].file_size:
                raise CatalogError(
                    f"{path!r}: {member!r} is {infos[member].file_size} bytes, too small for the "
                    f"shape {list(shape)} the manifest declares"
                )
            arrays[name] = _member_array(path, zf, infos[member], dtype, shape, digest, mmap, verify or not mmap)
    return manifest, arrays


def _read_member(path: str, zf: zipfile.ZipFile, member: str) -> bytes:
    try:
        return zf.read(member)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise CatalogError(f"{path!r}: member {member!r} is corrupt ({exc})") from exc
    except Exception as exc:  # crafted local headers: NotImplementedError, ValueError, ...
        raise CatalogError(f"{path!r}: member {member!r} is unreadable ({type(exc).__name__}: {exc})") from exc


def _member_array(path: str, zf: zipfile.ZipFile, info: zipfile.ZipInfo, dtype: np.dtype[Any],
                  shape: tuple[int, ...], digest: str, mmap: bool, verify: bool) -> NDArray[Any]:
    """A stored ``.npy`` member as an array: read into memory, or (``mmap``) a read-only
    memory map of the file. The member is streamed once in ``_CHUNK`` reads, its SHA-256 and
    the finiteness of its values checked on the way (for a map: unless ``verify`` is false);
    a read member's values go straight into the array (no second copy of the member)."""
    member = info.filename
    assert zf.fp is not None
    fd = zf.fp.fileno()
    try:
        local = os.pread(fd, 30, info.header_offset)
        if len(local) != 30 or local[:4] != b"PK\x03\x04":
            raise CatalogError(f"{path!r}: member {member!r} has no valid local header")
        n_name, n_extra = struct.unpack("<HH", local[26:30])
        start = info.header_offset + 30 + n_name + n_extra
        if start + info.file_size > os.fstat(fd).st_size:
            raise CatalogError(f"{path!r}: member {member!r} runs past the end of the file")
        head = os.pread(fd, min(info.file_size, _MAX_NPY_HEADER + 16), start)
    except OSError as exc:
        raise CatalogError(f"{path!r}: member {member!r} is unreadable ({exc})") from exc
    fortran, skip = _npy_header(path, member, head, dtype, shape, info.file_size)
    count = math.prod(shape)
    out = None if mmap else np.empty(count, dtype=dtype)  # sized from the header, checked against the file
    if verify or out is not None:
        dest = None if out is None else out.view(np.uint8)
        h = hashlib.sha256()
        pos, end = 0, info.file_size
        finite = True
        while pos < end:
            try:
                chunk = os.pread(fd, min(_CHUNK, end - pos), start + pos)
            except OSError as exc:
                raise CatalogError(f"{path!r}: member {member!r} is unreadable ({exc})") from exc
            if not chunk:
                raise CatalogError(f"{path!r}: member {member!r} is truncated")
            h.update(chunk)
            # the values of this chunk (the header is skipped; _CHUNK is a multiple of the itemsize)
            lo = max(skip - pos, 0)
            if lo < len(chunk):
                vals = np.frombuffer(chunk, dtype=dtype, offset=lo, count=(len(chunk) - lo) // dtype.itemsize)
                finite = finite and bool(np.all(np.isfinite(vals)))
                if dest is not None:
                    dest[pos + lo - skip : pos + len(chunk) - skip] = np.frombuffer(chunk, dtype=np.uint8, offset=lo)
                del vals
            pos += len(chunk)
            del chunk  # before the next read: one chunk in memory at a time
        got = h.hexdigest()
        if got != digest:
            raise CatalogError(f"{path!r}: checksum mismatch in {member!r}: expected sha256 {digest}, got {got}")
        if not finite:
            raise CatalogError(f"{path!r}: {member!r} holds NaN or infinite values")
    if out is not None:
        return np.ascontiguousarray(out.reshape(shape[::-1]).T) if fortran else out.reshape(shape)
    if count == 0:
        return np.zeros(shape, dtype=dtype)
    arr = np.memmap(path, dtype=dtype, mode="r", offset=start + skip, shape=shape[::-1] if fortran else shape)
    return arr.T if fortran else arr


def _npy_header(path: str, member: str, head: bytes, dtype: np.dtype[Any], shape: tuple[int, ...],
                size: int) -> tuple[bool, int]:
    """``(fortran_order, data_offset)`` of an ``.npy`` member whose first bytes are ``head``,
    after checking the header against the manifest and the member's length."""
    fp = io.BytesIO(head)
    try:
        major, _minor = np.lib.format.read_magic(fp)
        if major == 1:
            hshape, fortran, hdtype = np.lib.format.read_array_header_1_0(fp, max_header_size=_MAX_NPY_HEADER)
        elif major == 2:
            hshape, fortran, hdtype = np.lib.format.read_array_header_2_0(fp, max_header_size=_MAX_NPY_HEADER)
        else:
            raise ValueError(f"unsupported .npy format version {major}")
    except (ValueError, OSError, EOFError, SyntaxError, TypeError, RecursionError) as exc:
        raise CatalogError(f"{path!r}: {member!r} is not a readable .npy array ({exc})") from exc
    if hdtype.hasobject or hdtype.str != dtype.str or tuple(hshape) != shape:
        raise CatalogError(
            f"{path!r}: {member!r} has dtype {hdtype.str} and shape {list(hshape)}, "
            f"the manifest says {dtype.str} and {list(shape)}"
        )
    start = fp.tell()
    count = math.prod(shape)
    if size - start != count * dtype.itemsize:
        raise CatalogError(
            f"{path!r}: {member!r} holds {size - start} bytes of data, its header declares "
            f"{count} x {dtype.itemsize}"
        )
    return bool(fortran), start
