"""Hostile catalog files: crafted manifests and arrays, byte flips, decompression bombs,
killed saves and file permissions. Every malformed file must raise CatalogError.

The corpus is generated here (``crafted_catalogs``): each case starts from a valid catalog
and changes one thing; cases marked ``resign`` recompute every checksum afterwards, so only
the reader's semantic checks can catch them.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
import tracemalloc
import zipfile

import numpy as np
import pytest

from tsconv.audio import CatalogError, Matcher
from tsconv.audio import catalog as catalog_mod
from tsconv.audio._synth import synth_track

_VERSION_FIELD = f'"version": {catalog_mod.VERSION}'.encode()

SR = 8000


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """A valid two-track catalog (1 s and 0.5 s) and its members."""
    m = Matcher()
    m.add("one", synth_track(1.0, SR, seed=1), SR)
    m.add("two", synth_track(0.5, SR, seed=2), SR)
    path = tmp_path_factory.mktemp("cat") / "small.tsca"
    m.save(path)
    with zipfile.ZipFile(path) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    return path, members


def _npy(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, arr, allow_pickle=False)
    return buf.getvalue()


def _resign(manifest: dict, members: dict[str, bytes]) -> dict:
    """Recompute the arrays' and the manifest's checksums (as a careful attacker would)."""
    man = json.loads(json.dumps(manifest))
    if isinstance(man.get("arrays"), dict):
        for name, entry in man["arrays"].items():
            if isinstance(entry, dict) and isinstance(entry.get("file"), str) and entry["file"] in members:
                entry["sha256"] = hashlib.sha256(members[entry["file"]]).hexdigest()
    body = {k: v for k, v in man.items() if k != "manifest_sha256"}
    man["manifest_sha256"] = hashlib.sha256(
        json.dumps(body, sort_keys=True, separators=(",", ":"), allow_nan=False).encode()
    ).hexdigest()
    return man


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as zf:
        for n, data in members.items():
            zf.writestr(n, data)
    return buf.getvalue()


def crafted_catalogs(members: dict[str, bytes]):
    """Yield ``(label, file bytes)``: malformed catalogs, one defect each."""
    base = json.loads(members["manifest.json"])

    def with_manifest(change, arrays=None, resign=True):
        mem = dict(members)
        if arrays:
            for name, arr in arrays.items():
                mem[f"{name}.npy"] = _npy(arr)
        man = json.loads(json.dumps(base))
        if arrays:
            for name, arr in arrays.items():
                man["arrays"][name]["dtype"] = arr.dtype.str
                man["arrays"][name]["shape"] = list(arr.shape)
        man = _resign(man, mem)  # the arrays' checksums first: a change to them stays
        change(man)
        if resign:
            man = _resign(man, {})
        mem["manifest.json"] = json.dumps(man).encode()
        return _zip(mem)

    def setter(*keys_and_value):
        *keys, value = keys_and_value

        def change(man):
            d = man
            for k in keys[:-1]:
                d = d[k]
            if value is _DELETE:
                del d[keys[-1]]
            else:
                d[keys[-1]] = value

        return change

    # settings out of range or of the wrong type
    for key, value in [("sr", 1), ("sr", 10**9), ("sr", "8000"), ("sr", 8000.5), ("sr", True), ("sr", None),
                       ("max_needle", 1e9), ("max_needle", "6"), ("storage", "float64"), ("storage", None),
                       ("whitening", "pca"), ("whitening", None), ("lpc_order", -1), ("lpc_order", 1.5),
                       ("speed_range", 5), ("speed_range", [0]), ("n_tracks", 3), ("n_tracks", -1),
                       ("total_samples", 10**12), ("tracks", {}), ("tracks", None), ("tracks", "x"),
                       ("arrays", []), ("arrays", None), ("sr", _DELETE), ("tracks", _DELETE)]:
        yield f"setting {key}={value!r}", with_manifest(setter(key, value))
    # track entries: missing keys, wrong types, out-of-range whitener fields
    for key in ("name", "n_samples", "offset", "source", "whitener_taps", "whitener_origin"):
        yield f"track without {key}", with_manifest(setter("tracks", 0, key, _DELETE))
    for key, value in [("name", 5), ("name", ""), ("name", "two"), ("n_samples", "10"), ("n_samples", True),
                       ("n_samples", 1.5), ("n_samples", 0), ("n_samples", 10**15), ("offset", -1),
                       ("offset", 3), ("source", None), ("whitener_taps", -3), ("whitener_taps", 10**6),
                       ("whitener_taps", 0), ("whitener_origin", 10**6), ("whitener_origin", -1),
                       ("whitener_origin", None), ("whitener_origin", 2.0)]:
        yield f"track {key}={value!r}", with_manifest(setter("tracks", 0, key, value))
    yield "track entry not a mapping", with_manifest(setter("tracks", 0, 7))
    # missing tracks: the last one dropped, with and without n_tracks adjusted
    def drop_last(man, adjust):
        man["tracks"].pop()
        if adjust:
            man["n_tracks"] -= 1
    yield "missing track", with_manifest(lambda man: drop_last(man, False))
    yield "missing track, n_tracks adjusted", with_manifest(lambda man: drop_last(man, True))
    # the arrays table
    for key, value in [("file", 5), ("file", "../samples.npy"), ("file", "acf.npy"), ("dtype", "|O"),
                       ("dtype", "garbage"), ("dtype", ">f2"), ("shape", "abc"), ("shape", [-1]),
                       ("shape", [10**15]), ("shape", [True]), ("sha256", None), ("sha256", "00"),
                       ("sha256", _DELETE)]:
        yield f"arrays.samples.{key}={value!r}", with_manifest(setter("arrays", "samples", key, value))
    yield "arrays.samples not a mapping", with_manifest(setter("arrays", "samples", "x"))
    yield "array missing from the table", with_manifest(setter("arrays", "acf", _DELETE))
    # array contents: NaN, infinities, wrong dtype and dimensions, resigned
    samples = np.lib.format.read_array(io.BytesIO(members["samples.npy"]))
    whiteners = np.lib.format.read_array(io.BytesIO(members["whiteners.npy"]))
    acf = np.lib.format.read_array(io.BytesIO(members["acf.npy"]))
    bad = samples.copy()
    bad[100] = np.nan
    yield "NaN sample", with_manifest(lambda man: None, {"samples": bad})
    bad = samples.copy()
    bad[-1] = np.inf
    yield "infinite sample", with_manifest(lambda man: None, {"samples": bad})
    bad = whiteners.copy()
    bad[3] = np.nan
    yield "NaN whitener", with_manifest(lambda man: None, {"whiteners": bad})
    bad = acf.copy()
    bad[0, 1] = np.inf
    yield "infinite acf", with_manifest(lambda man: None, {"acf": bad})
    yield "samples as float32", with_manifest(lambda man: None, {"samples": samples.astype(np.float32)})
    yield "samples 2-D", with_manifest(lambda man: None, {"samples": samples.reshape(1, -1)})
    yield "whiteners as float32", with_manifest(lambda man: None, {"whiteners": whiteners.astype(np.float32)})
    yield "samples shorter", with_manifest(lambda man: None, {"samples": samples[:-10]})
    yield "samples longer", with_manifest(lambda man: None, {"samples": np.r_[samples, samples[:10]]})
    yield "whiteners longer", with_manifest(lambda man: None, {"whiteners": np.r_[whiteners, 0.0]})
    yield "acf wrong shape", with_manifest(lambda man: None, {"acf": acf[:, :5].copy()})
    # the stored search index (version 3): values, rows, dtypes, the manifest's entry
    spectra = np.lib.format.read_array(io.BytesIO(members["index_spectra.npy"]))
    energy = np.lib.format.read_array(io.BytesIO(members["index_energy.npy"]))
    bad = spectra.copy()
    bad[1, 7] = complex(np.nan, 0.0)
    yield "NaN in the index", with_manifest(lambda man: None, {"index_spectra": bad})
    bad = energy.copy()
    bad[-1, 0] = np.inf
    yield "infinite band energy", with_manifest(lambda man: None, {"index_energy": bad})
    yield "index a block short", with_manifest(lambda man: None, {"index_spectra": spectra[:-1].copy()})
    yield "index a frame long", with_manifest(lambda man: None, {"index_energy": np.r_[energy, energy[:1]]})
    yield "index as complex128", with_manifest(lambda man: None, {"index_spectra": spectra.astype(np.complex128)})
    yield "band energies as float64", with_manifest(lambda man: None, {"index_energy": energy.astype(np.float64)})
    yield "index entry not a mapping", with_manifest(setter("index", [1, 2]))
    yield "index declared, arrays missing", with_manifest(
        lambda man: [man["arrays"].pop("index_spectra"), man["arrays"].pop("index_energy")])
    # a .npy header that declares a huge shape over a few bytes (the manifest agreeing)
    data_at = len(members["samples.npy"]) - samples.nbytes  # the header's length
    hdr = {"descr": samples.dtype.str, "fortran_order": False, "shape": (10**12,)}
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, hdr)
    bomb_npy = buf.getvalue() + members["samples.npy"][data_at:]
    mem = dict(members)
    mem["samples.npy"] = bomb_npy
    man = json.loads(json.dumps(base))
    man["arrays"]["samples"]["shape"] = [10**12]
    man["total_samples"] = 10**12
    mem["manifest.json"] = json.dumps(_resign(man, mem)).encode()
    yield "npy header declaring 10**12 samples", _zip(mem)
    mem = dict(members)
    mem["samples.npy"] = bomb_npy
    mem["manifest.json"] = json.dumps(_resign(base, mem)).encode()
    yield "npy header disagreeing with the manifest", _zip(mem)
    mem = dict(members)
    mem["samples.npy"] = members["samples.npy"][:200]
    mem["manifest.json"] = json.dumps(_resign(base, mem)).encode()
    yield "npy data truncated", _zip(mem)
    mem = dict(members)
    mem["samples.npy"] = b"\x93NUMPY\x09\x00" + members["samples.npy"][8:]
    mem["manifest.json"] = json.dumps(_resign(base, mem)).encode()
    yield "npy unknown version", _zip(mem)
    # raw manifests: not JSON, nested, constants, duplicate keys, huge numbers, not an object
    for label, raw in [
        ("nested JSON", b"[" * 200_000 + b"]" * 200_000),
        ("nested objects", b'{"a":' * 100_000 + b"1" + b"}" * 100_000),
        ("NaN constant", members["manifest.json"].replace(b'"sr": 8000', b'"sr": NaN')),
        ("Infinity constant", members["manifest.json"].replace(b'"sr": 8000', b'"sr": Infinity')),
        ("duplicate key", members["manifest.json"].replace(b'"sr": 8000', b'"sr": 8000, "sr": 8000')),
        ("huge integer", members["manifest.json"].replace(b'"sr": 8000', b'"sr": ' + b"9" * 5000)),
        ("huge float", members["manifest.json"].replace(b'"sr": 8000', b'"sr": 1e400')),
        ("a list", b"[1, 2]"),
        ("a string", b'"tsconv-audio-catalog"'),
        ("not UTF-8", b"\xff\xfe{}"),
        ("empty", b""),
        ("version true", members["manifest.json"].replace(_VERSION_FIELD, b'"version": true')),
        ("version 1.0", members["manifest.json"].replace(_VERSION_FIELD, b'"version": 1.0')),
        ("version 2.0", members["manifest.json"].replace(_VERSION_FIELD, b'"version": 2.0')),
        ("version 3.0", members["manifest.json"].replace(_VERSION_FIELD, b'"version": 3.0')),
        ("version 4.0", members["manifest.json"].replace(_VERSION_FIELD, b'"version": 4.0')),
        ("the next version", members["manifest.json"].replace(_VERSION_FIELD,
                                                              f'"version": {catalog_mod.VERSION + 1}'.encode())),
    ]:
        mem = dict(members)
        mem["manifest.json"] = raw
        yield f"manifest {label}", _zip(mem)
    # the container: extra, duplicate, missing, compressed and encrypted-flagged members
    mem = dict(members)
    mem["evil.npy"] = _npy(np.zeros(3))
    yield "unlisted member", _zip(mem)
    mem = dict(members)
    del mem["acf.npy"]
    yield "missing member", _zip(mem)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for n, data in members.items():
            zf.writestr(n, data)
        with pytest.warns(UserWarning, match="Duplicate"):
            zf.writestr("acf.npy", members["acf.npy"])
    yield "duplicate member", buf.getvalue()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for n, data in members.items():
            zf.writestr(n, data, compress_type=zipfile.ZIP_DEFLATED if n == "samples.npy" else zipfile.ZIP_STORED)
    yield "deflated member", buf.getvalue()
    raw = bytearray(_zip(members))
    cd = raw.rfind(b"PK\x01\x02")  # the last central directory entry: set its encryption flag
    raw[cd + 8] |= 0x1
    yield "encrypted flag", bytes(raw)
    raw = bytearray(_zip(members))
    cd = raw.find(b"PK\x01\x02")  # the first central directory entry: lie about its sizes
    raw[cd + 20 : cd + 28] = (2**31).to_bytes(4, "little") * 2
    yield "sizes larger than the file", bytes(raw)
    raw = bytearray(_zip(members))
    cd = raw.find(b"PK\x01\x02")
    raw[cd + 10 : cd + 12] = (99).to_bytes(2, "little")  # an unknown compression method
    yield "unknown compression method", bytes(raw)


class _Delete:
    def __repr__(self) -> str:
        return "<deleted>"


_DELETE = _Delete()


def test_every_crafted_catalog_raises_catalog_error(small, tmp_path):
    _, members = small
    labels = []
    for i, (label, data) in enumerate(crafted_catalogs(members)):
        p = tmp_path / f"crafted{i}.tsca"
        p.write_bytes(data)
        try:
            Matcher.load(p)
        except CatalogError:
            labels.append(label)
            continue
        except Exception as exc:  # noqa: BLE001 - the test's point: nothing but CatalogError
            pytest.fail(f"crafted catalog {label!r} raised {type(exc).__name__}: {exc}")
        pytest.fail(f"crafted catalog {label!r} loaded")
    assert len(labels) > 100  # the corpus really ran


def test_the_generator_starts_from_a_valid_catalog(small, tmp_path):
    # the control: the same re-signing and re-zipping, without a defect, loads
    path, members = small
    man = _resign(json.loads(members["manifest.json"]), members)
    p = tmp_path / "resigned.tsca"
    p.write_bytes(_zip(dict(members, **{"manifest.json": json.dumps(man).encode()})))
    assert Matcher.load(p).tracks == Matcher.load(path).tracks == ["one", "two"]


def test_byte_flips_raise_catalog_error_or_change_nothing(small, tmp_path):
    path, _ = small
    raw = path.read_bytes()
    good = Matcher.load(path)
    rng = np.random.default_rng(17)
    # every byte of the manifest's region and of the ZIP directory, and a sample of the rest
    man_at = raw.find(b"manifest.json")
    cd = raw.find(b"PK\x01\x02")
    positions = set(range(max(man_at - 30, 0), min(man_at + 600, len(raw))))
    positions |= set(range(cd, len(raw)))
    positions |= set(int(i) for i in rng.choice(len(raw), 400, replace=False))
    p = tmp_path / "flip.tsca"
    loaded_same = 0
    for pos in sorted(positions):
        bad = bytearray(raw)
        bad[pos] ^= 1 << int(rng.integers(8))
        p.write_bytes(bytes(bad))
        try:
            m = Matcher.load(p)
        except CatalogError:
            continue
        except Exception as exc:  # noqa: BLE001
            pytest.fail(f"a flipped byte at {pos} raised {type(exc).__name__}: {exc}")
        # a flip in a byte that carries no content (a ZIP timestamp, a comment) may load:
        # then the catalog must be the same
        assert m.tracks == good.tracks
        for a, b in zip(m._tracks, good._tracks):
            assert np.array_equal(a.data, b.data) and a.source == b.source
        loaded_same += 1
    assert loaded_same < len(positions) // 2


def _deflate_bomb(path, members, size):
    """``samples.npy`` declared (and checksummed) as ``size`` bytes of zeros, deflated."""
    header = io.BytesIO()
    n = (size - 128) // 2
    np.lib.format.write_array_header_1_0(header, {"descr": "<f2", "fortran_order": False, "shape": (n,)})
    head = header.getvalue()
    sha = hashlib.sha256(head)
    zeros = bytes(2**20)
    left = n * 2
    man = json.loads(members["manifest.json"])
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        with zf.open("samples.npy", "w", force_zip64=True) as fh:
            fh.write(head)
            while left:
                chunk = zeros[: min(left, len(zeros))]
                fh.write(chunk)
                sha.update(chunk)
                left -= len(chunk)
        for name in ("whiteners.npy", "acf.npy"):
            zf.writestr(name, members[name], compress_type=zipfile.ZIP_STORED)
        man["arrays"]["samples"]["shape"] = [n]
        man["arrays"]["samples"]["sha256"] = sha.hexdigest()
        man["total_samples"] = n
        man = _resign(man, {})
        man["arrays"]["samples"]["sha256"] = sha.hexdigest()
        man = _resign(man, {})
        zf.writestr("manifest.json", json.dumps(man), compress_type=zipfile.ZIP_STORED)


def test_decompression_bomb_refused_in_little_memory(small, tmp_path):
    # 400 MB of zeros deflate to about 0.4 MB; before, the loader inflated them all
    _, members = small
    p = tmp_path / "bomb.tsca"
    _deflate_bomb(p, members, 400 * 2**20)
    assert os.path.getsize(p) < 2 * 2**20
    tracemalloc.start()
    try:
        with pytest.raises(CatalogError, match="compressed"):
            Matcher.load(p)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 100 * 2**20, f"peak {peak / 2**20:.0f} MB"


def test_npy_header_bomb_refused_in_little_memory(small, tmp_path):
    _, members = small
    for label, data in crafted_catalogs(members):
        if label == "npy header declaring 10**12 samples":
            break
    p = tmp_path / "hbomb.tsca"
    p.write_bytes(data)
    tracemalloc.start()
    try:
        with pytest.raises(CatalogError, match="too small|declares"):
            Matcher.load(p)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 100 * 2**20, f"peak {peak / 2**20:.0f} MB"


def test_saved_files_follow_the_umask(small, tmp_path):
    _, _ = small
    m = Matcher()
    m.add("one", synth_track(1.0, SR, seed=1), SR)
    for mask in (0o022, 0o077, 0o002):
        old = os.umask(mask)
        try:
            p = tmp_path / f"u{mask:o}.tsca"
            m.save(p)
        finally:
            os.umask(old)
        assert stat.S_IMODE(os.stat(p).st_mode) == 0o666 & ~mask


_KILLED_SAVE = textwrap.dedent(
    """
    import os, sys, zipfile
    from tsconv.audio import Matcher, catalog
    from tsconv.audio._synth import synth_track
    m = Matcher()
    m.add("one", synth_track(1.0, 8000, seed=1), 8000)
    real = catalog._write_member
    def stall(zf, member, data):
        real(zf, member, data)
        print("writing", flush=True)
        sys.stdin.readline()  # wait here, mid-save, until killed
    catalog._write_member = stall
    m.save(sys.argv[1])
    """
)


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_temp_files_of_killed_saves_are_removed_by_the_next_save_or_load(small, tmp_path, sig):
    path, _ = small
    target = tmp_path / "cat.tsca"
    target.write_bytes(path.read_bytes())
    for _ in range(2):
        proc = subprocess.Popen([sys.executable, "-c", _KILLED_SAVE, str(target)], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, text=True, cwd=os.getcwd())
        assert proc.stdout.readline().strip() == "writing"
        proc.send_signal(sig)
        proc.wait(timeout=60)
        proc.stdout.close()
        proc.stdin.close()
    left = [f for f in os.listdir(tmp_path) if f.startswith(".tmp-")]
    assert len(left) == 1  # the second writer removed the first one's file, and left its own
    Matcher.load(target)  # the previous catalog is intact, and loading cleans up
    assert [f for f in os.listdir(tmp_path) if f.startswith(".tmp-")] == []
    # the same after a save; a temp file of a live writer (this process) is left alone
    live = tmp_path / f".tmp-cat.tsca.{os.getpid()}.abc.tsconv-catalog"
    live.write_bytes(b"x")
    dead = tmp_path / ".tmp-cat.tsca.999999999.abc.tsconv-catalog"
    dead.write_bytes(b"x")
    other = tmp_path / ".tmp-other.tsca.999999999.abc.tsconv-catalog"
    other.write_bytes(b"x")
    Matcher.load(target).save(target)
    assert sorted(f for f in os.listdir(tmp_path) if f.startswith(".tmp-")) == sorted([live.name, other.name])


def test_saving_into_a_missing_directory_names_the_catalog(tmp_path):
    from tsconv.audio import Matcher
    from tsconv.audio._synth import synth_track

    m = Matcher()
    m.add("a", synth_track(2.0, 8000, seed=1), 8000)
    target = tmp_path / "nowhere" / "c.tsca"
    with pytest.raises(FileNotFoundError, match=r"cannot write .*c\.tsca.*does not exist"):
        m.save(target)


def test_saving_to_an_empty_path_or_a_directory_names_it_before_writing(tmp_path, monkeypatch):
    # '' used to write the whole catalog beside the working directory, then fail to move it
    # there; a directory failed only after the whole file was written, naming the temp file
    import tsconv
    from tsconv.audio import Matcher
    from tsconv.audio._synth import synth_track

    m = Matcher()
    m.add("a", synth_track(2.0, 8000, seed=1), 8000)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match=r"path must name a file, got ''"):
        m.save("")
    (tmp_path / "folder").mkdir()
    with pytest.raises(IsADirectoryError, match=r"cannot write .*folder.*: it is a directory"):
        m.save(tmp_path / "folder")
    fit = tsconv.fit_arima(np.sin(np.arange(60.0)) + np.arange(60.0), (1, 0, 0))
    with pytest.raises(IsADirectoryError, match="it is a directory"):
        fit.save(tmp_path / "folder")  # models are written by the same function
    assert sorted(os.listdir(tmp_path)) == ["folder"] and os.listdir(tmp_path / "folder") == []
    assert not any(f.startswith(".tmp-") for f in os.listdir(tmp_path.parent))
