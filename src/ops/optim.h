// Fused optimiser steps. One call updates every parameter of a parameter
// group in place, reading each parameter's gradient and updating its state
// buffers, so a training step costs one call into the core per group rather
// than a dozen elementwise ops per parameter.
//
// Each update is torch's single-tensor implementation written out per
// element, in the same order of operations and with the hyper-parameters
// rounded to the parameter's dtype where torch rounds them, so results agree
// with torch.optim to the last few ulps:
//   SGD      torch/optim/sgd.py      _single_tensor_sgd
//   Adam(W)  torch/optim/adam.py     _single_tensor_adam (Kingma & Ba 2015;
//            decoupled decay: Loshchilov & Hutter 2019)
//   RMSprop  torch/optim/rmsprop.py  _single_tensor_rmsprop (Hinton, lecture 6e;
//            centred form: Graves 2013)
//   Adagrad  torch/optim/adagrad.py  _single_tensor_adagrad (Duchi et al. 2011)
//
// Lists: params[i], grads[i] and every state list's [i] belong to one
// parameter and share its shape, dtype (float32 or float64) and device (the
// CPU, or a GPU in a CUDA build: cuda/optim.cu runs the same element maths,
// src/ops/optim_math.h). State lists that an option does not use are empty.
// `steps` holds one float32 CPU scalar per parameter, torch's state["step"];
// the kernel adds one. Non-contiguous parameters or buffers are updated
// through a contiguous copy that is written back. CPU threads: a large
// parameter is split by elements, a group of many small ones by parameter.
#pragma once

#include <vector>

#include "tensor.h"

namespace glassnet {

using TensorList = std::vector<Tensor>;

// momentum_buffers: empty when momentum == 0; fresh[i] marks a buffer that is
// set to the (decayed) gradient instead of updated, as torch's first step does.
void sgd_step(const TensorList& params, const TensorList& grads, const TensorList& momentum_buffers,
              const std::vector<bool>& fresh, double lr, double momentum, double dampening, double weight_decay,
              bool nesterov, bool maximize);

// max_exp_avg_sqs: empty unless amsgrad. decoupled_weight_decay selects AdamW.
void adam_step(const TensorList& params, const TensorList& grads, const TensorList& exp_avgs,
               const TensorList& exp_avg_sqs, const TensorList& max_exp_avg_sqs, const TensorList& steps, double lr,
               double beta1, double beta2, double eps, double weight_decay, bool amsgrad, bool maximize,
               bool decoupled_weight_decay);

// grad_avgs: empty unless centered; momentum_buffers: empty unless momentum > 0.
void rmsprop_step(const TensorList& params, const TensorList& grads, const TensorList& square_avgs,
                  const TensorList& grad_avgs, const TensorList& momentum_buffers, const TensorList& steps, double lr,
                  double alpha, double eps, double weight_decay, double momentum, bool centered, bool maximize);

void adagrad_step(const TensorList& params, const TensorList& grads, const TensorList& state_sums,
                  const TensorList& steps, double lr, double lr_decay, double weight_decay, double eps,
                  bool maximize);

}  // namespace glassnet
