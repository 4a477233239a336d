// Bindings for reductions, index reductions and softmax (src/ops/reduce.h).
#include "bindings.h"
#include "ops/reduce.h"
#include "ops/stream_stats.h"

namespace glassnet::bindings {

void init_reduce(py::module_& m) {
  const auto nogil = py::call_guard<py::gil_scoped_release>();
  py::enum_<ReduceOp>(m, "ReduceOp")
      .value("sum", ReduceOp::Sum)
      .value("mean", ReduceOp::Mean)
      .value("prod", ReduceOp::Prod)
      .value("amax", ReduceOp::Max)
      .value("amin", ReduceOp::Min)
      .value("all", ReduceOp::All)
      .value("any", ReduceOp::Any);
  m.def("reduce", &reduce, py::arg("op"), py::arg("x"), py::arg("dims"), py::arg("keepdim"), nogil);
  m.def("prod_backward", &prod_backward, py::arg("grad"), py::arg("x"), py::arg("dims"), nogil);
  m.def("var", &var, py::arg("x"), py::arg("dims"), py::arg("correction"), py::arg("keepdim"), nogil);
  m.def("logsumexp", &logsumexp, py::arg("x"), py::arg("dims"), py::arg("keepdim"), nogil);
  m.def("norm", &norm, py::arg("x"), py::arg("p"), py::arg("dims"), py::arg("keepdim"), nogil);
  m.def("max_dim", &max_dim, py::arg("x"), py::arg("dim"), py::arg("keepdim"), nogil);
  m.def("min_dim", &min_dim, py::arg("x"), py::arg("dim"), py::arg("keepdim"), nogil);
  m.def("argmax", &argmax, py::arg("x"), py::arg("has_dim"), py::arg("dim"), py::arg("keepdim"), nogil);
  m.def("argmin", &argmin, py::arg("x"), py::arg("has_dim"), py::arg("dim"), py::arg("keepdim"), nogil);
  m.def(
      "stream_stats",
      [](const Tensor& x, bool per_unit) {
        StreamStats s;
        {
          py::gil_scoped_release release;
          s = stream_stats(x, per_unit);
        }
        return py::make_tuple(s.sum, s.sumsq, s.nonpos, s.max);
      },
      py::arg("x"), py::arg("per_unit"));
  m.def("softmax", &softmax, py::arg("x"), py::arg("dim"), nogil);
  m.def("log_softmax", &log_softmax, py::arg("x"), py::arg("dim"), nogil);
  m.def("softmax_backward", &softmax_backward, py::arg("grad"), py::arg("y"), py::arg("dim"), nogil);
  m.def("log_softmax_backward", &log_softmax_backward, py::arg("grad"), py::arg("y"), py::arg("dim"), nogil);
  m.def("reduced_shape", &reduced_shape, py::arg("shape"), py::arg("dims"), py::arg("keepdim"),
        py::arg("op") = "reduce");
}

}  // namespace glassnet::bindings
