"""Memory-mapped catalogs (format versions 2 and 3): ``Matcher.load(path, mmap=True)``,
and the search index stored in the file (version 3).

The in-memory load is the reference: a mapped catalog must give identical answers; a
stored index must hold exactly what a query would build, and answer as a catalog that was
never saved. A version-1 file (the previous writer's layout: members not aligned,
``"version": 1``) is built here by rewriting the ZIP with :mod:`zipfile`'s defaults; a
version-2 file is the writer with ``VERSION = 2`` and no index.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import struct
import zipfile

import numpy as np
import pytest

from tsconv._persist import canonical_json
from tsconv.audio import CatalogError, Matcher
from tsconv.audio import catalog as catalog_mod
from tsconv.audio._synth import synth_track

SR = 8000


@pytest.fixture(scope="module")
def tracks() -> dict[str, np.ndarray]:
    return {f"t{i}": synth_track(20.0 + 3 * i, SR, seed=10 + i) for i in range(3)}


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory, tracks: dict[str, np.ndarray]) -> str:
    m = Matcher(SR)
    for name, x in tracks.items():
        m.add(name, x, SR)
    path = str(tmp_path_factory.mktemp("cat") / "c.tscat")
    m.save(path)
    return path


def _data_offsets(path: str) -> dict[str, int]:
    """File offset of every member's data, from its local header (the ZIP specification)."""
    out = {}
    with zipfile.ZipFile(path) as zf, open(path, "rb") as fh:
        for info in zf.infolist():
            fh.seek(info.header_offset)
            local = fh.read(30)
            n_name, n_extra = struct.unpack("<HH", local[26:30])
            out[info.filename] = info.header_offset + 30 + n_name + n_extra
    return out


def test_members_are_aligned(saved: str) -> None:
    assert catalog_mod.read_manifest(saved)["version"] == catalog_mod.VERSION
    offsets = _data_offsets(saved)
    for member, off in offsets.items():
        if member.endswith(".npy"):
            assert off % 64 == 0, (member, off)
    _, arrays = catalog_mod.read_catalog(saved, mmap=True)
    for name, arr in arrays.items():
        if arr.size:
            assert isinstance(arr, np.memmap) and arr.flags.aligned and not arr.flags.writeable, name


def test_mapped_arrays_equal_read_arrays(saved: str) -> None:
    man1, read = catalog_mod.read_catalog(saved)
    man2, mapped = catalog_mod.read_catalog(saved, mmap=True)
    assert man1 == man2 and read.keys() == mapped.keys()
    for name in read:
        assert read[name].dtype == mapped[name].dtype
        np.testing.assert_array_equal(read[name], np.asarray(mapped[name]))


def test_mapped_matcher_answers_as_in_memory(saved: str, tracks: dict[str, np.ndarray]) -> None:
    ref = Matcher.load(saved)
    mapped = Matcher.load(saved, mmap=True)
    assert isinstance(mapped._tracks[0].data, np.memmap)
    assert mapped.tracks == ref.tracks
    rng = np.random.default_rng(5)
    for name, x in tracks.items():
        start = int(rng.integers(0, x.size - 3 * SR))
        clip = x[start : start + 3 * SR] + 0.05 * rng.standard_normal(3 * SR).astype(np.float32)
        a, b = ref.match(clip, SR), mapped.match(clip, SR)
        assert a == b
        assert a[0].track == name
    # the mapped samples are not held in process memory: nbytes counts them, the index
    # (built at the first query) is the same size either way
    assert mapped.nbytes == ref.nbytes


def test_a_subset_of_a_mapped_catalog_stays_mapped(saved: str, tracks: dict[str, np.ndarray]) -> None:
    # a shard of a catalog file (tsconv.dask) maps its tracks' pages instead of copying them
    mapped = Matcher.load(saved, mmap=True)
    part, ref = mapped.subset(["t2", "t0"]), Matcher.load(saved).subset(["t2", "t0"])
    assert all(isinstance(t.data, np.memmap) and np.shares_memory(t.data, mapped._tracks[i].data)
               for t, i in zip(part._tracks, (0, 2)))
    assert not any(isinstance(t.data, np.memmap) for t in ref._tracks)  # read into memory: copied
    clip = tracks["t2"][SR : 4 * SR]
    assert part.match(clip, SR) == ref.match(clip, SR) and part.match(clip, SR)[0].track == "t2"


def _rewrite_as_version_1(src: str, dst: str) -> None:
    """The layout of a version-1 writer: zipfile.writestr with no alignment, ``version`` 1, no index."""
    with zipfile.ZipFile(src) as zf:
        members = {i.filename: zf.read(i.filename) for i in zf.infolist() if not i.filename.startswith("index_")}
    manifest = json.loads(members["manifest.json"])
    manifest["version"] = 1
    manifest.pop("index")
    for name in ("index_spectra", "index_energy"):
        manifest["arrays"].pop(name)
    del manifest["manifest_sha256"]
    manifest["manifest_sha256"] = hashlib.sha256(canonical_json(manifest)).hexdigest()
    members["manifest.json"] = json.dumps(manifest, indent=1, sort_keys=True).encode()
    with zipfile.ZipFile(dst, "w", compression=zipfile.ZIP_STORED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)


@pytest.mark.parametrize("mmap", [False, True])
def test_version_1_file_loads(saved: str, tmp_path: os.PathLike[str], mmap: bool) -> None:
    old = os.path.join(tmp_path, "v1.tscat")
    _rewrite_as_version_1(saved, old)
    assert catalog_mod.read_manifest(old)["version"] == 1
    assert any(off % 64 for m, off in _data_offsets(old).items() if m.endswith(".npy"))  # really unaligned
    ref = Matcher.load(saved)
    m = Matcher.load(old, mmap=mmap)
    assert m.tracks == ref.tracks
    for a, b in zip(m._tracks, ref._tracks):
        np.testing.assert_array_equal(np.asarray(a.data), b.data)


def _flip_sample_byte(path: str) -> None:
    offsets = _data_offsets(path)
    with zipfile.ZipFile(path) as zf:
        size = zf.getinfo("samples.npy").file_size
    with open(path, "r+b") as fh:
        fh.seek(offsets["samples.npy"] + size // 2)
        b = fh.read(1)
        fh.seek(-1, os.SEEK_CUR)
        fh.write(bytes([b[0] ^ 0x01]))


def test_damaged_mapped_member_is_caught_at_load(saved: str, tmp_path: os.PathLike[str]) -> None:
    bad = os.path.join(tmp_path, "bad.tscat")
    with open(saved, "rb") as src, open(bad, "wb") as dst:
        dst.write(src.read())
    _flip_sample_byte(bad)
    with pytest.raises(CatalogError, match="checksum mismatch in 'samples.npy'"):
        Matcher.load(bad, mmap=True)
    with pytest.raises(CatalogError, match="samples.npy"):  # the ZIP's CRC-32 catches it first
        Matcher.load(bad)
    # verify=False trusts the mapped arrays (documented): the damage is not looked for
    m = Matcher.load(bad, mmap=True, verify=False)
    assert m.tracks == Matcher.load(saved).tracks


def test_mapped_non_finite_samples_are_refused(tmp_path: os.PathLike[str]) -> None:
    # a catalog whose checksums are right but whose samples hold a NaN (crafted)
    path = os.path.join(tmp_path, "nan.tscat")
    m = Matcher(SR)
    m.add("a", synth_track(2.0, SR, seed=1), SR)
    m._tracks[0].data = m._tracks[0].data.copy()
    m._tracks[0].data[100] = np.nan
    m.save(path)
    with pytest.raises(CatalogError, match="NaN or infinite"):
        Matcher.load(path, mmap=True)
    with pytest.raises(CatalogError, match="NaN or infinite"):
        Matcher.load(path)


def test_load_flags_are_bools(saved: str) -> None:
    with pytest.raises(TypeError, match="mmap"):
        Matcher.load(saved, mmap=1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="verify=False"):
        Matcher.load(saved, verify=False)


def _fresh(tracks: dict[str, np.ndarray]) -> Matcher:
    m = Matcher(SR)
    for name, x in tracks.items():
        m.add(name, x, SR)
    return m


def _clips(tracks: dict[str, np.ndarray]) -> list[np.ndarray]:
    rng = np.random.default_rng(9)
    out = []
    for x in tracks.values():
        start = int(rng.integers(0, x.size - 3 * SR))
        out.append(x[start : start + 3 * SR] + 0.3 * rng.standard_normal(3 * SR).astype(np.float32))
    return out


@pytest.mark.parametrize("mmap", [False, True])
def test_the_stored_index_is_the_one_a_query_builds(saved: str, tracks: dict[str, np.ndarray], mmap: bool) -> None:
    ref = _fresh(tracks)  # never saved: its first query builds the index
    clips = _clips(tracks)
    want = [ref.match(c, SR, top_k=3) for c in clips]
    loaded = Matcher.load(saved, mmap=mmap)
    assert all(t.index is not None for t in loaded._tracks)  # before any query
    for a, b in zip(loaded._tracks, ref._tracks):
        assert isinstance(a.index.spectra, np.memmap) is mmap and isinstance(a.energy, np.memmap) is mmap
        np.testing.assert_array_equal(np.asarray(a.index.spectra), b.index.spectra)
        np.testing.assert_array_equal(np.asarray(a.energy), b.energy)
        np.testing.assert_array_equal(a.resp_power, b.resp_power)
        assert (a.index.n, a.index.step, a.index.keep, a.index.n_blocks) == (b.index.n, b.index.step, b.index.keep,
                                                                              b.index.n_blocks)
    assert [loaded.match(c, SR, top_k=3) for c in clips] == want
    assert loaded.nbytes == ref.nbytes


def test_save_without_index(tmp_path: os.PathLike[str], tracks: dict[str, np.ndarray], saved: str) -> None:
    m = _fresh(tracks)
    path = os.path.join(tmp_path, "bare.tscat")
    m.save(path, index=False)
    man = catalog_mod.read_manifest(path)
    assert "index" not in man and "index_spectra" not in man["arrays"]
    assert os.path.getsize(path) < os.path.getsize(saved) / 2
    loaded = Matcher.load(path, mmap=True)
    assert all(t.index is None for t in loaded._tracks)
    clips = _clips(tracks)
    assert [loaded.match(c, SR) for c in clips] == [m.match(c, SR) for c in clips]
    with pytest.raises(TypeError, match="index must be a bool"):
        m.save(path, index=1)  # type: ignore[arg-type]


def test_an_index_of_other_settings_is_rebuilt(saved: str, tmp_path: os.PathLike[str],
                                               tracks: dict[str, np.ndarray]) -> None:
    # a file written by a tsconv whose index layout differs (here: another block length)
    manifest, arrays = catalog_mod.read_catalog(saved)
    manifest = {k: v for k, v in manifest.items() if k not in ("arrays", "manifest_sha256", "format", "version")}
    manifest["index"] = dict(manifest["index"], nfft=2 * manifest["index"]["nfft"])
    other = os.path.join(tmp_path, "other.tscat")
    catalog_mod.write_catalog(other, manifest, arrays)
    loaded = Matcher.load(other, mmap=True)
    assert all(t.index is None for t in loaded._tracks)
    clips = _clips(tracks)
    assert [loaded.match(c, SR) for c in clips] == [_fresh(tracks).match(c, SR) for c in clips]


def test_version_2_file_loads_and_builds_its_index(tmp_path: os.PathLike[str], tracks: dict[str, np.ndarray],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    path = os.path.join(tmp_path, "v2.tscat")
    with monkeypatch.context() as mp:
        mp.setattr(catalog_mod, "VERSION", 2)
        _fresh(tracks).save(path, index=False)
    assert catalog_mod.read_manifest(path)["version"] == 2
    loaded = Matcher.load(path, mmap=True)
    clips = _clips(tracks)
    assert [loaded.match(c, SR) for c in clips] == [_fresh(tracks).match(c, SR) for c in clips]


def test_a_subset_of_a_mapped_catalog_maps_its_index(saved: str) -> None:
    mapped = Matcher.load(saved, mmap=True)
    part = mapped.subset(["t2", "t0"])
    for t, i in zip(part._tracks, (0, 2)):
        assert isinstance(t.index.spectra, np.memmap) and np.shares_memory(t.index.spectra, mapped._tracks[i].index.spectra)
        assert np.shares_memory(t.energy, mapped._tracks[i].energy)
    read = Matcher.load(saved).subset(["t2"])
    assert read._tracks[0].index is None  # read into memory: copied samples, the index rebuilt


def test_stacked_members_are_the_bytes_numpy_writes(tmp_path: os.PathLike[str]) -> None:
    from tsconv._persist import NpyMember

    rng = np.random.default_rng(3)
    parts = [rng.standard_normal((n, 5)).astype(np.float32) for n in (3, 0, 7)]
    whole = np.concatenate(parts)
    member = NpyMember(parts)
    buf = io.BytesIO()
    np.lib.format.write_array(buf, whole, allow_pickle=False)
    assert b"".join(bytes(c) for c in member.chunks(limit=16)) == buf.getvalue()
    assert member.size == len(buf.getvalue()) and member.sha256() == hashlib.sha256(buf.getvalue()).hexdigest()
    a, b = os.path.join(tmp_path, "a.tscat"), os.path.join(tmp_path, "b.tscat")
    catalog_mod.write_catalog(a, {"k": 1}, {"x": member})
    catalog_mod.write_catalog(b, {"k": 1}, {"x": whole})
    # the same archive either way: members, offsets, padding and bytes (not the headers'
    # modification times, which differ when the two writes straddle a 2-second tick)
    with zipfile.ZipFile(a) as za, zipfile.ZipFile(b) as zb:
        layout = [[(i.filename, i.header_offset, i.file_size, i.compress_type, i.extra) for i in z.infolist()]
                  for z in (za, zb)]
        assert layout[0] == layout[1]
        assert all(za.read(i) == zb.read(i) for i in za.infolist())
    with pytest.raises(ValueError, match="trailing shape"):
        NpyMember([whole, whole[:, :2]])
    with pytest.raises(TypeError, match="objects"):
        NpyMember([np.array([{}], dtype=object)])


def test_reading_a_catalog_costs_its_size_not_twice(tmp_path: os.PathLike[str]) -> None:
    # the member is streamed straight into its array (numpy's allocations are traced): the
    # peak is the array and one 16 MiB read, not the member's bytes and a copy of them
    import tracemalloc

    path = os.path.join(tmp_path, "big.tscat")
    catalog_mod.write_catalog(path, {"k": 1}, {"a": np.arange(8_000_000, dtype=np.float64)})
    tracemalloc.start()
    try:
        _, arrays = catalog_mod.read_catalog(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    size = arrays["a"].nbytes
    assert size == 64_000_000 and peak < 1.5 * size, peak
    assert arrays["a"].flags.writeable and arrays["a"].flags.c_contiguous
    np.testing.assert_array_equal(arrays["a"], np.arange(8_000_000, dtype=np.float64))
