// Batched implied volatility.
#include "prelude.hpp"

#include <cstdint>
#include <optional>

#include "dispersionkit/implied_vol.hpp"

namespace {

using namespace dk;
using namespace dk::bind;

constexpr const char* kInputNames[kIvArgs] = {"price", "spot",      "strike", "tau",
                                              "rate",  "div_yield", "is_call"};

void implied_vol_binding(const std::vector<py::array>& inputs, py::array& vol_out,
                         std::optional<py::array>& status_out, int threads) {
    if (inputs.size() != kIvArgs) throw py::value_error("expected 7 inputs");
    const auto shape = shape_of(vol_out);
    const Layout layout = layout_of(shape);
    std::array<StridedArg, kIvArgs> args;
    for (std::size_t a = 0; a < kIvArgs; ++a)
        args[a] = strided_input<double>(inputs[a], layout, kInputNames[a]);
    double* vol = contiguous_output<double>(vol_out, shape, "out");
    std::int8_t* status = status_out ? contiguous_output<std::int8_t>(*status_out, shape, "status") : nullptr;
    py::gil_scoped_release release;
    implied_vol(layout, args, vol, status, threads);
}

}  // namespace

void register_implied_vol(py::module_& m) {
    m.def("implied_vol", &implied_vol_binding, py::arg("inputs"), py::arg("out"), py::arg("status"),
          py::arg("threads"),
          "Fill a preallocated C-contiguous float64 vol array (and an int8 status array, or None) from 7 "
          "broadcast float64 inputs (price, spot, strike, tau, rate, div_yield, is_call as 0/1).");
}
