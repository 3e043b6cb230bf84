// Index variance (quadratic forms), equicorrelation and rolling realized statistics.
#include "prelude.hpp"

#include <optional>

#include "dispersionkit/correlation.hpp"

namespace {

using namespace dk;
using namespace dk::bind;

// A 2-D float64 array of shape (rows, n) whose rows are contiguous; returns the row stride
// in elements (0 for a broadcast row).
struct Rows {
    const double* data;
    std::ptrdiff_t stride;
};

Rows row_input(const py::array& a, py::ssize_t rows, py::ssize_t n, const char* name) {
    require_dtype<double>(a, name);
    if (a.ndim() != 2 || a.shape(0) != rows || a.shape(1) != n)
        throw py::value_error(std::string(name) + ": wrong shape");
    constexpr auto item = static_cast<py::ssize_t>(sizeof(double));
    if ((n > 1 && a.strides(1) != item) || a.strides(0) % item != 0)
        throw py::value_error(std::string(name) + ": rows must be contiguous");
    require_aligned(a, name);
    return {static_cast<const double*>(a.data()), a.strides(0) / item};
}

std::ptrdiff_t vector_stride(const py::array& a, py::ssize_t length, const char* name) {
    require_dtype<double>(a, name);
    if (a.ndim() != 1 || a.shape(0) != length) throw py::value_error(std::string(name) + ": wrong shape");
    constexpr auto item = static_cast<py::ssize_t>(sizeof(double));
    if (a.strides(0) % item != 0) throw py::value_error(std::string(name) + ": misaligned strides");
    require_aligned(a, name);
    return a.strides(0) / item;
}

void quadform_shared_py(const py::array& corr, const py::array& u, py::array& out, int threads) {
    if (corr.ndim() != 3 || corr.shape(1) != corr.shape(2))
        throw py::value_error("corr: expected shape (S, n, n)");
    const py::ssize_t S = corr.shape(0), n = corr.shape(1), T = u.ndim() == 2 ? u.shape(0) : -1;
    const double* R = contiguous_input<double>(corr, {S, n, n}, "corr");
    const Rows rows = row_input(u, T, n, "u");
    double* o = contiguous_output<double>(out, {S, T}, "out");
    py::gil_scoped_release release;
    quadform_shared(S, T, n, R, rows.data, rows.stride, o, threads);
}

void quadform_per_date_py(const py::array& corr, const py::array& u, py::array& out, int threads) {
    if (corr.ndim() != 3 || corr.shape(1) != corr.shape(2))
        throw py::value_error("corr: expected shape (T, n, n)");
    const py::ssize_t T = corr.shape(0), n = corr.shape(1);
    const double* R = contiguous_input<double>(corr, {T, n, n}, "corr");
    const Rows rows = row_input(u, T, n, "u");
    double* o = contiguous_output<double>(out, {T}, "out");
    py::gil_scoped_release release;
    quadform_per_date(T, n, R, rows.data, rows.stride, o, threads);
}

void equicorrelation_py(const py::array& index_vol, const py::array& vols, const py::array& weights,
                        py::array& out, int threads) {
    if (out.ndim() != 1 || vols.ndim() != 2)
        throw py::value_error("equicorrelation: expected out (T,), vols (T, n)");
    const py::ssize_t T = out.shape(0), n = vols.shape(1);
    const std::ptrdiff_t iv_stride = vector_stride(index_vol, T, "index_vol");
    const Rows s = row_input(vols, T, n, "vols");
    const Rows w = row_input(weights, T, n, "weights");
    double* o = contiguous_output<double>(out, {T}, "out");
    const double* iv = static_cast<const double*>(index_vol.data());
    py::gil_scoped_release release;
    equicorrelation(T, n, iv, iv_stride, s.data, s.stride, w.data, w.stride, o, threads);
}

void check_window(py::ssize_t window, py::ssize_t min_periods) {
    if (window < 2) throw py::value_error("window: must be >= 2");
    if (min_periods < 1 || min_periods > window) throw py::value_error("min_periods: must be in [1, window]");
}

void rolling_std_py(const py::array& x, py::ssize_t window, py::ssize_t min_periods, double scale,
                    py::array& out, int threads) {
    check_window(window, min_periods);
    if (x.ndim() != 2) throw py::value_error("returns: expected shape (T, n)");
    const py::ssize_t T = x.shape(0), n = x.shape(1);
    const double* px = contiguous_input<double>(x, {T, n}, "returns");
    double* o = contiguous_output<double>(out, {T, n}, "out");
    py::gil_scoped_release release;
    rolling_std(T, n, px, window, min_periods, scale, o, threads);
}

void rolling_pairwise_py(const py::array& x, py::ssize_t window, py::ssize_t min_periods,
                         const std::optional<py::array>& weights, std::optional<py::array>& avg,
                         std::optional<py::array>& matrix, int threads) {
    check_window(window, min_periods);
    if (x.ndim() != 2) throw py::value_error("returns: expected shape (T, n)");
    const py::ssize_t T = x.shape(0), n = x.shape(1);
    const double* px = contiguous_input<double>(x, {T, n}, "returns");
    const double* pw = weights ? contiguous_input<double>(*weights, {n}, "weights") : nullptr;
    double* pa = avg ? contiguous_output<double>(*avg, {T}, "avg") : nullptr;
    double* pm = matrix ? contiguous_output<double>(*matrix, {T, n, n}, "matrix") : nullptr;
    py::gil_scoped_release release;
    rolling_pairwise_corr(T, n, px, window, min_periods, pw, pa, pm, threads);
}

}  // namespace

void register_correlation(py::module_& m) {
    m.def("quadform_shared", &quadform_shared_py, py::arg("corr"), py::arg("u"), py::arg("out"),
          py::arg("threads"),
          "out[s, t] = u[t] @ corr[s] @ u[t] for symmetric corr (S, n, n), C-contiguous; u (T, n) with "
          "contiguous rows (row stride 0 allowed). Reads only the upper triangle of corr.");
    m.def("quadform_per_date", &quadform_per_date_py, py::arg("corr"), py::arg("u"), py::arg("out"),
          py::arg("threads"), "out[t] = u[t] @ corr[t] @ u[t] for corr (T, n, n), C-contiguous; u (T, n).");
    m.def("equicorrelation", &equicorrelation_py, py::arg("index_vol"), py::arg("vols"), py::arg("weights"),
          py::arg("out"), py::arg("threads"),
          "out[t] = (iv^2 - sum (w s)^2) / ((sum w s)^2 - sum (w s)^2) per date; vols, weights (T, n) with "
          "contiguous rows (row stride 0 allowed), index_vol (T,).");
    m.def("rolling_std", &rolling_std_py, py::arg("returns"), py::arg("window"), py::arg("min_periods"),
          py::arg("scale"), py::arg("out"), py::arg("threads"),
          "Rolling ddof=1 standard deviation of each column times scale; NaN = missing (pandas rules).");
    m.def("rolling_pairwise_corr", &rolling_pairwise_py, py::arg("returns"), py::arg("window"),
          py::arg("min_periods"), py::arg("weights"), py::arg("avg"), py::arg("matrix"), py::arg("threads"),
          "Rolling pairwise-complete correlations: the (weighted) average of the defined off-diagonal ones "
          "into avg (T,) and/or the matrices into matrix (T, n, n); either may be None.");
}
