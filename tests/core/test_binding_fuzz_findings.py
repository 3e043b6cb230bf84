"""Inputs the binding fuzzer (fuzz/fuzz_core.py) found crashing the process, pinned: each must
now end in a Python exception. Each runs in a child process, so a regression is a failed test
rather than the end of the suite."""

import subprocess
import sys

SURFACE_ENTRY_NOT_AN_ARRAY = """
import numpy as np
from dispersionkit import _core
from dispersionkit.numeric import surface
taus = np.array([0.1, 0.1, 0.5, 0.5])
k = np.array([-0.2, 0.2, -0.2, 0.2])
grid = surface.build_surface_grid(np.zeros(4, dtype=np.int64), taus, k, 0.04 * taus, 0.01 * taus, 1)
names = ("group_start", "slice_start", "slice_tau", "slice_logfwd", "node_k", "node_w", "node_slope")
arrays = {name: getattr(grid, name) for name in names}
arrays["slice_logfwd"] = None  # not an array: was read as one (segfault)
try:
    _core.surface_query(
        surface=arrays, group=np.zeros(1, dtype=np.int64), tau=np.full(1, 0.2), x=np.zeros(1),
        log_spot_moneyness=True, vol=np.empty(1), logfwd=np.empty(1), threads=1,
    )
except TypeError as error:
    assert "slice_logfwd" in str(error), error
else:
    raise SystemExit("no error")
"""


def test_surface_dict_entry_that_is_not_an_array_is_a_type_error():
    completed = subprocess.run([sys.executable, "-c", SURFACE_ENTRY_NOT_AN_ARRAY], capture_output=True, timeout=120)
    assert completed.returncode == 0, (completed.returncode, completed.stderr.decode()[-2000:])
