"""The synthetic option-data samples are exactly what the project's script writes."""

import gzip
from pathlib import Path

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


def test_installed_package_ships_the_samples():
    if "site-packages" not in Path(dk.__file__).parts:
        pytest.skip("imported from the source tree (editable install): CI checks the installed wheel")
    for name in dk.data.SAMPLE_FILES:
        assert dk.data.sample_file(name).is_file(), name


def test_the_documented_example_is_the_sample():
    page = (Path(__file__).resolve().parents[1] / "docs" / "data-formats.md").read_text()
    example = page.split("date,underlying,expiry,strike,option_type", 1)[1].split("```", 1)[0]
    with gzip.open(dk.data.sample_file("options_long.csv.gz"), "rt") as handle:
        head = [next(handle) for _ in range(6)]
    assert "date,underlying,expiry,strike,option_type" + example == "".join(head)
