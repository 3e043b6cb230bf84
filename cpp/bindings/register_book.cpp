// Delta-hedged book P&L: check arrays and indices, then run the engine without the GIL.
#include "prelude.hpp"

#include <cstdint>
#include <optional>
#include <tuple>

#include "dispersionkit/book.hpp"

namespace {

using namespace dk;
using namespace dk::bind;

// (hedge, every, band, cost_bps, half_spread_vol)
using Policy = std::tuple<bool, std::int64_t, double, double, double>;

void run_hedged_pnl(const py::array& spots, const py::array& vols, const py::array& leg_index,
                    const py::array& leg_terms, const py::array& div_yield, double rate, double dt,
                    const Policy& policy, py::array& summary, py::array& leg_gamma_theta,
                    std::optional<py::array> steps, std::optional<py::array> leg_steps, int threads) {
    if (spots.ndim() != 3) throw py::value_error("spots: expected (paths, steps + 1, underlyings)");
    const auto P = spots.shape(0), T1 = spots.shape(1), m = spots.shape(2);
    if (T1 < 2) throw py::value_error("spots: need at least two dates (one step)");
    const py::ssize_t T = T1 - 1;
    contiguous_input<double>(spots, {P, T1, m}, "spots");
    if (leg_index.ndim() != 2 || leg_index.shape(0) != 3)
        throw py::value_error("leg_index: expected (3, legs)");
    const auto L = leg_index.shape(1);
    const auto* idx = contiguous_input<std::int64_t>(leg_index, {3, L}, "leg_index");
    const auto* terms = contiguous_input<double>(leg_terms, {4, L}, "leg_terms");
    const auto* div = contiguous_input<double>(div_yield, {m}, "div_yield");

    require_dtype<double>(vols, "vols");
    require_aligned(vols, "vols");
    if (vols.ndim() != 3 || vols.shape(0) != P || vols.shape(1) != T1)
        throw py::value_error("vols: not broadcast to (paths, steps + 1, columns)");
    const auto K = vols.shape(2);
    for (py::ssize_t l = 0; l < L; ++l) {
        if (idx[l] < 0 || idx[l] >= m) throw py::value_error("leg_index: underlying out of range");
        if (idx[L + l] < 0 || idx[L + l] >= K) throw py::value_error("leg_index: vol column out of range");
        if (idx[2 * L + l] < 1) throw py::value_error("leg_index: expiry step must be >= 1");
    }
    if (std::get<1>(policy) < 0) throw py::value_error("policy: every must be >= 0");
    if (!(dt > 0.0)) throw py::value_error("dt: must be > 0");

    BookLegs legs;
    legs.n_legs = static_cast<std::size_t>(L);
    legs.underlying = idx;
    legs.vol_column = idx + L;
    legs.expiry_step = idx + 2 * L;
    legs.strike = terms;
    legs.expiry = terms + L;
    legs.is_call = terms + 2 * L;
    legs.quantity = terms + 3 * L;

    BookMarket market;
    market.paths = static_cast<std::size_t>(P);
    market.steps = static_cast<std::size_t>(T);
    market.m = static_cast<std::size_t>(m);
    market.vol_columns = static_cast<std::size_t>(K);
    market.spots = static_cast<const double*>(spots.data());
    market.vols = static_cast<const double*>(vols.data());
    for (int d = 0; d < 3; ++d) {
        if (vols.strides(d) % static_cast<py::ssize_t>(sizeof(double)) != 0)
            throw py::value_error("vols: strides must be multiples of 8 bytes");
        market.vol_stride[d] = vols.strides(d) / static_cast<py::ssize_t>(sizeof(double));
    }
    market.div_yield = div;
    market.rate = rate;
    market.dt = dt;

    HedgeRules rules;
    std::tie(rules.hedge, rules.every, rules.band, rules.cost_bps, rules.half_spread_vol) = policy;

    BookOut out;
    out.summary = contiguous_output<double>(summary, {static_cast<py::ssize_t>(kSummaryRows), P}, "summary");
    out.leg_gamma_theta = contiguous_output<double>(leg_gamma_theta, {P, L}, "leg_gamma_theta");
    if (steps)
        out.steps = contiguous_output<double>(*steps, {static_cast<py::ssize_t>(kStepRows), P, T}, "steps");
    if (leg_steps) out.leg_gamma_theta_steps = contiguous_output<double>(*leg_steps, {P, T, L}, "leg_steps");

    py::gil_scoped_release release;
    dk::hedged_pnl(legs, market, rules, out, threads);
}

}  // namespace

void register_book(py::module_& m) {
    m.def("hedged_pnl", &run_hedged_pnl, py::arg("spots"), py::arg("vols"), py::arg("leg_index"),
          py::arg("leg_terms"), py::arg("div_yield"), py::arg("rate"), py::arg("dt"), py::arg("policy"),
          py::arg("summary"), py::arg("leg_gamma_theta"), py::arg("steps"), py::arg("leg_steps"),
          py::arg("threads"),
          "Delta-hedged book P&L over (paths, steps). leg_index int64 (3, L): underlying, vol column, "
          "expiry step; leg_terms float64 (4, L): strike, expiry, is_call, quantity. policy: (hedge, every, "
          "band, cost_bps, half_spread_vol). Fills the "
          "preallocated summary (14, P), leg_gamma_theta (P, L) and optional steps (17, P, T) and "
          "leg_steps (P, T, L).");
}
