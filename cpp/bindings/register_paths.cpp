// Correlated market paths (GBM components + index, optional regime switching).
#include "prelude.hpp"

#include <cstdint>

#include "dispersionkit/paths.hpp"
#include "dispersionkit/rng.hpp"

namespace {

using namespace dk;
using namespace dk::bind;

using Shape = std::vector<py::ssize_t>;

void simulate(const py::array& spot0, const py::array& log_spot0, const py::array& drift_term,
              const py::array& diffusion, const py::array& chol, const py::object& cum_transition,
              const py::object& schedule, std::int32_t initial, const py::array& shares, std::uint64_t seed,
              std::uint64_t first_path, py::array& components, py::array& index, const py::object& regime,
              int threads) {
    if (components.ndim() != 3) throw py::value_error("components: expected (paths, steps + 1, n)");
    const py::ssize_t paths = components.shape(0), rows = components.shape(1), n = components.shape(2);
    if (rows < 1 || n < 1) throw py::value_error("components: need steps >= 0 and n >= 1");
    if (chol.ndim() != 3) throw py::value_error("chol: expected (regimes, n, n)");
    const py::ssize_t k = chol.shape(0), steps = rows - 1;
    if (steps >= static_cast<py::ssize_t>(kRegimeBlock)) throw py::value_error("steps: must be < 2**32 - 1");
    if (drift_term.ndim() != 2) throw py::value_error("drift_term: expected (1 or steps, n)");
    const py::ssize_t term_rows = drift_term.shape(0);
    if (term_rows != 1 && term_rows != steps) throw py::value_error("drift_term: expected (1 or steps, n)");

    MarketModel m;
    m.n = static_cast<std::size_t>(n);
    m.steps = static_cast<std::size_t>(steps);
    m.spot0 = contiguous_input<double>(spot0, {n}, "spot0");
    m.log_spot0 = contiguous_input<double>(log_spot0, {n}, "log_spot0");
    m.drift_term = contiguous_input<double>(drift_term, {term_rows, n}, "drift_term");
    m.diffusion = contiguous_input<double>(diffusion, {term_rows, n}, "diffusion");
    m.term_row_stride = term_rows == 1 ? 0 : static_cast<std::size_t>(n);
    m.chol = contiguous_input<double>(chol, {k, n, n}, "chol");
    m.regimes = static_cast<std::size_t>(k);
    m.shares = contiguous_input<double>(shares, {n}, "shares");
    m.initial = initial;
    if (k < 1) throw py::value_error("chol: need at least one regime");
    if (!cum_transition.is_none() && !schedule.is_none())
        throw py::value_error("give either cum_transition or schedule, not both");
    // Held for the whole call: a cast that had to convert would otherwise free its copy.
    py::array cum_array, schedule_array, regime_array;
    if (!cum_transition.is_none()) {
        cum_array = cum_transition.cast<py::array>();
        m.cum_transition = contiguous_input<double>(cum_array, {k, k}, "cum_transition");
        if (initial < 0 || initial >= k) throw py::value_error("initial: not a regime index");
    }
    if (!schedule.is_none()) {
        schedule_array = schedule.cast<py::array>();
        m.schedule = contiguous_input<std::int32_t>(schedule_array, {steps}, "schedule");
        for (py::ssize_t t = 0; t < steps; ++t)
            if (m.schedule[t] < 0 || m.schedule[t] >= k)
                throw py::value_error("schedule: regime index out of range");
    }
    if (k > 1 && m.cum_transition == nullptr && m.schedule == nullptr)
        throw py::value_error("several regimes need cum_transition or schedule");

    PathsOut out;
    out.components = contiguous_output<double>(components, {paths, rows, n}, "components");
    out.index = contiguous_output<double>(index, {paths, rows}, "index");
    if (!regime.is_none()) {
        regime_array = regime.cast<py::array>();
        out.regime = contiguous_output<std::int32_t>(regime_array, {paths, steps}, "regime");
    }
    py::gil_scoped_release release;
    simulate_market(m, seed, first_path, static_cast<std::size_t>(paths), out, threads);
}

py::tuple philox(std::uint32_t c0, std::uint32_t c1, std::uint32_t c2, std::uint32_t c3, std::uint32_t k0,
                 std::uint32_t k1) {
    const rng::Philox4x32 x = rng::philox4x32_10(c0, c1, c2, c3, k0, k1);
    return py::make_tuple(x.v[0], x.v[1], x.v[2], x.v[3]);
}

}  // namespace

void register_paths(py::module_& m) {
    m.def("simulate_market", &simulate, py::arg("spot0"), py::arg("log_spot0"), py::arg("drift_term"),
          py::arg("diffusion"), py::arg("chol"), py::arg("cum_transition"), py::arg("schedule"),
          py::arg("initial"), py::arg("shares"), py::arg("seed"), py::arg("first_path"),
          py::arg("components"), py::arg("index"), py::arg("regime"), py::arg("threads"),
          "Fill preallocated components (paths, steps+1, n), index (paths, steps+1) and optional int32 "
          "regime (paths, steps) with correlated GBM paths; inputs are validated by dispersionkit.paths.");
    m.def("philox4x32_10", &philox, py::arg("c0"), py::arg("c1"), py::arg("c2"), py::arg("c3"), py::arg("k0"),
          py::arg("k1"), "One Philox4x32-10 block (counter words, key words) -> 4 uint32 words.");
}
