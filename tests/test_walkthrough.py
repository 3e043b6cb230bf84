"""docs/option-data-walkthrough.md runs as written on the bundled samples, and what it builds is right."""

import re
from pathlib import Path

import numpy as np
import pytest

from dispersionkit.backtest.attribution import EXPLAIN_COLUMNS, GREEK_COLUMNS

PAGE = Path(__file__).resolve().parents[1] / "docs" / "option-data-walkthrough.md"


@pytest.fixture(scope="module")
def page():
    namespace: dict = {}
    for block in re.findall(r"```python\n(.*?)```", PAGE.read_text(), re.S):
        exec(compile(block, str(PAGE), "exec"), namespace)
    return namespace


def test_long_format_to_surfaces_and_implied_correlation(page):
    market, term, skew = page["market"], page["term"], page["skew"]
    assert market.options_report["used"] > 14_000
    assert len(page["rejected"]) == market.options_report.drop("used").sum()
    assert list(term.columns) == [30, 91, 182]
    assert np.isfinite(term.to_numpy()).all() and np.isfinite(skew.to_numpy()).all()
    assert ((term > 0.2) & (term < 0.8)).all().all()
    assert (skew > term[30]).all()  # the index's skew is steeper than its components'
    assert (term[30] - page["cor1m"]).abs().max() < 0.01


def test_backtests_price_every_leg_at_its_own_strike_and_tenor(page):
    for results in (page["results"], page["om_results"], page["orats_results"]):
        assert set(results) == {"long strangle", "short straddle", "calendar"}
        for result in results.values():
            assert len(result.journal) > 0
            assert np.isfinite(result.pnl.to_numpy()).all()
            lines = result.attribution[list(GREEK_COLUMNS)].sum(axis=1)
            np.testing.assert_allclose(lines, result.pnl, atol=1e-6)
            explained = result.explain[list(EXPLAIN_COLUMNS)].sum(axis=1)
            np.testing.assert_allclose(explained, result.pnl, atol=1e-6)
    legs = page["legs"]
    index_legs = legs[legs["underlying"] == "INDEX"]
    assert index_legs["vol"].nunique() == 2  # the strangle's put and call at different vols


def test_vendor_paths_reach_the_same_market(page):
    # Same synthetic market in three layouts: implied correlation agrees where they overlap.
    term, om_term, orats_term = page["term"], page["om_term"], page["orats_term"]
    dates = om_term.index
    assert np.max(np.abs(om_term[30] - term.loc[dates, 30])) < 0.02
    assert np.max(np.abs(orats_term.loc[dates[:30], 30] - term.loc[dates[:30], 30])) < 0.02
    assert np.isfinite(page["om_skew"]).all()
