// Black-Scholes-Merton prices and Greeks.
#include "prelude.hpp"

#include "dispersionkit/black_scholes.hpp"

namespace {

using namespace dk;
using namespace dk::bind;

// The inputs by name (kBsInputNames), broadcast to `layout`.
std::array<StridedArg, BsInput::count> bs_inputs(const std::array<py::object, BsInput::count>& inputs,
                                                 const Layout& layout) {
    std::array<StridedArg, BsInput::count> args;
    for (std::size_t a = 0; a < BsInput::count; ++a)
        args[a] = strided_input<double>(array_arg(inputs[a], kBsInputNames[a]), layout, kBsInputNames[a]);
    return args;
}

std::array<py::object, BsInput::count> inputs_of(const py::object& spot, const py::object& strike,
                                                 const py::object& tau, const py::object& vol,
                                                 const py::object& rate, const py::object& div_yield,
                                                 const py::object& is_call) {
    std::array<py::object, BsInput::count> in;
    in[BsInput::spot] = spot;
    in[BsInput::strike] = strike;
    in[BsInput::tau] = tau;
    in[BsInput::vol] = vol;
    in[BsInput::rate] = rate;
    in[BsInput::div_yield] = div_yield;
    in[BsInput::is_call] = is_call;
    return in;
}

// `out` is any object with one array attribute per Greek (dispersionkit.Greeks), all of the
// broadcast shape; the price array sets that shape.
void greeks(const py::object& spot, const py::object& strike, const py::object& tau, const py::object& vol,
            const py::object& rate, const py::object& div_yield, const py::object& is_call,
            const py::object& out, const py::object& threads) {
    const int nthreads = integer_arg<int>(threads, "threads", 0);
    std::array<py::array, Greek::count> arrays;
    std::array<std::string, Greek::count> names;
    for (std::size_t g = 0; g < Greek::count; ++g) {
        names[g] = std::string("out.") + kGreekNames[g];
        arrays[g] = array_arg(field_of(out, "out", kGreekNames[g]), names[g].c_str());
    }
    const auto shape = shape_of(arrays[Greek::price]);
    const Layout layout = layout_of(shape);
    const auto args = bs_inputs(inputs_of(spot, strike, tau, vol, rate, div_yield, is_call), layout);
    GreeksOut pointers;
    for (std::size_t g = 0; g < Greek::count; ++g)
        pointers.at[g] = contiguous_output<double>(arrays[g], shape, names[g].c_str());
    run_without_gil([&](Interrupt* interrupt) { bs_greeks(layout, args, pointers, nthreads, interrupt); });
}

void price(const py::object& spot, const py::object& strike, const py::object& tau, const py::object& vol,
           const py::object& rate, const py::object& div_yield, const py::object& is_call,
           const py::object& out, const py::object& threads) {
    const int nthreads = integer_arg<int>(threads, "threads", 0);
    py::array out_array = array_arg(out, "out");
    const auto shape = shape_of(out_array);
    const Layout layout = layout_of(shape);
    const auto args = bs_inputs(inputs_of(spot, strike, tau, vol, rate, div_yield, is_call), layout);
    double* prices = contiguous_output<double>(out_array, shape, "out");
    run_without_gil([&](Interrupt* interrupt) { bs_price(layout, args, prices, nthreads, interrupt); });
}

}  // namespace

void register_greeks(py::module_& m) {
    m.attr("GREEK_NAMES") = names_tuple(kGreekNames);

    m.def("bs_greeks", &greeks, py::kw_only(), py::arg(kBsInputNames[BsInput::spot]),
          py::arg(kBsInputNames[BsInput::strike]), py::arg(kBsInputNames[BsInput::tau]),
          py::arg(kBsInputNames[BsInput::vol]), py::arg(kBsInputNames[BsInput::rate]),
          py::arg(kBsInputNames[BsInput::div_yield]), py::arg(kBsInputNames[BsInput::is_call]),
          py::arg("out"), py::arg("threads"),
          "Fill out.<name> for every name in GREEK_NAMES (preallocated C-contiguous float64 arrays of one "
          "shape) from float64 inputs broadcast to that shape (is_call as 0/1). threads: 0 = all cores. "
          "Ctrl-C stops the call (KeyboardInterrupt; outputs partly written).");
    m.def("bs_price", &price, py::kw_only(), py::arg(kBsInputNames[BsInput::spot]),
          py::arg(kBsInputNames[BsInput::strike]), py::arg(kBsInputNames[BsInput::tau]),
          py::arg(kBsInputNames[BsInput::vol]), py::arg(kBsInputNames[BsInput::rate]),
          py::arg(kBsInputNames[BsInput::div_yield]), py::arg(kBsInputNames[BsInput::is_call]),
          py::arg("out"), py::arg("threads"),
          "Fill a preallocated C-contiguous float64 price array `out` from float64 inputs broadcast to its "
          "shape. threads: 0 = all cores.");
}
