// Black-Scholes-Merton prices and Greeks.
#include "prelude.hpp"

#include "dispersionkit/black_scholes.hpp"

namespace {

using namespace dk;
using namespace dk::bind;

constexpr const char* kInputNames[kBsArgs] = {"spot", "strike", "tau", "vol", "rate", "div_yield", "is_call"};
constexpr const char* kGreekNames[10] = {"price", "delta",   "gamma", "vega",  "theta",
                                         "rho",   "epsilon", "vanna", "volga", "charm"};

std::array<StridedArg, kBsArgs> bs_inputs(const std::vector<py::array>& inputs, const Layout& layout) {
    if (inputs.size() != kBsArgs) throw py::value_error("expected 7 inputs");
    std::array<StridedArg, kBsArgs> args;
    for (std::size_t a = 0; a < kBsArgs; ++a)
        args[a] = strided_input<double>(inputs[a], layout, kInputNames[a]);
    return args;
}

void greeks(const std::vector<py::array>& inputs, std::vector<py::array>& outputs, int threads) {
    if (outputs.size() != 10) throw py::value_error("expected 10 outputs");
    const auto shape = shape_of(outputs[0]);
    const Layout layout = layout_of(shape);
    auto args = bs_inputs(inputs, layout);
    std::array<double*, 10> p{};
    for (std::size_t k = 0; k < 10; ++k) p[k] = contiguous_output<double>(outputs[k], shape, kGreekNames[k]);
    const GreeksOut out{p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8], p[9]};
    py::gil_scoped_release release;
    bs_greeks(layout, args, out, threads);
}

void price(const std::vector<py::array>& inputs, py::array& output, int threads) {
    const auto shape = shape_of(output);
    const Layout layout = layout_of(shape);
    auto args = bs_inputs(inputs, layout);
    double* out = contiguous_output<double>(output, shape, "out");
    py::gil_scoped_release release;
    bs_price(layout, args, out, threads);
}

}  // namespace

void register_greeks(py::module_& m) {
    m.def("bs_greeks", &greeks, py::arg("inputs"), py::arg("outputs"), py::arg("threads"),
          "Fill 10 preallocated C-contiguous float64 outputs (price, delta, gamma, vega, theta, rho, "
          "epsilon, vanna, volga, charm) from 7 float64 inputs broadcast to their shape "
          "(spot, strike, tau, vol, rate, div_yield, is_call as 0/1).");
    m.def("bs_price", &price, py::arg("inputs"), py::arg("out"), py::arg("threads"),
          "Fill a preallocated C-contiguous float64 price array from 7 broadcast float64 inputs.");
}
