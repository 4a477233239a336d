// Bindings `glassnet bench` uses to describe the machine: the CPU features the
// kernels dispatch on and the measured FMA peak that GFLOP/s are compared with.
#include "bindings.h"
#include "cpu.h"
#include "gemm/kernel.h"

namespace glassnet::bindings {

void init_bench(py::module_& m) {
  m.def("cpu_has_avx2_fma", &cpu_has_avx2_fma);
  m.def("gemm_kernel_name", [] { return std::string(gemm::kernel_name()); });
  m.def("measure_fma_peak_gflops", &measure_fma_peak_gflops, py::arg("threads") = 1, py::arg("seconds") = 0.3,
        py::call_guard<py::gil_scoped_release>());
}

}  // namespace glassnet::bindings
