// Only wires the per-area registration functions into dispersionkit._core.
#include "prelude.hpp"

#include "dispersionkit/parallel.hpp"

void register_book(py::module_& m);
void register_correlation(py::module_& m);
void register_greeks(py::module_& m);
void register_implied_vol(py::module_& m);
void register_paths(py::module_& m);
void register_surface(py::module_& m);
void register_swaps(py::module_& m);

namespace {
unsigned long main_thread = 0;
}

unsigned long dk::bind::main_thread_id() { return main_thread; }

PYBIND11_MODULE(_core, m) {
    m.doc() = "dispersionkit C++ core: batched kernels on raw pointers, GIL released during compute";
    main_thread = py::module_::import("threading").attr("main_thread")().attr("ident").cast<unsigned long>();
    m.def("hardware_threads", &dk::hardware_threads,
          "Number of cores in the process's affinity mask: the threads threads=None uses, and one more than "
          "the most worker threads the pool ever starts.");
    register_book(m);
    register_correlation(m);
    register_greeks(m);
    register_implied_vol(m);
    register_paths(m);
    register_surface(m);
    register_swaps(m);
}
