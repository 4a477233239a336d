// Bindings for the fused optimiser steps (src/ops/optim.h). Python passes one
// list of C++ tensors per role; each call updates a whole parameter group.
#include "bindings.h"
#include "ops/optim.h"

namespace glassnet::bindings {

void init_optim(py::module_& m) {
  const auto nogil = py::call_guard<py::gil_scoped_release>();
  m.def("sgd_step", &sgd_step, py::arg("params"), py::arg("grads"), py::arg("momentum_buffers"), py::arg("fresh"),
        py::arg("lr"), py::arg("momentum"), py::arg("dampening"), py::arg("weight_decay"), py::arg("nesterov"),
        py::arg("maximize"), nogil);
  m.def("adam_step", &adam_step, py::arg("params"), py::arg("grads"), py::arg("exp_avgs"), py::arg("exp_avg_sqs"),
        py::arg("max_exp_avg_sqs"), py::arg("steps"), py::arg("lr"), py::arg("beta1"), py::arg("beta2"),
        py::arg("eps"), py::arg("weight_decay"), py::arg("amsgrad"), py::arg("maximize"),
        py::arg("decoupled_weight_decay"), nogil);
  m.def("rmsprop_step", &rmsprop_step, py::arg("params"), py::arg("grads"), py::arg("square_avgs"),
        py::arg("grad_avgs"), py::arg("momentum_buffers"), py::arg("steps"), py::arg("lr"), py::arg("alpha"),
        py::arg("eps"), py::arg("weight_decay"), py::arg("momentum"), py::arg("centered"), py::arg("maximize"), nogil);
  m.def("adagrad_step", &adagrad_step, py::arg("params"), py::arg("grads"), py::arg("state_sums"), py::arg("steps"),
        py::arg("lr"), py::arg("lr_decay"), py::arg("weight_decay"), py::arg("eps"), py::arg("maximize"), nogil);
}

}  // namespace glassnet::bindings
