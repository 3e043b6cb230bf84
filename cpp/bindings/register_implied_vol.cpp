// Batched implied volatility.
#include "prelude.hpp"

#include "dispersionkit/implied_vol.hpp"

namespace {

using namespace dk;
using namespace dk::bind;

void implied_vol_binding(const py::object& price, const py::object& spot, const py::object& strike,
                         const py::object& tau, const py::object& rate, const py::object& div_yield,
                         const py::object& is_call, const py::object& out, const py::object& status,
                         const py::object& threads) {
    const int nthreads = integer_arg<int>(threads, "threads", 0);
    py::array vol_array = array_arg(out, "out");
    std::optional<py::array> status_array = optional_array_arg(status, "status");
    const auto shape = shape_of(vol_array);
    const Layout layout = layout_of(shape);
    std::array<py::object, IvInput::count> inputs;
    inputs[IvInput::price] = price;
    inputs[IvInput::spot] = spot;
    inputs[IvInput::strike] = strike;
    inputs[IvInput::tau] = tau;
    inputs[IvInput::rate] = rate;
    inputs[IvInput::div_yield] = div_yield;
    inputs[IvInput::is_call] = is_call;
    std::array<StridedArg, IvInput::count> args;
    // is_call as bool/uint8 flags (nonzero = call), converted to 0/1 doubles block by block.
    for (std::size_t a = 0; a < IvInput::count; ++a)
        args[a] =
            strided_input_of(array_arg(inputs[a], kIvInputNames[a]), layout,
                             {a == IvInput::is_call ? Element::uint8 : Element::float64}, kIvInputNames[a]);
    double* vol = contiguous_output<double>(vol_array, shape, "out");
    // int8 status codes are IVStatus values (its underlying type).
    auto* codes =
        status_array
            ? reinterpret_cast<IVStatus*>(contiguous_output<std::int8_t>(*status_array, shape, "status"))
            : nullptr;
    run_without_gil(
        [&](Interrupt* interrupt) { implied_vol(layout, args, vol, codes, nthreads, interrupt); });
}

}  // namespace

void register_implied_vol(py::module_& m) {
    py::dict codes;
    for (std::size_t s = 0; s < kIVStatusCount; ++s) codes[py::str(kIVStatusNames[s])] = py::int_(s);
    m.attr("IV_STATUS") = codes;

    m.def("implied_vol", &implied_vol_binding, py::kw_only(), py::arg(kIvInputNames[IvInput::price]),
          py::arg(kIvInputNames[IvInput::spot]), py::arg(kIvInputNames[IvInput::strike]),
          py::arg(kIvInputNames[IvInput::tau]), py::arg(kIvInputNames[IvInput::rate]),
          py::arg(kIvInputNames[IvInput::div_yield]), py::arg(kIvInputNames[IvInput::is_call]),
          py::arg("out"), py::arg("status"), py::arg("threads"),
          "Fill a preallocated C-contiguous float64 vol array `out` (and an int8 `status` array of IV_STATUS "
          "codes, or None) from float64 inputs broadcast to its shape (is_call as bool/uint8, nonzero = "
          "call). threads: 0 = all "
          "cores. Ctrl-C stops the call (KeyboardInterrupt; outputs partly written).");
}
