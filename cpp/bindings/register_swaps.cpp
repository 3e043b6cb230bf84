// Variance swaps: fair strikes from option strips.
#include "prelude.hpp"

#include "dispersionkit/variance_swap.hpp"

namespace {

using namespace dk;
using namespace dk::bind;

// A (rows, n) float64 array whose rows are contiguous; returns the row stride in elements
// (0 when one row is broadcast to all).
std::ptrdiff_t row_stride(const py::array& a, py::ssize_t rows, py::ssize_t n, const char* name) {
    require_dtype<double>(a, name);
    if (a.ndim() != 2 || a.shape(0) != rows || a.shape(1) != n)
        throw py::value_error(std::string(name) + ": expected shape (rows, strikes) like the output");
    if (rows == 0) return 0;  // nothing to read: any strides NumPy gave the empty array are fine
    constexpr auto item = static_cast<py::ssize_t>(sizeof(double));
    if (a.strides(1) != item || a.strides(0) % item != 0)
        throw py::value_error(std::string(name) + ": rows must be contiguous");
    require_aligned(a, name);
    return a.strides(0) / item;
}

// A (rows,) float64 array; returns its stride in elements (0 when broadcast).
std::ptrdiff_t element_stride(const py::array& a, py::ssize_t rows, const char* name) {
    require_dtype<double>(a, name);
    if (a.ndim() != 1 || a.shape(0) != rows)
        throw py::value_error(std::string(name) + ": expected shape (rows,)");
    if (rows == 0) return 0;
    constexpr auto item = static_cast<py::ssize_t>(sizeof(double));
    if (a.strides(0) % item != 0) throw py::value_error(std::string(name) + ": misaligned stride");
    require_aligned(a, name);
    return a.strides(0) / item;
}

void variance_swap_strike_py(const py::object& strikes_arg, const py::object& vols_arg,
                             const py::object& forward_arg, const py::object& tau_arg,
                             const py::object& strike_arg, const py::object& truncation_arg,
                             const py::object& discretisation_arg, const py::object& threads) {
    const int nthreads = integer_arg<int>(threads, "threads", 0);
    const py::array strikes = array_arg(strikes_arg, "strikes"), vols = array_arg(vols_arg, "vols");
    const py::array forward = array_arg(forward_arg, "forward"), tau = array_arg(tau_arg, "tau");
    py::array strike = array_arg(strike_arg, "strike");
    py::array truncation_error = array_arg(truncation_arg, "truncation_error");
    py::array discretisation_error = array_arg(discretisation_arg, "discretisation_error");
    if (strikes.ndim() != 2) throw py::value_error("strikes: expected shape (rows, strikes)");
    const py::ssize_t rows = strikes.shape(0), n = strikes.shape(1);
    if (n < 2) throw py::value_error("strikes: a strip needs at least 2 strikes");
    VarianceStrips in;
    in.rows = static_cast<std::size_t>(rows);
    in.n = static_cast<std::size_t>(n);
    in.strike_row_stride = row_stride(strikes, rows, n, "strikes");
    in.strikes = static_cast<const double*>(strikes.data());
    in.vol_row_stride = row_stride(vols, rows, n, "vols");
    in.vols = static_cast<const double*>(vols.data());
    in.forward_stride = element_stride(forward, rows, "forward");
    in.forward = static_cast<const double*>(forward.data());
    in.tau_stride = element_stride(tau, rows, "tau");
    in.tau = static_cast<const double*>(tau.data());
    VarianceStrikeOut out;
    out.strike = contiguous_output<double>(strike, {rows}, "strike");
    out.truncation_error = contiguous_output<double>(truncation_error, {rows}, "truncation_error");
    out.discretisation_error =
        contiguous_output<double>(discretisation_error, {rows}, "discretisation_error");
    run_without_gil([&](Interrupt* interrupt) { variance_swap_strike(in, out, nthreads, interrupt); });
}

}  // namespace

void register_swaps(py::module_& m) {
    m.def("variance_swap_strike", &variance_swap_strike_py, py::kw_only(), py::arg("strikes"),
          py::arg("vols"), py::arg("forward"), py::arg("tau"), py::arg("strike"), py::arg("truncation_error"),
          py::arg("discretisation_error"), py::arg("threads"),
          "Fair variance strikes of strips (rows, n) (strikes increasing, rows contiguous, row stride 0 "
          "allowed) with forward and tau (rows,) into three preallocated (rows,) outputs; keyword arguments "
          "only. Inputs are validated by dispersionkit.numeric.variance_swap.");
}
