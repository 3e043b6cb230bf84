// Delta-hedged book P&L: check arrays and indices, then run the engine without the GIL.
#include "prelude.hpp"

#include <cstdint>
#include <optional>

#include "dispersionkit/book.hpp"

namespace {

using namespace dk;
using namespace dk::bind;

// One array per leg field, read by name from a Python object (dispersionkit's validated
// LegArrays): int64 underlying, vol_column, expiry_step; float64 strike, expiry, is_call,
// quantity. Held for the whole call.
struct LegArrays {
    py::array underlying, vol_column, expiry_step, strike, expiry, is_call, quantity;
};

LegArrays leg_arrays(const py::object& legs) {
    const auto field = [&](const char* name) {
        return array_arg(field_of(legs, "legs", name), (std::string("legs.") + name).c_str());
    };
    return {field("underlying"), field("vol_column"), field("expiry_step"), field("strike"),
            field("expiry"),     field("is_call"),    field("quantity")};
}

HedgeRules make_rules(bool hedge, const py::object& every, const py::object& band, const py::object& cost_bps,
                      const py::object& half_spread_vol) {
    HedgeRules rules;
    rules.hedge = hedge;
    if (!every.is_none()) rules.every = integer_arg<std::int64_t>(every, "every", 1);
    if (!band.is_none()) {
        rules.band = real_arg(band, "band");
        if (*rules.band < 0.0) throw py::value_error("band: must be >= 0 shares");
    }
    rules.cost_bps = real_arg(cost_bps, "cost_bps");
    rules.half_spread_vol = real_arg(half_spread_vol, "half_spread_vol");
    if (rules.cost_bps < 0.0) throw py::value_error("cost_bps: must be >= 0");
    if (rules.half_spread_vol < 0.0) throw py::value_error("half_spread_vol: must be >= 0");
    return rules;
}

void run_hedged_pnl(const py::object& legs_arg, const py::object& spots_arg, const py::object& vols_arg,
                    const py::object& div_yield_arg, const py::object& rate_arg, const py::object& dt_arg,
                    const py::object& rules_arg, const py::object& summary_arg,
                    const py::object& leg_gamma_theta_arg, const py::object& steps_arg,
                    const py::object& leg_steps_arg, const py::object& threads) {
    const int nthreads = integer_arg<int>(threads, "threads", 0);
    const double rate = real_arg(rate_arg, "rate");
    const double dt = real_arg(dt_arg, "dt");
    if (!(dt > 0.0)) throw py::value_error("dt: must be > 0");
    if (!py::isinstance<HedgeRules>(rules_arg))
        throw py::type_error("rules: expected a _core.HedgeRules, got " + type_name(rules_arg));
    const HedgeRules rules = rules_arg.cast<HedgeRules>();
    const LegArrays legs_in = leg_arrays(legs_arg);
    const py::array spots = array_arg(spots_arg, "spots");
    const py::array vols = array_arg(vols_arg, "vols");
    const py::array div_yield = array_arg(div_yield_arg, "div_yield");
    py::array summary = array_arg(summary_arg, "summary");
    py::array leg_gamma_theta = array_arg(leg_gamma_theta_arg, "leg_gamma_theta");
    std::optional<py::array> steps = optional_array_arg(steps_arg, "steps");
    std::optional<py::array> leg_steps = optional_array_arg(leg_steps_arg, "leg_steps");

    if (spots.ndim() != 3) throw py::value_error("spots: expected (paths, steps + 1, underlyings)");
    const auto P = spots.shape(0), T1 = spots.shape(1), m = spots.shape(2);
    if (T1 < 2) throw py::value_error("spots: need at least two dates (one step)");
    const py::ssize_t T = T1 - 1;
    contiguous_input<double>(spots, {P, T1, m}, "spots");
    if (legs_in.underlying.ndim() != 1) throw py::value_error("legs.underlying: expected shape (legs,)");
    const py::ssize_t L = legs_in.underlying.shape(0);
    const auto* underlying = contiguous_input<std::int64_t>(legs_in.underlying, {L}, "legs.underlying");
    const auto* vol_column = contiguous_input<std::int64_t>(legs_in.vol_column, {L}, "legs.vol_column");
    const auto* expiry_step = contiguous_input<std::int64_t>(legs_in.expiry_step, {L}, "legs.expiry_step");
    const auto* div = contiguous_input<double>(div_yield, {m}, "div_yield");

    require_dtype<double>(vols, "vols");
    require_aligned(vols, "vols");
    if (vols.ndim() != 3 || vols.shape(0) != P || vols.shape(1) != T1)
        throw py::value_error("vols: not broadcast to (paths, steps + 1, columns)");
    const auto K = vols.shape(2);
    for (py::ssize_t l = 0; l < L; ++l) {
        if (underlying[l] < 0 || underlying[l] >= m) throw py::value_error("legs.underlying: out of range");
        if (vol_column[l] < 0 || vol_column[l] >= K) throw py::value_error("legs.vol_column: out of range");
        if (expiry_step[l] < 1) throw py::value_error("legs.expiry_step: must be >= 1");
    }

    BookLegs legs;
    legs.n_legs = static_cast<std::size_t>(L);
    legs.underlying = underlying;
    legs.vol_column = vol_column;
    legs.expiry_step = expiry_step;
    legs.strike = contiguous_input<double>(legs_in.strike, {L}, "legs.strike");
    legs.expiry = contiguous_input<double>(legs_in.expiry, {L}, "legs.expiry");
    legs.is_call = contiguous_input<double>(legs_in.is_call, {L}, "legs.is_call");
    legs.quantity = contiguous_input<double>(legs_in.quantity, {L}, "legs.quantity");

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

    BookOut out;
    out.summary =
        contiguous_output<double>(summary, {static_cast<py::ssize_t>(SummaryRow::count), P}, "summary");
    out.leg_gamma_theta = contiguous_output<double>(leg_gamma_theta, {P, L}, "leg_gamma_theta");
    if (steps)
        out.steps =
            contiguous_output<double>(*steps, {static_cast<py::ssize_t>(StepRow::count), P, T}, "steps");
    if (leg_steps) out.leg_gamma_theta_steps = contiguous_output<double>(*leg_steps, {P, T, L}, "leg_steps");

    run_without_gil(
        [&](Interrupt* interrupt) { dk::hedged_pnl(legs, market, rules, out, nthreads, interrupt); });
}

}  // namespace

void register_book(py::module_& m) {
    m.attr("PNL_SUMMARY_ROWS") = names_tuple(kSummaryRowNames);
    m.attr("PNL_STEP_ROWS") = names_tuple(kStepRowNames);

    py::class_<HedgeRules>(
        m, "HedgeRules",
        "When the hedge is rebalanced and what trading costs, as hedged_pnl's kernel takes "
        "it (dispersionkit.HedgePolicy is the public face). every: rebalance at steps t with "
        "t % every == 0 (int >= 1, or None); band: also when |net delta| > band shares "
        "(or None); cost_bps: hedge trades in bps of traded notional; half_spread_vol: option "
        "half-spread in vol points; hedge=False: never trade the underlying.")
        .def(py::init(&make_rules), py::kw_only(), py::arg("hedge"), py::arg("every"), py::arg("band"),
             py::arg("cost_bps"), py::arg("half_spread_vol"))
        .def_readonly("hedge", &HedgeRules::hedge)
        .def_readonly("every", &HedgeRules::every)
        .def_readonly("band", &HedgeRules::band)
        .def_readonly("cost_bps", &HedgeRules::cost_bps)
        .def_readonly("half_spread_vol", &HedgeRules::half_spread_vol)
        .def("__repr__", [](const HedgeRules& r) {
            return "HedgeRules(hedge=" + std::string(r.hedge ? "True" : "False") +
                   ", every=" + (r.every ? std::to_string(*r.every) : "None") +
                   ", band=" + (r.band ? std::string(py::repr(py::float_(*r.band))) : "None") +
                   ", cost_bps=" + std::string(py::repr(py::float_(r.cost_bps))) +
                   ", half_spread_vol=" + std::string(py::repr(py::float_(r.half_spread_vol))) + ")";
        });

    m.def(
        "hedged_pnl", &run_hedged_pnl, py::kw_only(), py::arg("legs"), py::arg("spots"), py::arg("vols"),
        py::arg("div_yield"), py::arg("rate"), py::arg("dt"), py::arg("rules"), py::arg("summary"),
        py::arg("leg_gamma_theta"), py::arg("steps"), py::arg("leg_steps"), py::arg("threads"),
        "Delta-hedged book P&L over (paths, steps). legs: object with per-leg arrays underlying, vol_column, "
        "expiry_step (int64) and strike, expiry, is_call, quantity (float64); rules: a HedgeRules. Fills the "
        "preallocated summary (len(PNL_SUMMARY_ROWS), P), leg_gamma_theta (P, L) and optional steps "
        "(len(PNL_STEP_ROWS), P, T) and leg_steps (P, T, L). threads: 0 = all cores. Ctrl-C stops the call "
        "(KeyboardInterrupt; outputs partly written).");
}
