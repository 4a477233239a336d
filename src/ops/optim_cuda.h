// The CUDA launchers behind the fused optimiser steps (cuda/optim.cu), one
// parameter per call; they exist only in a GLASSNET_WITH_CUDA build. The
// step functions in optim.cpp validate everything and hand over contiguous
// device pointers of one device; the flags select the template instance of
// the update in optim_math.h.
#pragma once

#include <cstdint>

#include "ops/optim_math.h"

namespace glassnet::cuda {

template <class T>
void sgd_param(int device, int64_t n, T* p, const T* g, T* buf, const optim_math::SgdScalars<T>& s, bool maximize,
               bool decay, bool momentum, bool nesterov, bool fresh);

template <class T>
void adam_param(int device, int64_t n, T* p, const T* g, T* m, T* v, T* vmax, const optim_math::AdamScalars<T>& s,
                bool maximize, bool coupled_decay, bool decoupled_decay, bool amsgrad);

template <class T>
void rmsprop_param(int device, int64_t n, T* p, const T* g, T* sq, T* ga, T* buf,
                   const optim_math::RmspropScalars<T>& s, bool maximize, bool decay, bool centered, bool momentum);

template <class T>
void adagrad_param(int device, int64_t n, T* p, const T* g, T* sum, const optim_math::AdagradScalars<T>& s,
                   bool maximize, bool decay);

}  // namespace glassnet::cuda
