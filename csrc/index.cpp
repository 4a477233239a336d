// Bindings for the indexing, gathering and joining ops (src/ops/index.h).
// Advanced-indexing lists arrive as lists of Tensor-or-None.
#include "bindings.h"
#include "ops/index.h"

namespace glassnet::bindings {

void init_index(py::module_& m) {
  const auto nogil = py::call_guard<py::gil_scoped_release>();
  m.def("index_select", &index_select, py::arg("x"), py::arg("dim"), py::arg("index"), nogil);
  m.def("index_add", &index_add, py::arg("x"), py::arg("dim"), py::arg("index"), py::arg("source"), nogil);
  m.def("index_select_backward", &index_select_backward, py::arg("grad"), py::arg("input_shape"), py::arg("dim"),
        py::arg("index"), nogil);
  m.def("gather", &gather, py::arg("x"), py::arg("dim"), py::arg("index"), nogil);
  m.def("scatter", &scatter, py::arg("x"), py::arg("dim"), py::arg("index"), py::arg("src"), nogil);
  m.def("scatter_add", &scatter_add, py::arg("x"), py::arg("dim"), py::arg("index"), py::arg("src"), nogil);
  m.def("gather_backward", &gather_backward, py::arg("grad"), py::arg("input_shape"), py::arg("dim"),
        py::arg("index"), nogil);
  m.def("index", &index, py::arg("x"), py::arg("indices"), nogil);
  m.def("index_put", &index_put, py::arg("x"), py::arg("indices"), py::arg("values"),
        py::arg("accumulate") = false, nogil);
  m.def("index_put_", [](Tensor& x, const IndexList& indices, const Tensor& values, bool accumulate) {
    index_put_(x, indices, values, accumulate);
  }, py::arg("x"), py::arg("indices"), py::arg("values"), py::arg("accumulate") = false, nogil);
  m.def("index_backward", &index_backward, py::arg("grad"), py::arg("input_shape"), py::arg("indices"), nogil);
  m.def("nonzero", &nonzero, py::arg("x"), nogil);
  m.def("masked_select", &masked_select, py::arg("x"), py::arg("mask"), nogil);
  m.def("one_hot", &one_hot, py::arg("labels"), py::arg("num_classes") = -1, nogil);
  m.def("cat", &cat, py::arg("tensors"), py::arg("dim") = 0, nogil);
  m.def("stack", &stack, py::arg("tensors"), py::arg("dim") = 0, nogil);
  m.def("repeat", &repeat, py::arg("x"), py::arg("repeats"), nogil);
  m.def("repeat_backward", &repeat_backward, py::arg("grad"), py::arg("input_shape"), py::arg("repeats"), nogil);
}

}  // namespace glassnet::bindings
