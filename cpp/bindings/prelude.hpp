// Included first by every binding file: pybind11, array aliases, and the checks that turn
// NumPy arrays into (pointer, strides) for the kernels. Errors raised here are the last line
// of defence; the Python layer validates first and gives friendlier messages.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <array>
#include <cstddef>
#include <string>
#include <vector>

#include "dispersionkit/strided.hpp"

namespace py = pybind11;

namespace dk::bind {

// Equivalence, not identity: an array that went through pickle (Dask workers, multiprocessing)
// carries a dtype object equal to NumPy's float64 but not the same object.
template <class T>
inline void require_dtype(const py::array& a, const char* name) {
    if (!py::detail::npy_api::get().PyArray_EquivTypes_(a.dtype().ptr(), py::dtype::of<T>().ptr()))
        throw py::type_error(std::string(name) + ": expected dtype " +
                             std::string(py::str(py::dtype::of<T>())) + ", got " +
                             std::string(py::str(a.dtype())));
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

}  // namespace dk::bind
