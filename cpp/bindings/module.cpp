// Only wires the per-area registration functions into dispersionkit._core.
#include "prelude.hpp"

#include "dispersionkit/config.hpp"
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
    // How the kernels were compiled, for `dispersionkit bench` to print beside its timings.
#if defined(DK_NATIVE_BUILD)
#if defined(__AVX512F__)
    m.attr("BUILD") = "native (-march=native, 512-bit vectors preferred)";
#else
    m.attr("BUILD") = "native (-march=native)";
#endif
#elif defined(DK_SANITIZER_BUILD)
    m.attr("BUILD") = "sanitizer (one baseline version)";
#else
    m.attr("BUILD") = "portable (AVX-512 / AVX2 / baseline clones chosen at load)";
#endif
    register_book(m);
    register_correlation(m);
    register_greeks(m);
    register_implied_vol(m);
    register_paths(m);
    register_surface(m);
    register_swaps(m);
}
