"""read_catalog(mmap=True): the same arrays as a full read, read-only maps, damage caught."""

from __future__ import annotations

import numpy as np
import pytest

from tsconv.audio.catalog import CatalogError, read_catalog, write_catalog


def _write(path):
    rng = np.random.default_rng(0)
    arrays = {
        "samples": rng.standard_normal(10_001).astype("<f2"),
        "bands": rng.standard_normal((37, 5)).astype("<f4"),
        "fortran": np.asfortranarray(rng.standard_normal((4, 6))),
        "empty": np.zeros(0, dtype="<f8"),
    }
    write_catalog(path, {"tracks": []}, arrays)
    return arrays


def test_mapped_arrays_equal_read_arrays(tmp_path):
    path = tmp_path / "c.zip"
    written = _write(path)
    _, read = read_catalog(path)
    _, mapped = read_catalog(path, mmap=True)
    assert set(mapped) == set(read) == set(written)
    for name in written:
        np.testing.assert_array_equal(mapped[name], written[name])
        np.testing.assert_array_equal(mapped[name], read[name])
        assert mapped[name].dtype == written[name].dtype
    assert isinstance(mapped["samples"], np.memmap)
    with pytest.raises(ValueError):
        mapped["samples"][0] = 1


def test_damaged_mapped_member_is_caught_at_load(tmp_path):
    path = tmp_path / "c.zip"
    written = _write(path)
    raw = bytearray(path.read_bytes())
    needle = written["samples"][100:116].tobytes()
    at = raw.find(needle)
    assert at > 0
    raw[at] ^= 0xFF
    path.write_bytes(bytes(raw))
    with pytest.raises(CatalogError, match="checksum mismatch"):
        read_catalog(path, mmap=True)
