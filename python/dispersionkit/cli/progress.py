"""Progress bars for the command line: tqdm on stderr, off when stderr is not a terminal or with --quiet.

Without tqdm installed the bars are silently absent (the output is the same).
"""

from __future__ import annotations

import sys
from contextlib import contextmanager


class Bar:
    """A bar of ``total`` units: ``to(position)`` moves it, ``step()`` adds one, ``describe(text)`` relabels."""

    def __init__(self, bar=None):
        self._bar = bar
        self.position = 0.0

    def to(self, position: float) -> None:
        self.position = position
        if self._bar is not None:
            self._bar.n = round(position, 2)
            self._bar.refresh()

    def step(self, units: float = 1.0) -> None:
        self.to(self.position + units)

    def describe(self, text: str) -> None:
        if self._bar is not None:
            self._bar.set_description_str(text)

    def days(self, offset: float = 0.0):
        """A ``progress(done, total)`` callback for one backtest that fills one unit from ``offset``."""
        return lambda done, total: self.to(offset + (done / total if total else 1.0))


@contextmanager
def progress(total: float, description: str, *, quiet: bool = False):
    """A :class:`Bar` drawn on stderr when it is a terminal (and not ``quiet``), else a silent one."""
    stream = sys.stderr
    if quiet or not getattr(stream, "isatty", lambda: False)():
        yield Bar()
        return
    try:
        from tqdm import tqdm
    except ImportError:
        yield Bar()
        return
    bar = tqdm(
        total=total,
        desc=description,
        file=stream,
        leave=False,
        dynamic_ncols=True,
        bar_format="{desc}: {percentage:3.0f}%|{bar}| {elapsed}<{remaining}",
    )
    try:
        yield Bar(bar)
    finally:
        bar.close()
