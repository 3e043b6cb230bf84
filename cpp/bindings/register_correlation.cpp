// Index variance (quadratic forms), equicorrelation and rolling realized statistics.
#include "prelude.hpp"

#include <optional>
#include <utility>

#include "dispersionkit/correlation.hpp"

namespace {

using namespace dk;
using namespace dk::bind;

// Where rows start: the first row and the row stride in elements (0 for a broadcast row).
struct Rows {
    const double* data;
    std::ptrdiff_t stride;
};

// A 2-D float64 array of shape (rows, n) whose rows are contiguous. With no rows (an empty date
// axis) there is nothing to read, so any strides NumPy chose for the empty array are fine.
Rows row_input(const py::array& a, py::ssize_t rows, py::ssize_t n, const char* name) {
    require_dtype<double>(a, name);
    if (a.ndim() != 2 || a.shape(0) != rows || a.shape(1) != n)
        throw py::value_error(std::string(name) + ": wrong shape");
    if (rows == 0 || n == 0) return {static_cast<const double*>(a.data()), 0};
    constexpr auto item = static_cast<py::ssize_t>(sizeof(double));
    if ((n > 1 && a.strides(1) != item) || a.strides(0) % item != 0)
        throw py::value_error(std::string(name) + ": rows must be contiguous");
    require_aligned(a, name);
    return {static_cast<const double*>(a.data()), a.strides(0) / item};
}

std::ptrdiff_t vector_stride(const py::array& a, py::ssize_t length, const char* name) {
    require_dtype<double>(a, name);
    if (a.ndim() != 1 || a.shape(0) != length) throw py::value_error(std::string(name) + ": wrong shape");
    if (length == 0) return 0;
    constexpr auto item = static_cast<py::ssize_t>(sizeof(double));
    if (a.strides(0) % item != 0) throw py::value_error(std::string(name) + ": misaligned strides");
    require_aligned(a, name);
    return a.strides(0) / item;
}

// weights and vols (T, n) with contiguous rows (row stride 0 for one row over every date).
WeightedVols weighted_vols(const py::object& weights_arg, const py::object& vols_arg, py::ssize_t T,
                           py::ssize_t n) {
    const Rows w = row_input(array_arg(weights_arg, "weights"), T, n, "weights");
    const Rows s = row_input(array_arg(vols_arg, "vols"), T, n, "vols");
    return {w.data, w.stride, s.data, s.stride};
}

void quadform_shared_py(const py::object& corr_arg, const py::object& weights, const py::object& vols,
                        const py::object& out_arg, const py::object& threads) {
    const int nthreads = integer_arg<int>(threads, "threads", 0);
    const py::array corr = array_arg(corr_arg, "corr");
    py::array out = array_arg(out_arg, "out");
    if (corr.ndim() != 3 || corr.shape(1) != corr.shape(2))
        throw py::value_error("corr: expected shape (S, n, n)");
    if (out.ndim() != 2) throw py::value_error("out: expected shape (S, T)");
    const py::ssize_t S = corr.shape(0), n = corr.shape(1), T = out.shape(1);
    const double* R = contiguous_input<double>(corr, {S, n, n}, "corr");
    const WeightedVols u = weighted_vols(weights, vols, T, n);
    double* o = contiguous_output<double>(out, {S, T}, "out");
    run_without_gil([&](Interrupt* interrupt) { quadform_shared(S, T, n, R, u, o, nthreads, interrupt); });
}

void quadform_per_date_py(const py::object& corr_arg, const py::object& weights, const py::object& vols,
                          const py::object& out_arg, const py::object& threads) {
    const int nthreads = integer_arg<int>(threads, "threads", 0);
    const py::array corr = array_arg(corr_arg, "corr");
    py::array out = array_arg(out_arg, "out");
    if (corr.ndim() != 3 || corr.shape(1) != corr.shape(2))
        throw py::value_error("corr: expected shape (T, n, n)");
    const py::ssize_t T = corr.shape(0), n = corr.shape(1);
    const double* R = contiguous_input<double>(corr, {T, n, n}, "corr");
    const WeightedVols u = weighted_vols(weights, vols, T, n);
    double* o = contiguous_output<double>(out, {T}, "out");
    run_without_gil([&](Interrupt* interrupt) { quadform_per_date(T, n, R, u, o, nthreads, interrupt); });
}

py::tuple symmetry_gap_py(const py::object& corr_arg, const py::object& threads) {
    const int nthreads = integer_arg<int>(threads, "threads", 0);
    const py::array corr = array_arg(corr_arg, "corr");
    if (corr.ndim() != 3 || corr.shape(1) != corr.shape(2))
        throw py::value_error("corr: expected shape (S, n, n)");
    const py::ssize_t S = corr.shape(0), n = corr.shape(1);
    const double* R = contiguous_input<double>(corr, {S, n, n}, "corr");
    SymmetryCheck check;
    run_without_gil([&](Interrupt* interrupt) { check = symmetry_gap(S, n, R, nthreads, interrupt); });
    return py::make_tuple(check.finite, check.gap);
}

void equicorrelation_py(const py::object& index_vol_arg, const py::object& vols_arg,
                        const py::object& weights_arg, const py::object& out_arg, const py::object& threads) {
    const int nthreads = integer_arg<int>(threads, "threads", 0);
    const py::array index_vol = array_arg(index_vol_arg, "index_vol"), vols = array_arg(vols_arg, "vols");
    const py::array weights = array_arg(weights_arg, "weights");
    py::array out = array_arg(out_arg, "out");
    if (out.ndim() != 1 || vols.ndim() != 2)
        throw py::value_error("equicorrelation: expected out (T,), vols (T, n)");
    const py::ssize_t T = out.shape(0), n = vols.shape(1);
    const std::ptrdiff_t iv_stride = vector_stride(index_vol, T, "index_vol");
    const Rows s = row_input(vols, T, n, "vols");
    const Rows w = row_input(weights, T, n, "weights");
    double* o = contiguous_output<double>(out, {T}, "out");
    const double* iv = static_cast<const double*>(index_vol.data());
    run_without_gil([&](Interrupt* interrupt) {
        equicorrelation(T, n, iv, iv_stride, s.data, s.stride, w.data, w.stride, o, nthreads, interrupt);
    });
}

// window >= 2 and 1 <= min_periods <= window, both within int64 (a window longer than the
// data is fine: it covers every row so far).
std::pair<std::size_t, std::size_t> window_args(const py::object& window, const py::object& min_periods) {
    const auto w = integer_arg<std::int64_t>(window, "window", 2);
    const auto m = integer_arg<std::int64_t>(min_periods, "min_periods", 1, w);
    return {static_cast<std::size_t>(w), static_cast<std::size_t>(m)};
}

void rolling_std_py(const py::object& returns, const py::object& window, const py::object& min_periods,
                    const py::object& scale_arg, const py::object& out_arg, const py::object& threads) {
    const int nthreads = integer_arg<int>(threads, "threads", 0);
    const auto [w, m] = window_args(window, min_periods);
    const double scale = real_arg(scale_arg, "scale");
    const py::array x = array_arg(returns, "returns");
    py::array out = array_arg(out_arg, "out");
    if (x.ndim() != 2) throw py::value_error("returns: expected shape (T, n)");
    const py::ssize_t T = x.shape(0), n = x.shape(1);
    const double* px = contiguous_input<double>(x, {T, n}, "returns");
    double* o = contiguous_output<double>(out, {T, n}, "out");
    run_without_gil(
        [&](Interrupt* interrupt) { rolling_std(T, n, px, w, m, scale, o, nthreads, interrupt); });
}

void rolling_pairwise_py(const py::object& returns, const py::object& window, const py::object& min_periods,
                         const py::object& weights_arg, const py::object& avg_arg,
                         const py::object& matrix_arg, const py::object& threads) {
    const int nthreads = integer_arg<int>(threads, "threads", 0);
    const auto [w, m] = window_args(window, min_periods);
    const py::array x = array_arg(returns, "returns");
    const std::optional<py::array> weights = optional_array_arg(weights_arg, "weights");
    std::optional<py::array> avg = optional_array_arg(avg_arg, "avg");
    std::optional<py::array> matrix = optional_array_arg(matrix_arg, "matrix");
    if (!avg && !matrix) throw py::value_error("avg and matrix are both None: give at least one output");
    if (x.ndim() != 2) throw py::value_error("returns: expected shape (T, n)");
    const py::ssize_t T = x.shape(0), n = x.shape(1);
    const double* px = contiguous_input<double>(x, {T, n}, "returns");
    const double* pw = weights ? contiguous_input<double>(*weights, {n}, "weights") : nullptr;
    double* pa = avg ? contiguous_output<double>(*avg, {T}, "avg") : nullptr;
    double* pm = matrix ? contiguous_output<double>(*matrix, {T, n, n}, "matrix") : nullptr;
    run_without_gil([&](Interrupt* interrupt) {
        rolling_pairwise_corr(T, n, px, w, m, pw, pa, pm, nthreads, interrupt);
    });
}

}  // namespace

void register_correlation(py::module_& m) {
    m.def(
        "quadform_shared", &quadform_shared_py, py::kw_only(), py::arg("corr"), py::arg("weights"),
        py::arg("vols"), py::arg("out"), py::arg("threads"),
        "out[s, t] = u[t] @ corr[s] @ u[t], u = weights * vols (0 where the weight is 0), for symmetric corr "
        "(S, n, n), C-contiguous; weights and vols (T, n) with contiguous rows (row stride 0 allowed); out "
        "(S, T). Reads only the upper triangle of corr (check it with symmetry_gap).");
    m.def("quadform_per_date", &quadform_per_date_py, py::kw_only(), py::arg("corr"), py::arg("weights"),
          py::arg("vols"), py::arg("out"), py::arg("threads"),
          "out[t] = u[t] @ corr[t] @ u[t], u = weights * vols (0 where the weight is 0), for corr (T, n, n), "
          "C-contiguous; weights and vols (T, n) with contiguous rows (row stride 0 allowed).");
    m.def("symmetry_gap", &symmetry_gap_py, py::kw_only(), py::arg("corr"), py::arg("threads"),
          "(finite, gap) of matrices corr (S, n, n), C-contiguous: whether every entry is finite, and max "
          "|corr[s] - corr[s].T| (0.0 when not finite).");
    m.def("equicorrelation", &equicorrelation_py, py::kw_only(), py::arg("index_vol"), py::arg("vols"),
          py::arg("weights"), py::arg("out"), py::arg("threads"),
          "out[t] = (iv^2 - sum (w s)^2) / ((sum w s)^2 - sum (w s)^2) per date; vols, weights (T, n) with "
          "contiguous rows (row stride 0 allowed), index_vol (T,).");
    m.def("rolling_std", &rolling_std_py, py::kw_only(), py::arg("returns"), py::arg("window"),
          py::arg("min_periods"), py::arg("scale"), py::arg("out"), py::arg("threads"),
          "Rolling ddof=1 standard deviation of each column times scale; NaN = missing (pandas rules).");
    m.def("rolling_pairwise_corr", &rolling_pairwise_py, py::kw_only(), py::arg("returns"), py::arg("window"),
          py::arg("min_periods"), py::arg("weights"), py::arg("avg"), py::arg("matrix"), py::arg("threads"),
          "Rolling pairwise-complete correlations: the (weighted) average of the defined off-diagonal ones "
          "into avg (T,) and/or the matrices into matrix (T, n, n); at least one of them must be given.");
}
