#include "bindings.h"
#include "ops/matmul.h"

namespace glassnet::bindings {

void init_linalg(py::module_& m) {
  const auto nogil = py::call_guard<py::gil_scoped_release>();
  m.def("matmul", &matmul, nogil);
  m.def("linear", [](const Tensor& x, const Tensor& w, std::optional<Tensor> bias) {
    return linear_forward(x, w, bias ? &*bias : nullptr);
  }, py::arg("x"), py::arg("weight"), py::arg("bias") = py::none(), nogil);
  m.def("addmm", &addmm, py::arg("input"), py::arg("a"), py::arg("b"), py::arg("beta") = 1.0,
        py::arg("alpha") = 1.0, nogil);
  m.def("mm_nt", &mm_nt, nogil);
  m.def("mm_tn", &mm_tn, nogil);
}

}  // namespace glassnet::bindings
