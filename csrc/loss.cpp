// Bindings for the loss kernels (src/ops/loss.h): one forward and one
// backward entry point per loss; absent weights arrive as None.
#include "bindings.h"
#include "ops/loss.h"

namespace glassnet::bindings {

void init_loss(py::module_& m) {
  const auto nogil = py::call_guard<py::gil_scoped_release>();
  py::enum_<Reduction>(m, "Reduction")
      .value("none", Reduction::None).value("mean", Reduction::Mean).value("sum", Reduction::Sum)
      .value("batchmean", Reduction::BatchMean);
  py::enum_<PointwiseLoss>(m, "PointwiseLoss")
      .value("mse", PointwiseLoss::Mse).value("l1", PointwiseLoss::L1)
      .value("smooth_l1", PointwiseLoss::SmoothL1).value("huber", PointwiseLoss::Huber);

  m.def("cross_entropy_forward", &cross_entropy_forward, py::arg("input"), py::arg("target"), py::arg("weight"),
        py::arg("ignore_index"), py::arg("reduction"), py::arg("label_smoothing"), nogil);
  m.def("cross_entropy_backward", &cross_entropy_backward, py::arg("grad"), py::arg("input"), py::arg("target"),
        py::arg("weight"), py::arg("stats"), py::arg("total_weight"), py::arg("ignore_index"), py::arg("reduction"),
        py::arg("label_smoothing"), nogil);
  m.def("cross_entropy_prob_forward", &cross_entropy_prob_forward, py::arg("input"), py::arg("target"),
        py::arg("weight"), py::arg("reduction"), py::arg("label_smoothing"), nogil);
  m.def("cross_entropy_prob_backward", &cross_entropy_prob_backward, py::arg("grad"), py::arg("input"),
        py::arg("target"), py::arg("weight"), py::arg("stats"), py::arg("reduction"), py::arg("label_smoothing"),
        py::arg("need_target_grad"), nogil);
  m.def("nll_loss_forward", &nll_loss_forward, py::arg("input"), py::arg("target"), py::arg("weight"),
        py::arg("ignore_index"), py::arg("reduction"), nogil);
  m.def("nll_loss_backward", &nll_loss_backward, py::arg("grad"), py::arg("input"), py::arg("target"),
        py::arg("weight"), py::arg("total_weight"), py::arg("ignore_index"), py::arg("reduction"), nogil);

  m.def("pointwise_loss_forward", &pointwise_loss_forward, py::arg("kind"), py::arg("input"), py::arg("target"),
        py::arg("param"), py::arg("reduction"), nogil);
  m.def("pointwise_loss_backward", &pointwise_loss_backward, py::arg("kind"), py::arg("grad"), py::arg("input"),
        py::arg("target"), py::arg("param"), py::arg("reduction"), nogil);
  m.def("binary_cross_entropy_forward", &binary_cross_entropy_forward, py::arg("input"), py::arg("target"),
        py::arg("weight"), py::arg("reduction"), nogil);
  m.def("binary_cross_entropy_backward", &binary_cross_entropy_backward, py::arg("grad"), py::arg("input"),
        py::arg("target"), py::arg("weight"), py::arg("reduction"), py::arg("need_input_grad"),
        py::arg("need_target_grad"), nogil);
  m.def("binary_cross_entropy_with_logits_forward", &binary_cross_entropy_with_logits_forward, py::arg("input"),
        py::arg("target"), py::arg("weight"), py::arg("pos_weight"), py::arg("reduction"), nogil);
  m.def("binary_cross_entropy_with_logits_backward", &binary_cross_entropy_with_logits_backward, py::arg("grad"),
        py::arg("input"), py::arg("target"), py::arg("weight"), py::arg("pos_weight"), py::arg("reduction"),
        py::arg("need_input_grad"), py::arg("need_target_grad"), nogil);
  m.def("kl_div_forward", &kl_div_forward, py::arg("input"), py::arg("target"), py::arg("reduction"),
        py::arg("log_target"), nogil);
  m.def("kl_div_backward", &kl_div_backward, py::arg("grad"), py::arg("input"), py::arg("target"),
        py::arg("reduction"), py::arg("log_target"), py::arg("need_input_grad"), py::arg("need_target_grad"), nogil);
}

}  // namespace glassnet::bindings
