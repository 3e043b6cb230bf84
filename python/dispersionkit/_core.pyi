"""Type stubs for the C++ extension. The validated public API lives in the Python modules;
these functions check their arguments again (errors name the argument) but expect validated,
preallocated arrays. Every function takes keyword arguments only; ``threads=0`` means all
cores. A long call stops on Ctrl-C (KeyboardInterrupt) with its outputs partly written."""

from typing import Protocol

import numpy as np

BUILD: str

def hardware_threads() -> int: ...

# Black-Scholes-Merton (register_greeks.cpp)
GREEK_NAMES: tuple[str, ...]

def bs_greeks(
    *,
    spot: np.ndarray,
    strike: np.ndarray,
    tau: np.ndarray,
    vol: np.ndarray,
    rate: np.ndarray,
    div_yield: np.ndarray,
    is_call: np.ndarray,
    out: object,  # one attribute per GREEK_NAMES name: an array, or None for a Greek not computed
    threads: int,
) -> None: ...
def bs_price(
    *,
    spot: np.ndarray,
    strike: np.ndarray,
    tau: np.ndarray,
    vol: np.ndarray,
    rate: np.ndarray,
    div_yield: np.ndarray,
    is_call: np.ndarray,
    out: np.ndarray,
    threads: int,
) -> None: ...

# Implied volatility (register_implied_vol.cpp)
IV_STATUS: dict[str, int]

def implied_vol(
    *,
    price: np.ndarray,
    spot: np.ndarray,
    strike: np.ndarray,
    tau: np.ndarray,
    rate: np.ndarray,
    div_yield: np.ndarray,
    is_call: np.ndarray,
    out: np.ndarray,
    status: np.ndarray | None,
    threads: int,
) -> None: ...

# Correlation (register_correlation.cpp)
def quadform_shared(
    *, corr: np.ndarray, weights: np.ndarray, vols: np.ndarray, out: np.ndarray, threads: int
) -> None: ...
def quadform_per_date(
    *, corr: np.ndarray, weights: np.ndarray, vols: np.ndarray, out: np.ndarray, threads: int
) -> None: ...
def symmetry_gap(*, corr: np.ndarray, threads: int) -> tuple[bool, float]: ...
def equicorrelation(
    *, index_vol: np.ndarray, vols: np.ndarray, weights: np.ndarray, out: np.ndarray, threads: int
) -> None: ...
def rolling_std(
    *, returns: np.ndarray, window: int, min_periods: int, scale: float, out: np.ndarray, threads: int
) -> None: ...
def rolling_pairwise_corr(
    *,
    returns: np.ndarray,
    window: int,
    min_periods: int,
    weights: np.ndarray | None,
    avg: np.ndarray | None,
    matrix: np.ndarray | None,
    threads: int,
) -> None: ...

# Correlated paths (register_paths.cpp)
class _PathModel(Protocol):
    """Read by attribute (dispersionkit.numeric._path_model.MarketModel)."""

    @property
    def spot0(self) -> np.ndarray: ...
    @property
    def log_spot0(self) -> np.ndarray: ...
    @property
    def drift_term(self) -> np.ndarray: ...
    @property
    def diffusion(self) -> np.ndarray: ...
    @property
    def chol(self) -> np.ndarray: ...
    @property
    def cum_transition(self) -> np.ndarray | None: ...
    @property
    def schedule(self) -> np.ndarray | None: ...
    @property
    def initial(self) -> int: ...
    @property
    def shares(self) -> np.ndarray: ...
    @property
    def seed(self) -> int: ...
    @property
    def first_path(self) -> int: ...

def simulate_market(
    *, model: _PathModel, components: np.ndarray, index: np.ndarray, regime: np.ndarray | None, threads: int
) -> None: ...
def philox4x32_10(*, counter: tuple[int, int, int, int], key: tuple[int, int]) -> tuple[int, int, int, int]: ...

# Hedged book (register_book.cpp)
PNL_SUMMARY_ROWS: tuple[str, ...]
PNL_STEP_ROWS: tuple[str, ...]

class HedgeRules:
    def __init__(
        self, *, hedge: bool, every: int | None, band: float | None, cost_bps: float, half_spread_vol: float
    ) -> None: ...
    @property
    def hedge(self) -> bool: ...
    @property
    def every(self) -> int | None: ...
    @property
    def band(self) -> float | None: ...
    @property
    def cost_bps(self) -> float: ...
    @property
    def half_spread_vol(self) -> float: ...

class _LegArrays(Protocol):
    """Read by attribute (dispersionkit.numeric._hedged_pnl_inputs.LegArrays)."""

    @property
    def underlying(self) -> np.ndarray: ...
    @property
    def vol_column(self) -> np.ndarray: ...
    @property
    def expiry_step(self) -> np.ndarray: ...
    @property
    def strike(self) -> np.ndarray: ...
    @property
    def expiry(self) -> np.ndarray: ...
    @property
    def is_call(self) -> np.ndarray: ...
    @property
    def quantity(self) -> np.ndarray: ...

def hedged_pnl(
    *,
    legs: _LegArrays,
    spots: np.ndarray,
    vols: np.ndarray,
    div_yield: np.ndarray,
    rate: float,
    dt: float,
    rules: HedgeRules,
    summary: np.ndarray,
    leg_gamma_theta: np.ndarray,
    steps: np.ndarray | None,
    leg_steps: np.ndarray | None,
    threads: int,
) -> None: ...

# Volatility surfaces (register_surface.cpp); ``surface`` maps array names to arrays.
def surface_sort(
    *,
    group: np.ndarray,
    tau: np.ndarray,
    k: np.ndarray,
    w: np.ndarray,
    logfwd: np.ndarray,
    n_groups: int,
    group_start: np.ndarray,
    order: np.ndarray,
    tau_out: np.ndarray,
    k_out: np.ndarray,
    w_out: np.ndarray,
    logfwd_out: np.ndarray,
    threads: int,
) -> None: ...
def surface_slopes(
    *, surface: dict[str, np.ndarray], tolerance: float, slope: np.ndarray, flags: np.ndarray, threads: int
) -> None: ...
def surface_query(
    *,
    surface: dict[str, np.ndarray],
    group: np.ndarray,
    tau: np.ndarray,
    x: np.ndarray,
    log_spot_moneyness: bool,
    vol: np.ndarray,
    logfwd: np.ndarray,
    threads: int,
) -> None: ...
def surface_delta_strike(
    *,
    surface: dict[str, np.ndarray],
    group: np.ndarray,
    tau: np.ndarray,
    d1: np.ndarray,
    k: np.ndarray,
    vol: np.ndarray,
    logfwd: np.ndarray,
    threads: int,
) -> None: ...

# Variance swaps (register_swaps.cpp)
def variance_swap_strike(
    *,
    strikes: np.ndarray,
    vols: np.ndarray,
    forward: np.ndarray,
    tau: np.ndarray,
    strike: np.ndarray,
    truncation_error: np.ndarray,
    discretisation_error: np.ndarray,
    threads: int,
) -> None: ...
