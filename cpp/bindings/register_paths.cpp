// Correlated market paths (GBM components + index, optional regime switching).
#include "prelude.hpp"

#include <cstdint>

#include "dispersionkit/paths.hpp"
#include "dispersionkit/rng.hpp"

namespace {

using namespace dk;
using namespace dk::bind;

// The model's arrays, read by name from a Python object (dispersionkit's validated
// MarketModel); held for the whole call.
struct ModelArrays {
    py::array spot0, log_spot0, drift_term, diffusion, chol, shares;
    std::optional<py::array> cum_transition, schedule;
};

ModelArrays model_arrays(const py::object& model) {
    ModelArrays a;
    a.spot0 = array_arg(field_of(model, "model", "spot0"), "model.spot0");
    a.log_spot0 = array_arg(field_of(model, "model", "log_spot0"), "model.log_spot0");
    a.drift_term = array_arg(field_of(model, "model", "drift_term"), "model.drift_term");
    a.diffusion = array_arg(field_of(model, "model", "diffusion"), "model.diffusion");
    a.chol = array_arg(field_of(model, "model", "chol"), "model.chol");
    a.shares = array_arg(field_of(model, "model", "shares"), "model.shares");
    a.cum_transition = optional_array_arg(field_of(model, "model", "cum_transition"), "model.cum_transition");
    a.schedule = optional_array_arg(field_of(model, "model", "schedule"), "model.schedule");
    return a;
}

void simulate(const py::object& model, const py::object& components_arg, const py::object& index_arg,
              const py::object& regime_arg, const py::object& threads) {
    const int nthreads = integer_arg<int>(threads, "threads", 0);
    const ModelArrays arrays = model_arrays(model);
    const auto seed = integer_arg<std::uint64_t>(field_of(model, "model", "seed"), "model.seed");
    const auto first_path =
        integer_arg<std::uint64_t>(field_of(model, "model", "first_path"), "model.first_path");
    py::array components = array_arg(components_arg, "components");
    py::array index = array_arg(index_arg, "index");
    std::optional<py::array> regime = optional_array_arg(regime_arg, "regime");

    if (components.ndim() != 3) throw py::value_error("components: expected (paths, steps + 1, n)");
    const py::ssize_t paths = components.shape(0), rows = components.shape(1), n = components.shape(2);
    if (rows < 1 || n < 1) throw py::value_error("components: need steps >= 0 and n >= 1");
    if (static_cast<std::uint64_t>(paths) > std::numeric_limits<std::uint64_t>::max() - first_path)
        throw py::value_error("model.first_path: first_path + paths must be < 2**64");
    const py::array& chol = arrays.chol;
    if (chol.ndim() != 3) throw py::value_error("model.chol: expected (regimes, n, n)");
    const py::ssize_t k = chol.shape(0), steps = rows - 1;
    if (k < 1) throw py::value_error("model.chol: need at least one regime");
    if (steps >= static_cast<py::ssize_t>(kRegimeBlock)) throw py::value_error("steps: must be < 2**32 - 1");
    if (arrays.drift_term.ndim() != 2) throw py::value_error("model.drift_term: expected (1 or steps, n)");
    const py::ssize_t term_rows = arrays.drift_term.shape(0);
    if (term_rows != 1 && term_rows != steps)
        throw py::value_error("model.drift_term: expected (1 or steps, n)");

    MarketModel m;
    m.n = static_cast<std::size_t>(n);
    m.steps = static_cast<std::size_t>(steps);
    m.spot0 = contiguous_input<double>(arrays.spot0, {n}, "model.spot0");
    m.log_spot0 = contiguous_input<double>(arrays.log_spot0, {n}, "model.log_spot0");
    m.drift_term = contiguous_input<double>(arrays.drift_term, {term_rows, n}, "model.drift_term");
    m.diffusion = contiguous_input<double>(arrays.diffusion, {term_rows, n}, "model.diffusion");
    m.term_row_stride = term_rows == 1 ? 0 : static_cast<std::size_t>(n);
    m.chol = contiguous_input<double>(chol, {k, n, n}, "model.chol");
    m.regimes = static_cast<std::size_t>(k);
    m.shares = contiguous_input<double>(arrays.shares, {n}, "model.shares");
    if (arrays.cum_transition && arrays.schedule)
        throw py::value_error("model: give either cum_transition or schedule, not both");
    if (arrays.cum_transition) {
        m.cum_transition = contiguous_input<double>(*arrays.cum_transition, {k, k}, "model.cum_transition");
        m.initial = integer_arg<std::int32_t>(field_of(model, "model", "initial"), "model.initial", 0,
                                              static_cast<std::int32_t>(k - 1));
    }
    if (arrays.schedule) {
        m.schedule = contiguous_input<std::int32_t>(*arrays.schedule, {steps}, "model.schedule");
        for (py::ssize_t t = 0; t < steps; ++t)
            if (m.schedule[t] < 0 || m.schedule[t] >= k)
                throw py::value_error("model.schedule: regime index out of range");
    }
    if (k > 1 && m.cum_transition == nullptr && m.schedule == nullptr)
        throw py::value_error("model: several regimes need cum_transition or schedule");

    PathsOut out;
    out.components = contiguous_output<double>(components, {paths, rows, n}, "components");
    out.index = contiguous_output<double>(index, {paths, rows}, "index");
    if (regime) out.regime = contiguous_output<std::int32_t>(*regime, {paths, steps}, "regime");
    run_without_gil([&](Interrupt* interrupt) {
        simulate_market(m, seed, first_path, static_cast<std::size_t>(paths), out, nthreads, interrupt);
    });
}

// One Philox4x32-10 block: counter (c0, c1, c2, c3) and key (k0, k1), 32-bit words.
py::tuple philox(const py::sequence& counter, const py::sequence& key) {
    if (counter.size() != 4) throw py::value_error("counter: expected 4 words");
    if (key.size() != 2) throw py::value_error("key: expected 2 words");
    std::uint32_t c[4], k[2];
    for (std::size_t i = 0; i < 4; ++i) c[i] = integer_arg<std::uint32_t>(counter[i], "counter");
    for (std::size_t i = 0; i < 2; ++i) k[i] = integer_arg<std::uint32_t>(key[i], "key");
    const rng::Philox4x32 x = rng::philox4x32_10(c[0], c[1], c[2], c[3], k[0], k[1]);
    return py::make_tuple(x.v[0], x.v[1], x.v[2], x.v[3]);
}

}  // namespace

void register_paths(py::module_& m) {
    m.def(
        "simulate_market", &simulate, py::kw_only(), py::arg("model"), py::arg("components"),
        py::arg("index"), py::arg("regime"), py::arg("threads"),
        "Fill preallocated components (paths, steps+1, n), index (paths, steps+1) and optional int32 regime "
        "(paths, steps) with correlated GBM paths. `model` is read by attribute: spot0, log_spot0, "
        "drift_term, "
        "diffusion, chol, cum_transition, schedule, initial, shares, seed, first_path (dispersionkit's "
        "validated MarketModel). threads: 0 = all cores. Ctrl-C stops the call (KeyboardInterrupt).");
    m.def("philox4x32_10", &philox, py::kw_only(), py::arg("counter"), py::arg("key"),
          "One Philox4x32-10 block: counter (4 uint32 words) and key (2 words) -> 4 uint32 words.");
}
