#include "bindings.h"
#include "ops/matmul.h"

namespace glassnet::bindings {

void init_linalg(py::module_& m) {
  const auto nogil = py::call_guard<py::gil_scoped_release>();
  // Releasing and re-taking the GIL costs about 0.1 µs, a tenth of a small
  // training product (32×128·128×10): keep it below ~64K multiply-adds.
  m.def("matmul", [](const Tensor& a, const Tensor& b) {
    const int64_t n = b.dim() > 0 ? b.size(b.dim() - 1) : 1;
    if (a.numel() * n < (int64_t(1) << 16)) return matmul(a, b);
    py::gil_scoped_release release;
    return matmul(a, b);
  });
  m.def("linear", [](const Tensor& x, const Tensor& w, std::optional<Tensor> bias) {
    return linear_forward(x, w, bias ? &*bias : nullptr);
  }, py::arg("x"), py::arg("weight"), py::arg("bias") = py::none(), nogil);
  m.def("addmm", &addmm, py::arg("input"), py::arg("a"), py::arg("b"), py::arg("beta") = 1.0,
        py::arg("alpha") = 1.0, nogil);
  m.def("mm_nt", &mm_nt, nogil);
  m.def("mm_tn", &mm_tn, nogil);
}

}  // namespace glassnet::bindings
