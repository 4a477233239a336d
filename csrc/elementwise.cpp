#include "bindings.h"
#include "ops/elementwise.h"
#include "ops/fill.h"

namespace glassnet::bindings {

void init_elementwise(py::module_& m) {
  py::enum_<UnaryOp>(m, "UnaryOp")
      .value("neg", UnaryOp::Neg).value("abs", UnaryOp::Abs).value("exp", UnaryOp::Exp)
      .value("log", UnaryOp::Log).value("log1p", UnaryOp::Log1p).value("sqrt", UnaryOp::Sqrt)
      .value("rsqrt", UnaryOp::Rsqrt).value("sin", UnaryOp::Sin).value("cos", UnaryOp::Cos)
      .value("sign", UnaryOp::Sign).value("reciprocal", UnaryOp::Reciprocal).value("expm1", UnaryOp::Expm1)
      .value("relu", UnaryOp::Relu).value("sigmoid", UnaryOp::Sigmoid).value("tanh", UnaryOp::Tanh)
      .value("relu6", UnaryOp::Relu6).value("leaky_relu", UnaryOp::LeakyRelu).value("elu", UnaryOp::Elu)
      .value("selu", UnaryOp::Selu).value("gelu", UnaryOp::Gelu).value("gelu_tanh", UnaryOp::GeluTanh)
      .value("silu", UnaryOp::Silu).value("softplus", UnaryOp::Softplus).value("hardtanh", UnaryOp::Hardtanh)
      .value("clamp_min", UnaryOp::ClampMin).value("clamp_max", UnaryOp::ClampMax).value("clamp", UnaryOp::Clamp)
      .value("square", UnaryOp::Square).value("floor", UnaryOp::Floor).value("ceil", UnaryOp::Ceil)
      .value("round", UnaryOp::Round).value("trunc", UnaryOp::Trunc).value("isnan", UnaryOp::IsNan)
      .value("isinf", UnaryOp::IsInf).value("isfinite", UnaryOp::IsFinite)
      .value("logical_not", UnaryOp::LogicalNot);

  py::enum_<BinaryOp>(m, "BinaryOp")
      .value("add", BinaryOp::Add).value("sub", BinaryOp::Sub).value("mul", BinaryOp::Mul)
      .value("div", BinaryOp::Div).value("pow", BinaryOp::Pow).value("maximum", BinaryOp::Maximum)
      .value("minimum", BinaryOp::Minimum).value("atan2", BinaryOp::Atan2)
      .value("remainder", BinaryOp::Remainder).value("floor_divide", BinaryOp::FloorDivide)
      .value("eq", BinaryOp::Eq).value("ne", BinaryOp::Ne).value("lt", BinaryOp::Lt).value("le", BinaryOp::Le)
      .value("gt", BinaryOp::Gt).value("ge", BinaryOp::Ge).value("logical_and", BinaryOp::LogicalAnd)
      .value("logical_or", BinaryOp::LogicalOr).value("logical_xor", BinaryOp::LogicalXor);

  const auto nogil = py::call_guard<py::gil_scoped_release>();
  m.def("unary", &unary, py::arg("op"), py::arg("x"), py::arg("p0") = 0.0, py::arg("p1") = 0.0, nogil);
  m.def("unary_backward", &unary_backward, py::arg("op"), py::arg("grad"), py::arg("x"), py::arg("y"),
        py::arg("p0") = 0.0, py::arg("p1") = 0.0, nogil);
  m.def("binary", &binary, nogil);
  m.def("binary_", [](BinaryOp op, Tensor& a, const Tensor& b) { binary_(op, a, b); }, nogil);
  m.def("where", &where, nogil);
  m.def("result_type", &result_type);
}

void init_creation(py::module_& m) {
  const auto nogil = py::call_guard<py::gil_scoped_release>();
  m.def("arange", &arange, nogil);
  m.def("linspace", &linspace, nogil);
  m.def("eye", &eye, nogil);
}

}  // namespace glassnet::bindings
