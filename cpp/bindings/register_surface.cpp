// Implied-volatility surfaces: construction (row order, slopes, arbitrage flags) and queries.
#include "prelude.hpp"

#include <cmath>
#include <cstdint>
#include <limits>

#include "dispersionkit/surface.hpp"

namespace {

using namespace dk;
using namespace dk::bind;

py::ssize_t length_of(const py::array& a, const char* name) {
    if (a.ndim() != 1) throw py::value_error(std::string(name) + ": expected a 1-D array");
    return a.shape(0);
}

template <class T>
const T* vector_input(const py::array& a, py::ssize_t n, const char* name) {
    return contiguous_input<T>(a, {n}, name);
}

// Offsets that split `count` items into consecutive non-empty (strict) or possibly empty runs.
void check_offsets(const std::int64_t* offsets, py::ssize_t runs, py::ssize_t count, bool strict,
                   const char* name) {
    if (offsets[0] != 0 || offsets[runs] != count)
        throw py::value_error(std::string(name) + ": must start at 0 and end at the item count");
    for (py::ssize_t i = 0; i < runs; ++i) {
        if (strict ? offsets[i + 1] <= offsets[i] : offsets[i + 1] < offsets[i])
            throw py::value_error(std::string(name) + ": offsets must increase");
    }
}

// The arrays of a built surface, passed by name in a dict; every offset is checked so no
// kernel can read outside the arrays.
struct Grid {
    SurfaceView view;
    py::ssize_t nodes = 0;
};

Grid grid_of(const py::object& surface_arg, bool with_slopes) {
    if (!py::isinstance<py::dict>(surface_arg))
        throw py::type_error("surface: expected a dict of arrays, got " + type_name(surface_arg));
    const auto surface = py::reinterpret_borrow<py::dict>(surface_arg);
    auto get = [&](const char* key) -> py::array {
        if (!surface.contains(key))
            throw py::value_error(std::string("surface: missing array '") + key + "'");
        return array_arg(surface[key], (std::string("surface['") + key + "']").c_str());
    };
    Grid grid;
    const py::array group_start = get("group_start"), slice_start = get("slice_start");
    const py::ssize_t groups = length_of(group_start, "group_start") - 1;
    const py::ssize_t slices = length_of(slice_start, "slice_start") - 1;
    if (groups < 0 || slices < 0) throw py::value_error("surface: offset arrays must not be empty");
    const py::array node_k = get("node_k");
    grid.nodes = length_of(node_k, "node_k");
    SurfaceView& v = grid.view;
    v.n_groups = groups;
    v.group_start = vector_input<std::int64_t>(group_start, groups + 1, "group_start");
    v.slice_start = vector_input<std::int64_t>(slice_start, slices + 1, "slice_start");
    v.slice_tau = vector_input<double>(get("slice_tau"), slices, "slice_tau");
    v.slice_logfwd = vector_input<double>(get("slice_logfwd"), slices, "slice_logfwd");
    v.node_k = vector_input<double>(node_k, grid.nodes, "node_k");
    v.node_w = vector_input<double>(get("node_w"), grid.nodes, "node_w");
    if (with_slopes) v.node_slope = vector_input<double>(get("node_slope"), grid.nodes, "node_slope");
    check_offsets(v.group_start, groups, slices, false, "group_start");
    check_offsets(v.slice_start, slices, grid.nodes, true, "slice_start");
    return grid;
}

void sort_binding(const py::object& group_arg, const py::object& tau_arg, const py::object& k_arg,
                  const py::object& w_arg, const py::object& logfwd_arg, const py::object& n_groups_arg,
                  const py::object& group_start_arg, const py::object& order_arg,
                  const py::object& tau_out_arg, const py::object& k_out_arg, const py::object& w_out_arg,
                  const py::object& logfwd_out_arg, const py::object& threads) {
    const int nthreads = integer_arg<int>(threads, "threads", 0);
    const auto n_groups =
        integer_arg<std::int64_t>(n_groups_arg, "n_groups", 0, std::numeric_limits<std::int64_t>::max() - 1);
    const py::array group = array_arg(group_arg, "group"), tau = array_arg(tau_arg, "tau");
    const py::array k = array_arg(k_arg, "k"), w = array_arg(w_arg, "w"),
                    logfwd = array_arg(logfwd_arg, "logfwd");
    py::array group_start = array_arg(group_start_arg, "group_start"), order = array_arg(order_arg, "order");
    py::array tau_out = array_arg(tau_out_arg, "tau_out"), k_out = array_arg(k_out_arg, "k_out");
    py::array w_out = array_arg(w_out_arg, "w_out"), logfwd_out = array_arg(logfwd_out_arg, "logfwd_out");
    const py::ssize_t n = length_of(group, "group");
    const std::int64_t* g = vector_input<std::int64_t>(group, n, "group");
    const double* t = vector_input<double>(tau, n, "tau");
    const double* x = vector_input<double>(k, n, "k");
    const double* ww = vector_input<double>(w, n, "w");
    const double* y = vector_input<double>(logfwd, n, "logfwd");
    std::int64_t* gs =
        contiguous_output<std::int64_t>(group_start, {static_cast<py::ssize_t>(n_groups) + 1}, "group_start");
    std::int64_t* o = contiguous_output<std::int64_t>(order, {n}, "order");
    double* t_out = contiguous_output<double>(tau_out, {n}, "tau_out");
    double* k_o = contiguous_output<double>(k_out, {n}, "k_out");
    double* w_o = contiguous_output<double>(w_out, {n}, "w_out");
    double* y_o = contiguous_output<double>(logfwd_out, {n}, "logfwd_out");
    for (py::ssize_t i = 0; i < n; ++i) {
        if (g[i] < 0 || g[i] >= n_groups)
            throw py::value_error("group: every value must lie in [0, n_groups)");
        if (std::isnan(t[i]) || std::isnan(x[i])) throw py::value_error("tau, k: must not be NaN");
    }
    run_without_gil([&](Interrupt* interrupt) {
        surface_sort(static_cast<std::size_t>(n), g, t, x, ww, y, n_groups, gs, o, t_out, k_o, w_o, y_o,
                     nthreads, interrupt);
    });
}

void slopes_binding(const py::object& surface, const py::object& tolerance_arg, const py::object& slope_arg,
                    const py::object& flags_arg, const py::object& threads) {
    const int nthreads = integer_arg<int>(threads, "threads", 0);
    const double tolerance = real_arg(tolerance_arg, "tolerance");
    py::array slope = array_arg(slope_arg, "slope"), flags = array_arg(flags_arg, "flags");
    const Grid grid = grid_of(surface, false);
    double* s = contiguous_output<double>(slope, {grid.nodes}, "slope");
    std::uint8_t* f = contiguous_output<std::uint8_t>(flags, {grid.nodes}, "flags");
    run_without_gil(
        [&](Interrupt* interrupt) { surface_slopes(grid.view, tolerance, s, f, nthreads, interrupt); });
}

void query_binding(const py::object& surface, const py::object& group_arg, const py::object& tau_arg,
                   const py::object& x_arg, bool log_spot_moneyness, const py::object& vol_arg,
                   const py::object& logfwd_arg, const py::object& threads) {
    const int nthreads = integer_arg<int>(threads, "threads", 0);
    const Grid grid = grid_of(surface, true);
    const py::array group = array_arg(group_arg, "group"), tau = array_arg(tau_arg, "tau");
    const py::array x = array_arg(x_arg, "x");
    py::array vol = array_arg(vol_arg, "vol"), logfwd = array_arg(logfwd_arg, "logfwd");
    const py::ssize_t m = length_of(group, "group");
    const std::int64_t* g = vector_input<std::int64_t>(group, m, "group");
    const double* t = vector_input<double>(tau, m, "tau");
    const double* xx = vector_input<double>(x, m, "x");
    double* v = contiguous_output<double>(vol, {m}, "vol");
    double* y = contiguous_output<double>(logfwd, {m}, "logfwd");
    run_without_gil([&](Interrupt* interrupt) {
        surface_query(grid.view, static_cast<std::size_t>(m), g, t, xx, log_spot_moneyness, v, y, nthreads,
                      interrupt);
    });
}

void delta_binding(const py::object& surface, const py::object& group_arg, const py::object& tau_arg,
                   const py::object& d1_arg, const py::object& k_arg, const py::object& vol_arg,
                   const py::object& logfwd_arg, const py::object& threads) {
    const int nthreads = integer_arg<int>(threads, "threads", 0);
    const Grid grid = grid_of(surface, true);
    const py::array group = array_arg(group_arg, "group"), tau = array_arg(tau_arg, "tau");
    const py::array d1 = array_arg(d1_arg, "d1");
    py::array k = array_arg(k_arg, "k"), vol = array_arg(vol_arg, "vol"),
              logfwd = array_arg(logfwd_arg, "logfwd");
    const py::ssize_t m = length_of(group, "group");
    const std::int64_t* g = vector_input<std::int64_t>(group, m, "group");
    const double* t = vector_input<double>(tau, m, "tau");
    const double* target = vector_input<double>(d1, m, "d1");
    double* kk = contiguous_output<double>(k, {m}, "k");
    double* v = contiguous_output<double>(vol, {m}, "vol");
    double* y = contiguous_output<double>(logfwd, {m}, "logfwd");
    run_without_gil([&](Interrupt* interrupt) {
        surface_delta_strike(grid.view, static_cast<std::size_t>(m), g, t, target, kk, v, y, nthreads,
                             interrupt);
    });
}

}  // namespace

void register_surface(py::module_& m) {
    m.def("surface_sort", &sort_binding, py::kw_only(), py::arg("group"), py::arg("tau"), py::arg("k"),
          py::arg("w"), py::arg("logfwd"), py::arg("n_groups"), py::arg("group_start"), py::arg("order"),
          py::arg("tau_out"), py::arg("k_out"), py::arg("w_out"), py::arg("logfwd_out"), py::arg("threads"),
          "Sort rows by (group, tau, k), ties by row index: group offsets, the row order and the sorted "
          "values.");
    m.def("surface_slopes", &slopes_binding, py::kw_only(), py::arg("surface"), py::arg("tolerance"),
          py::arg("slope"), py::arg("flags"), py::arg("threads"),
          "Fill PCHIP slopes dw/dk (float64) and arbitrage flags (uint8: 1 calendar, 2 butterfly) per node.");
    m.def("surface_query", &query_binding, py::kw_only(), py::arg("surface"), py::arg("group"),
          py::arg("tau"), py::arg("x"), py::arg("log_spot_moneyness"), py::arg("vol"), py::arg("logfwd"),
          py::arg("threads"), "Fill vol and logfwd = ln(F/S) at (group, tau, x); x = ln(K/S) or ln(K/F).");
    m.def("surface_delta_strike", &delta_binding, py::kw_only(), py::arg("surface"), py::arg("group"),
          py::arg("tau"), py::arg("d1"), py::arg("k"), py::arg("vol"), py::arg("logfwd"), py::arg("threads"),
          "Fill k = ln(K/F) where d1 at the surface's vol equals the target, the vol there and logfwd.");
}
