"""The synthetic option-data samples are exactly what the project's script writes."""

import pytest

import dispersionkit as dk
from dispersionkit.data import _make_samples


@pytest.mark.slow
def test_samples_are_reproducible(tmp_path):
    written = _make_samples.write(tmp_path)
    assert sorted(p.name for p in written) == sorted(dk.data.SAMPLE_FILES)
    for path in written:
        assert path.read_bytes() == dk.data.sample_file(path.name).read_bytes(), path.name


def test_sample_constants_match_the_script():
    assert dk.data.SAMPLE_RATE == _make_samples.RATE
    assert dk.data.SAMPLE_DIV_YIELDS == _make_samples.DIV_YIELDS
    assert {v: k for k, v in _make_samples.SECIDS.items()} == dk.data.SAMPLE_NAMES
    with pytest.raises(ValueError, match="name: expected one of"):
        dk.data.sample_file("nope.csv")
