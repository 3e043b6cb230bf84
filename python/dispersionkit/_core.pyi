"""Type stubs for the C++ extension. The validated public API lives in the Python modules;
these functions check dtypes/shapes again but expect already-validated, preallocated arrays."""

import numpy as np

def hardware_threads() -> int: ...

# Black-Scholes-Merton (register_greeks.cpp)
def bs_greeks(inputs: list[np.ndarray], outputs: list[np.ndarray], threads: int) -> None: ...
def bs_price(inputs: list[np.ndarray], out: np.ndarray, threads: int) -> None: ...

# Implied volatility (register_implied_vol.cpp)
def implied_vol(inputs: list[np.ndarray], out: np.ndarray, status: np.ndarray | None, threads: int) -> None: ...

# Correlation (register_correlation.cpp)
def quadform_shared(corr: np.ndarray, u: np.ndarray, out: np.ndarray, threads: int) -> None: ...
def quadform_per_date(corr: np.ndarray, u: np.ndarray, out: np.ndarray, threads: int) -> None: ...
def equicorrelation(
    index_vol: np.ndarray, vols: np.ndarray, weights: np.ndarray, out: np.ndarray, threads: int
) -> None: ...
def rolling_std(
    returns: np.ndarray, window: int, min_periods: int, scale: float, out: np.ndarray, threads: int
) -> None: ...
def rolling_pairwise_corr(
    returns: np.ndarray,
    window: int,
    min_periods: int,
    weights: np.ndarray | None,
    avg: np.ndarray | None,
    matrix: np.ndarray | None,
    threads: int,
) -> None: ...

# Correlated paths (register_paths.cpp)
def simulate_market(
    spot0: np.ndarray,
    log_spot0: np.ndarray,
    drift_term: np.ndarray,
    diffusion: np.ndarray,
    chol: np.ndarray,
    cum_transition: np.ndarray | None,
    schedule: np.ndarray | None,
    initial: int,
    shares: np.ndarray,
    seed: int,
    first_path: int,
    components: np.ndarray,
    index: np.ndarray,
    regime: np.ndarray | None,
    threads: int,
) -> None: ...
def philox4x32_10(c0: int, c1: int, c2: int, c3: int, k0: int, k1: int) -> tuple[int, int, int, int]: ...

# Hedged book (register_book.cpp)
def hedged_pnl(
    spots: np.ndarray,
    vols: np.ndarray,
    leg_index: np.ndarray,
    leg_terms: np.ndarray,
    div_yield: np.ndarray,
    rate: float,
    dt: float,
    policy: tuple[bool, int, float, float, float],
    summary: np.ndarray,
    leg_gamma_theta: np.ndarray,
    steps: np.ndarray | None,
    leg_steps: np.ndarray | None,
    threads: int,
) -> None: ...

# Volatility surfaces (register_surface.cpp); ``surface`` maps array names to arrays.
def surface_sort(
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
    surface: dict[str, np.ndarray], tolerance: float, slope: np.ndarray, flags: np.ndarray, threads: int
) -> None: ...
def surface_query(
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
