// The fused optimiser updates on cuda tensors: one grid-stride kernel per
// parameter running the element updates of src/ops/optim_math.h, the same
// code the CPU loops run, so both devices follow torch's op sequence. The
// step counters and bias corrections stay on the host (torch keeps
// state["step"] on the CPU too); only the update touches the GPU.
#include "common.cuh"
#include "ops/optim_cuda.h"

namespace glassnet::cuda {

namespace {

template <class T, bool... Flags>
__global__ void sgd_kernel(int64_t n, T* p, const T* g, T* buf, optim_math::SgdScalars<T> s) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    optim_math::sgd_update<Flags...>(i, p, g, buf, s);
}

template <class T, bool... Flags>
__global__ void adam_kernel(int64_t n, T* p, const T* g, T* m, T* v, T* vmax, optim_math::AdamScalars<T> s) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    optim_math::adam_update<Flags...>(i, p, g, m, v, vmax, s);
}

template <class T, bool... Flags>
__global__ void rmsprop_kernel(int64_t n, T* p, const T* g, T* sq, T* ga, T* buf, optim_math::RmspropScalars<T> s) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    optim_math::rmsprop_update<Flags...>(i, p, g, sq, ga, buf, s);
}

template <class T, bool... Flags>
__global__ void adagrad_kernel(int64_t n, T* p, const T* g, T* sum, optim_math::AdagradScalars<T> s) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    optim_math::adagrad_update<Flags...>(i, p, g, sum, s);
}

}  // namespace

template <class T>
void sgd_param(int device, int64_t n, T* p, const T* g, T* buf, const optim_math::SgdScalars<T>& s, bool maximize,
               bool decay, bool momentum, bool nesterov, bool fresh) {
  if (n == 0) return;
  require_device(device, "sgd_step");
  DeviceGuard guard(device);
  optim_math::with_static_flags([&](auto... flags) {
    sgd_kernel<T, decltype(flags)::value...><<<grid_for(n), kThreads>>>(n, p, g, buf, s);
  }, maximize, decay, momentum, nesterov, fresh);
  check_launch("sgd_kernel");
}

template <class T>
void adam_param(int device, int64_t n, T* p, const T* g, T* m, T* v, T* vmax, const optim_math::AdamScalars<T>& s,
                bool maximize, bool coupled_decay, bool decoupled_decay, bool amsgrad) {
  if (n == 0) return;
  require_device(device, "adam_step");
  DeviceGuard guard(device);
  optim_math::with_static_flags([&](auto... flags) {
    adam_kernel<T, decltype(flags)::value...><<<grid_for(n), kThreads>>>(n, p, g, m, v, vmax, s);
  }, maximize, coupled_decay, decoupled_decay, amsgrad);
  check_launch("adam_kernel");
}

template <class T>
void rmsprop_param(int device, int64_t n, T* p, const T* g, T* sq, T* ga, T* buf,
                   const optim_math::RmspropScalars<T>& s, bool maximize, bool decay, bool centered, bool momentum) {
  if (n == 0) return;
  require_device(device, "rmsprop_step");
  DeviceGuard guard(device);
  optim_math::with_static_flags([&](auto... flags) {
    rmsprop_kernel<T, decltype(flags)::value...><<<grid_for(n), kThreads>>>(n, p, g, sq, ga, buf, s);
  }, maximize, decay, centered, momentum);
  check_launch("rmsprop_kernel");
}

template <class T>
void adagrad_param(int device, int64_t n, T* p, const T* g, T* sum, const optim_math::AdagradScalars<T>& s,
                   bool maximize, bool decay) {
  if (n == 0) return;
  require_device(device, "adagrad_step");
  DeviceGuard guard(device);
  optim_math::with_static_flags([&](auto... flags) {
    adagrad_kernel<T, decltype(flags)::value...><<<grid_for(n), kThreads>>>(n, p, g, sum, s);
  }, maximize, decay);
  check_launch("adagrad_kernel");
}

// The two dtypes the step functions dispatch to.
template void sgd_param<float>(int, int64_t, float*, const float*, float*,
                             const optim_math::SgdScalars<float>&, bool, bool, bool, bool, bool);
template void adam_param<float>(int, int64_t, float*, const float*, float*, float*, float*,
                              const optim_math::AdamScalars<float>&, bool, bool, bool, bool);
template void rmsprop_param<float>(int, int64_t, float*, const float*, float*, float*, float*,
                                 const optim_math::RmspropScalars<float>&, bool, bool, bool, bool);
template void adagrad_param<float>(int, int64_t, float*, const float*, float*,
                                 const optim_math::AdagradScalars<float>&, bool, bool);
template void sgd_param<double>(int, int64_t, double*, const double*, double*,
                             const optim_math::SgdScalars<double>&, bool, bool, bool, bool, bool);
template void adam_param<double>(int, int64_t, double*, const double*, double*, double*, double*,
                              const optim_math::AdamScalars<double>&, bool, bool, bool, bool);
template void rmsprop_param<double>(int, int64_t, double*, const double*, double*, double*, double*,
                                 const optim_math::RmspropScalars<double>&, bool, bool, bool, bool);
template void adagrad_param<double>(int, int64_t, double*, const double*, double*,
                                 const optim_math::AdagradScalars<double>&, bool, bool);

}  // namespace glassnet::cuda
