// Black-Scholes-Merton prices and Greeks.
#include "prelude.hpp"

#include <optional>

#include "dispersionkit/black_scholes.hpp"

namespace {

using namespace dk;
using namespace dk::bind;

constexpr std::initializer_list<Element> kRealInput = {Element::float64, Element::float32};
constexpr std::initializer_list<Element> kFlagInput = {Element::uint8};

struct BsInputs {
    std::array<py::array, BsInput::count> arrays;
    std::array<StridedArg, BsInput::count> args;
};

// The inputs by name (kBsInputNames), broadcast to `layout`: the real ones float64 or float32,
// is_call bool or uint8 (nonzero = call).
BsInputs bs_inputs(const std::array<py::object, BsInput::count>& objects, const Layout& layout) {
    BsInputs in;
    for (std::size_t a = 0; a < BsInput::count; ++a) {
        in.arrays[a] = array_arg(objects[a], kBsInputNames[a]);
        in.args[a] = strided_input_of(in.arrays[a], layout, a == BsInput::is_call ? kFlagInput : kRealInput,
                                      kBsInputNames[a]);
    }
    return in;
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

std::vector<NamedRange> input_ranges(const BsInputs& in) {
    std::vector<NamedRange> ranges;
    for (const py::array& a : in.arrays) ranges.push_back({byte_range(a), nullptr});
    return ranges;
}

// `out` is any object with one attribute per Greek (dispersionkit.Greeks): an array of the
// broadcast shape, or None for a Greek not to compute. The requested arrays share one dtype,
// float64 or float32 (the precision the kernel computes in), and the first sets the shape.
void greeks(const py::object& spot, const py::object& strike, const py::object& tau, const py::object& vol,
            const py::object& rate, const py::object& div_yield, const py::object& is_call,
            const py::object& out, const py::object& threads) {
    const int nthreads = integer_arg<int>(threads, "threads", 0);
    std::array<std::optional<py::array>, Greek::count> arrays;
    std::array<std::string, Greek::count> names;
    std::optional<Greek::Index> first;
    for (std::size_t g = 0; g < Greek::count; ++g) {
        names[g] = std::string("out.") + kGreekNames[g];
        arrays[g] = optional_array_arg(field_of(out, "out", kGreekNames[g]), names[g].c_str());
        if (arrays[g] && !first) first = static_cast<Greek::Index>(g);
    }
    if (!first) throw py::value_error("out: every Greek is None; request at least one");
    const Element precision =
        element_arg(*arrays[*first], {Element::float64, Element::float32}, names[*first].c_str());
    const auto shape = shape_of(*arrays[*first]);
    const Layout layout = layout_of(shape);
    const BsInputs in = bs_inputs(inputs_of(spot, strike, tau, vol, rate, div_yield, is_call), layout);
    std::vector<NamedRange> ranges = input_ranges(in);
    const auto run = [&](auto zero) {
        using Real = decltype(zero);
        GreeksOutOf<Real> pointers;
        for (std::size_t g = 0; g < Greek::count; ++g) {
            if (!arrays[g]) continue;
            pointers.at[g] = contiguous_output<Real>(*arrays[g], shape, names[g].c_str());
            ranges.push_back({byte_range(*arrays[g]), names[g].c_str()});
        }
        require_no_overlap(ranges);
        run_without_gil(
            [&](Interrupt* interrupt) { bs_greeks(layout, in.args, pointers, nthreads, interrupt); });
    };
    if (precision == Element::float64)
        run(0.0);
    else
        run(0.0f);
}

void price(const py::object& spot, const py::object& strike, const py::object& tau, const py::object& vol,
           const py::object& rate, const py::object& div_yield, const py::object& is_call,
           const py::object& out, const py::object& threads) {
    const int nthreads = integer_arg<int>(threads, "threads", 0);
    py::array out_array = array_arg(out, "out");
    const Element precision = element_arg(out_array, {Element::float64, Element::float32}, "out");
    const auto shape = shape_of(out_array);
    const Layout layout = layout_of(shape);
    const BsInputs in = bs_inputs(inputs_of(spot, strike, tau, vol, rate, div_yield, is_call), layout);
    std::vector<NamedRange> ranges = input_ranges(in);
    ranges.push_back({byte_range(out_array), "out"});
    const auto run = [&](auto zero) {
        using Real = decltype(zero);
        Real* prices = contiguous_output<Real>(out_array, shape, "out");
        require_no_overlap(ranges);
        run_without_gil(
            [&](Interrupt* interrupt) { bs_price(layout, in.args, prices, nthreads, interrupt); });
    };
    if (precision == Element::float64)
        run(0.0);
    else
        run(0.0f);
}

}  // namespace

void register_greeks(py::module_& m) {
    m.attr("GREEK_NAMES") = names_tuple(kGreekNames);

    m.def("bs_greeks", &greeks, py::kw_only(), py::arg(kBsInputNames[BsInput::spot]),
          py::arg(kBsInputNames[BsInput::strike]), py::arg(kBsInputNames[BsInput::tau]),
          py::arg(kBsInputNames[BsInput::vol]), py::arg(kBsInputNames[BsInput::rate]),
          py::arg(kBsInputNames[BsInput::div_yield]), py::arg(kBsInputNames[BsInput::is_call]),
          py::arg("out"), py::arg("threads"),
          "Fill out.<name> for every name in GREEK_NAMES whose attribute is an array (None: not computed; "
          "preallocated C-contiguous arrays of one shape and one dtype, float64 or float32, which is the "
          "precision computed in) from float64/float32 inputs broadcast to that shape (is_call bool/uint8, "
          "nonzero = call). Outputs must not overlap inputs or each other. threads: 0 = all cores. Ctrl-C "
          "stops the call (KeyboardInterrupt; outputs partly written).");
    m.def(
        "bs_price", &price, py::kw_only(), py::arg(kBsInputNames[BsInput::spot]),
        py::arg(kBsInputNames[BsInput::strike]), py::arg(kBsInputNames[BsInput::tau]),
        py::arg(kBsInputNames[BsInput::vol]), py::arg(kBsInputNames[BsInput::rate]),
        py::arg(kBsInputNames[BsInput::div_yield]), py::arg(kBsInputNames[BsInput::is_call]), py::arg("out"),
        py::arg("threads"),
        "Fill a preallocated C-contiguous float64 or float32 price array `out` from inputs broadcast to its "
        "shape (as bs_greeks). threads: 0 = all cores.");
}
