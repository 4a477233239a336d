// Bindings for the recurrent layers (src/ops/rnn.h): one layer's forward and
// backward. The saved buffers go back to Python as an opaque RnnSaved object
// that the autograd node holds until its backward runs.
#include "bindings.h"
#include "ops/rnn.h"

namespace glassnet::bindings {

namespace {

using MaybeTensor = std::optional<Tensor>;
// One direction's (weight_ih, weight_hh, bias_ih, bias_hh, weight_hr); the
// biases and the LSTM projection weight_hr may be None.
using WeightTuple = std::tuple<Tensor, Tensor, MaybeTensor, MaybeTensor, MaybeTensor>;
using GradTuple = std::tuple<MaybeTensor, MaybeTensor, MaybeTensor, MaybeTensor, MaybeTensor>;

Tensor or_undefined(const MaybeTensor& t) { return t ? *t : Tensor(); }
MaybeTensor maybe(const Tensor& t) { return t.defined() ? MaybeTensor(t) : std::nullopt; }

std::vector<RnnWeights> to_weights(const std::vector<WeightTuple>& ws) {
  std::vector<RnnWeights> out;
  for (const auto& [w_ih, w_hh, b_ih, b_hh, w_hr] : ws)
    out.push_back({w_ih, w_hh, or_undefined(b_ih), or_undefined(b_hh), or_undefined(w_hr)});
  return out;
}

std::vector<GradTuple> from_weights(const std::vector<RnnWeights>& ws) {
  std::vector<GradTuple> out;
  for (const RnnWeights& w : ws)
    out.emplace_back(maybe(w.w_ih), maybe(w.w_hh), maybe(w.b_ih), maybe(w.b_hh), maybe(w.w_hr));
  return out;
}

}  // namespace

void init_rnn(py::module_& m) {
  const auto nogil = py::call_guard<py::gil_scoped_release>();
  py::enum_<RnnMode>(m, "RnnMode")
      .value("RNN_TANH", RnnMode::Tanh)
      .value("RNN_RELU", RnnMode::Relu)
      .value("LSTM", RnnMode::Lstm)
      .value("GRU", RnnMode::Gru);
  py::class_<RnnSaved>(m, "RnnSaved");

  m.def("rnn_layer_forward", [](RnnMode mode, const Tensor& x, const MaybeTensor& h0, const MaybeTensor& c0,
                                const std::vector<WeightTuple>& weights, const MaybeTensor& lengths) {
    RnnForwardResult r = rnn_layer_forward(mode, x, or_undefined(h0), or_undefined(c0), to_weights(weights),
                                           or_undefined(lengths));
    return std::make_tuple(r.output, r.h_n, maybe(r.c_n), std::move(r.saved));
  }, py::arg("mode"), py::arg("x"), py::arg("h0"), py::arg("c0"), py::arg("weights"), py::arg("lengths"), nogil);

  m.def("rnn_layer_backward", [](RnnMode mode, const RnnSaved& saved, const std::vector<WeightTuple>& weights,
                                 const MaybeTensor& grad_output, const MaybeTensor& grad_h_n,
                                 const MaybeTensor& grad_c_n, bool need_x, bool need_h0, bool need_c0,
                                 bool need_weights) {
    RnnBackwardResult r = rnn_layer_backward(mode, saved, to_weights(weights), or_undefined(grad_output),
                                             or_undefined(grad_h_n), or_undefined(grad_c_n), need_x, need_h0,
                                             need_c0, need_weights);
    return std::make_tuple(maybe(r.grad_x), maybe(r.grad_h0), maybe(r.grad_c0), from_weights(r.grad_weights));
  }, py::arg("mode"), py::arg("saved"), py::arg("weights"), py::arg("grad_output"), py::arg("grad_h_n"),
        py::arg("grad_c_n"), py::arg("need_x"), py::arg("need_h0"), py::arg("need_c0"), py::arg("need_weights"),
        nogil);
}

}  // namespace glassnet::bindings
