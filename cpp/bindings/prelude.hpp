// Included first by every binding file: pybind11, the checks that turn Python arguments into
// what the kernels take, and the call wrapper that releases the GIL and handles Ctrl-C.
//
// Every _core function takes keyword-only arguments, each read and checked here by name:
// errors name the argument (TypeError for a wrong type, ValueError for a wrong value), never
// pybind11's list of signatures. The Python layer validates first and gives friendlier
// messages; these checks are the last line of defence against a malformed call.
#pragma once

#include <Python.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "dispersionkit/parallel.hpp"
#include "dispersionkit/strided.hpp"

namespace py = pybind11;

namespace dk::bind {

inline std::string type_name(const py::handle& value) { return Py_TYPE(value.ptr())->tp_name; }

// ---- scalars ------------------------------------------------------------------------------

// An int (or NumPy integer; not bool) in [lo, hi]. Python ints have no size limit, so a value
// outside T's range is an ordinary ValueError.
template <class T>
T integer_arg(const py::handle& value, const char* name, T lo = std::numeric_limits<T>::min(),
              T hi = std::numeric_limits<T>::max()) {
    static_assert(std::is_integral_v<T> && sizeof(T) <= 8);
    if (PyBool_Check(value.ptr()) || !PyIndex_Check(value.ptr()))
        throw py::type_error(std::string(name) + ": expected an int, got " + type_name(value));
    const auto index = py::reinterpret_steal<py::object>(PyNumber_Index(value.ptr()));
    if (!index) throw py::error_already_set();
    const auto out_of_range = [&] {
        return py::value_error(std::string(name) + ": must be in [" + std::to_string(lo) + ", " +
                               std::to_string(hi) + "], got " + std::string(py::str(index)));
    };
    if constexpr (std::is_unsigned_v<T>) {
        const int negative = PyObject_RichCompareBool(index.ptr(), py::int_(0).ptr(), Py_LT);
        if (negative < 0) throw py::error_already_set();
        if (negative) throw out_of_range();
        const unsigned long long v = PyLong_AsUnsignedLongLong(index.ptr());
        if (v == static_cast<unsigned long long>(-1) && PyErr_Occurred()) {
            PyErr_Clear();
            throw out_of_range();
        }
        if (v < lo || v > hi) throw out_of_range();
        return static_cast<T>(v);
    } else {
        int overflow = 0;
        const long long v = PyLong_AsLongLongAndOverflow(index.ptr(), &overflow);
        if (v == -1 && PyErr_Occurred()) throw py::error_already_set();
        if (overflow != 0 || v < lo || v > hi) throw out_of_range();
        return static_cast<T>(v);
    }
}

// A real number (int, float or NumPy scalar; not bool); with `finite`, NaN and inf are errors.
inline double real_arg(const py::handle& value, const char* name, bool finite = true) {
    if (PyBool_Check(value.ptr()) || !(PyFloat_Check(value.ptr()) || PyIndex_Check(value.ptr()) ||
                                       PyObject_HasAttrString(value.ptr(), "__float__")))
        throw py::type_error(std::string(name) + ": expected a real number, got " + type_name(value));
    const double v = PyFloat_AsDouble(value.ptr());
    if (v == -1.0 && PyErr_Occurred()) {
        PyErr_Clear();  // e.g. an int beyond the double range (OverflowError)
        throw py::value_error(std::string(name) + ": not representable as a float64");
    }
    if (finite && !std::isfinite(v)) throw py::value_error(std::string(name) + ": must be finite");
    return v;
}

// ---- arrays -------------------------------------------------------------------------------

// An ndarray, not converted: an output written into a converted copy would be lost, and an
// input is always an array by the time it gets here.
inline py::array array_arg(const py::handle& value, const char* name) {
    if (!py::isinstance<py::array>(value))
        throw py::type_error(std::string(name) + ": expected a numpy.ndarray, got " + type_name(value));
    return py::reinterpret_borrow<py::array>(value);
}

inline std::optional<py::array> optional_array_arg(const py::handle& value, const char* name) {
    if (value.is_none()) return std::nullopt;
    return array_arg(value, name);
}

// The attribute `field` of a Python object, read as an argument named "owner.field".
inline py::object field_of(const py::handle& owner, const char* owner_name, const char* field) {
    const std::string name = std::string(owner_name) + "." + field;
    if (!py::hasattr(owner, field))
        throw py::type_error(name + ": missing (" + owner_name + " is a " + type_name(owner) + ")");
    return owner.attr(field);
}

inline bool native_byte_order(char order) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    constexpr char kNative = '>';
#else
    constexpr char kNative = '<';
#endif
    return order == '=' || order == '|' || order == kNative;
}

// Any dtype equal to T's in native byte order: an array that went through pickle (e.g. to a
// worker process) has an equal dtype object that is not NumPy's singleton.
template <class T>
inline void require_dtype(const py::array& a, const char* name) {
    const py::dtype expected = py::dtype::of<T>();
    const py::dtype got = a.dtype();
    if (got.normalized_num() != expected.normalized_num() || got.itemsize() != expected.itemsize())
        throw py::type_error(std::string(name) + ": expected dtype " + std::string(py::str(expected)) +
                             ", got " + std::string(py::str(got)));
    if (!native_byte_order(got.byteorder()))
        throw py::type_error(std::string(name) + ": expected dtype " + std::string(py::str(expected)) +
                             " in native byte order, got " + std::string(py::str(got)) +
                             " (a.astype(a.dtype.newbyteorder('=')) converts it)");
}

// Kernels read contiguous data through T*; NumPy can hand over buffers that are not aligned for
// T (np.frombuffer at an odd offset, fields of packed records), where that read is undefined.
inline void require_aligned(const py::array& a, const char* name) {
    if (!(a.flags() & py::detail::npy_api::NPY_ARRAY_ALIGNED_))
        throw py::value_error(std::string(name) +
                              ": not aligned for its dtype (np.require(a, requirements='A') copies it)");
}

inline Layout layout_of(const std::vector<py::ssize_t>& shape) {
    if (shape.size() > static_cast<std::size_t>(kMaxDims)) throw py::value_error("too many dimensions");
    Layout layout;
    layout.ndim = static_cast<int>(shape.size());
    for (std::size_t d = 0; d < shape.size(); ++d) {
        if (shape[d] < 0) throw py::value_error("negative dimension");
        layout.shape[d] = shape[d];
    }
    return layout;
}

inline std::vector<py::ssize_t> shape_of(const py::array& a) {
    return std::vector<py::ssize_t>(a.shape(), a.shape() + a.ndim());
}

// An input already broadcast to `layout` (stride-0 views allowed).
template <class T>
inline StridedArg strided_input(const py::array& a, const Layout& layout, const char* name) {
    require_dtype<T>(a, name);
    if (a.ndim() != layout.ndim)
        throw py::value_error(std::string(name) + ": not broadcast to the output shape");
    StridedArg arg;
    arg.data = static_cast<const char*>(a.data());
    for (int d = 0; d < layout.ndim; ++d) {
        if (a.shape(d) != layout.shape[d])
            throw py::value_error(std::string(name) + ": not broadcast to the output shape");
        arg.strides[d] = a.strides(d);
    }
    return arg;
}

// The element type of an array whose dtype is one of `allowed` (in native byte order); bool
// and uint8 are both read as uint8. TypeError naming the argument otherwise.
inline Element element_arg(const py::array& a, std::initializer_list<Element> allowed, const char* name) {
    const py::dtype got = a.dtype();
    const auto matches = [&](Element e) {
        if (e == Element::uint8)
            return got.normalized_num() == py::dtype::of<bool>().normalized_num() ||
                   got.normalized_num() == py::dtype::of<std::uint8_t>().normalized_num();
        const py::dtype want = e == Element::float64 ? py::dtype::of<double>() : py::dtype::of<float>();
        return got.normalized_num() == want.normalized_num() && got.itemsize() == want.itemsize();
    };
    std::string expected;
    for (Element e : allowed)
        expected += (expected.empty() ? "" : " or ") +
                    std::string(e == Element::float64 ? "float64"
                                                      : (e == Element::float32 ? "float32" : "bool/uint8"));
    for (Element e : allowed) {
        if (!matches(e)) continue;
        if (!native_byte_order(got.byteorder()))
            throw py::type_error(std::string(name) + ": expected dtype " + expected +
                                 " in native byte order, got " + std::string(py::str(got)) +
                                 " (a.astype(a.dtype.newbyteorder('=')) converts it)");
        return e;
    }
    throw py::type_error(std::string(name) + ": expected dtype " + expected + ", got " +
                         std::string(py::str(got)));
}

// An input already broadcast to `layout` (stride-0 views allowed) whose dtype is one of
// `allowed`; the kernels' gathers convert it to their own element type.
inline StridedArg strided_input_of(const py::array& a, const Layout& layout,
                                   std::initializer_list<Element> allowed, const char* name) {
    const Element type = element_arg(a, allowed, name);
    if (a.ndim() != layout.ndim)
        throw py::value_error(std::string(name) + ": not broadcast to the output shape");
    StridedArg arg;
    arg.data = static_cast<const char*>(a.data());
    arg.type = type;
    for (int d = 0; d < layout.ndim; ++d) {
        if (a.shape(d) != layout.shape[d])
            throw py::value_error(std::string(name) + ": not broadcast to the output shape");
        arg.strides[d] = a.strides(d);
    }
    return arg;
}

// ---- overlapping arrays -------------------------------------------------------------------

// The bytes [lo, hi) an array's elements can occupy (np.byte_bounds); empty for a size-0 array.
struct ByteRange {
    std::uintptr_t lo = 0, hi = 0;
};

inline ByteRange byte_range(const py::array& a) {
    if (a.size() == 0) return {};
    auto lo = reinterpret_cast<std::uintptr_t>(a.data()), hi = lo;
    for (py::ssize_t d = 0; d < a.ndim(); ++d) {
        const auto extent = static_cast<std::uintptr_t>(a.shape(d) - 1);
        const py::ssize_t stride = a.strides(d);
        if (stride >= 0)
            hi += extent * static_cast<std::uintptr_t>(stride);
        else
            lo -= extent * static_cast<std::uintptr_t>(-stride);
    }
    return {lo, hi + static_cast<std::uintptr_t>(a.itemsize())};
}

// ValueError naming the first output whose bytes may overlap an input or another output (the
// bounds test of np.may_share_memory): the kernels read inputs while writing outputs, so such
// a call would silently compute from half-overwritten data. Inputs may overlap each other. One
// sort and one sweep: O(k log k) for k arrays, instead of one test per (output, input) pair.
struct NamedRange {
    ByteRange range;
    const char* name;  // null for an input
};

inline void require_no_overlap(std::vector<NamedRange> ranges) {
    std::sort(ranges.begin(), ranges.end(),
              [](const NamedRange& a, const NamedRange& b) { return a.range.lo < b.range.lo; });
    std::uintptr_t any_hi = 0, output_hi = 0;
    const char* output_name = nullptr;
    for (const NamedRange& r : ranges) {
        if (r.range.lo == r.range.hi) continue;  // empty
        const bool is_output = r.name != nullptr;
        // Sorted by start, so an earlier range overlaps this one exactly when it ends after this start.
        if (is_output && r.range.lo < any_hi)
            throw py::value_error(std::string(r.name) +
                                  ": overlaps an input array or another output; use a separate buffer");
        if (!is_output && r.range.lo < output_hi)
            throw py::value_error(std::string(output_name) +
                                  ": overlaps an input array or another output; use a separate buffer");
        any_hi = std::max(any_hi, r.range.hi);
        if (is_output && r.range.hi > output_hi) {
            output_hi = r.range.hi;
            output_name = r.name;
        }
    }
}

// A writable, C-contiguous output of exactly `shape`.
template <class T>
inline T* contiguous_output(py::array& a, const std::vector<py::ssize_t>& shape, const char* name) {
    require_dtype<T>(a, name);
    if (shape_of(a) != shape) throw py::value_error(std::string(name) + ": wrong shape");
    if (!(a.flags() & py::array::c_style))
        throw py::value_error(std::string(name) + ": must be C-contiguous");
    if (!a.writeable()) throw py::value_error(std::string(name) + ": is read-only");
    require_aligned(a, name);
    return static_cast<T*>(a.mutable_data());
}

// A C-contiguous input of exactly `shape`.
template <class T>
inline const T* contiguous_input(const py::array& a, const std::vector<py::ssize_t>& shape,
                                 const char* name) {
    require_dtype<T>(a, name);
    if (shape_of(a) != shape) throw py::value_error(std::string(name) + ": wrong shape");
    if (!(a.flags() & py::array::c_style))
        throw py::value_error(std::string(name) + ": must be C-contiguous");
    require_aligned(a, name);
    return static_cast<const T*>(a.data());
}

// A C++ list of names (config.hpp's DK_NAME lists) as a Python tuple, for _core's constants.
template <std::size_t N>
py::tuple names_tuple(const char* const (&names)[N]) {
    py::tuple out(N);
    for (std::size_t i = 0; i < N; ++i) out[i] = py::str(names[i]);
    return out;
}

// ---- running a kernel ---------------------------------------------------------------------

// The thread that imported _core's notion of the main thread: only there does Python run
// signal handlers (PyErr_CheckSignals is a no-op elsewhere), so only there is polling useful.
unsigned long main_thread_id();

// Interrupt poll: runs pending Python signal handlers with the GIL taken briefly; true when
// one raised (Ctrl-C's KeyboardInterrupt), which stays set as the thread's Python error.
inline bool poll_python_signals(void*) {
    py::gil_scoped_acquire gil;
    return PyErr_CheckSignals() != 0;
}

// Runs kernel(Interrupt*) with the GIL released. On the main thread the kernel's checks poll
// for signals every Interrupt::kPollInterval; when a handler raises (Ctrl-C), the kernel's
// threads stop at their next check, and once they all have, that exception is raised here.
// Outputs are then partly written; the pool is ready for the next call.
template <class Kernel>
void run_without_gil(Kernel&& kernel) {
    const bool main_thread = PyThread_get_thread_ident() == main_thread_id();
    Interrupt interrupt = main_thread ? Interrupt(&poll_python_signals, nullptr) : Interrupt();
    try {
        py::gil_scoped_release release;
        kernel(&interrupt);
    } catch (const Interrupted&) {
        throw py::error_already_set();  // the exception the signal handler raised
    }
}

}  // namespace dk::bind
