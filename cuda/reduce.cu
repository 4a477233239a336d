// Full reductions (sum, mean, prod, max, min, all, any of every element) on
// cuda tensors, in two passes as in Harris, "Optimizing Parallel Reduction in
// CUDA" (2007): each block folds a grid-stride slice in registers and then in
// shared memory into one partial, and a single block folds the partials.
// Two launches instead of atomics keep the result deterministic run to run.
#include <limits>
#include <type_traits>

#include "common.cuh"
#include "cuda_api.h"
#include "dispatch.h"
#include "ops/reduce.h"

namespace glassnet::cuda {

namespace {

constexpr int kReduceThreads = 256;  // a power of two: the shared-memory tree halves it
constexpr unsigned kMaxPartials = 1024;

// How one reduction folds: identity, combine, and the load that turns an
// input element into the accumulator type. Max and min let NaN win, as torch.
template <class Acc>
struct SumFold {
  __device__ static Acc identity() { return Acc(0); }
  __device__ static Acc combine(Acc a, Acc b) { return a + b; }
};
template <class Acc>
struct ProdFold {
  __device__ static Acc identity() { return Acc(1); }
  __device__ static Acc combine(Acc a, Acc b) { return a * b; }
};
template <class Acc>
struct MaxFold {
  __device__ static Acc identity() {
    if constexpr (std::is_floating_point_v<Acc>) return -std::numeric_limits<Acc>::infinity();
    else return std::numeric_limits<Acc>::lowest();
  }
  __device__ static Acc combine(Acc a, Acc b) { return a != a ? a : b != b ? b : a > b ? a : b; }
};
template <class Acc>
struct MinFold {
  __device__ static Acc identity() {
    if constexpr (std::is_floating_point_v<Acc>) return std::numeric_limits<Acc>::infinity();
    else return std::numeric_limits<Acc>::max();
  }
  __device__ static Acc combine(Acc a, Acc b) { return a != a ? a : b != b ? b : a < b ? a : b; }
};
struct AllFold {
  __device__ static bool identity() { return true; }
  __device__ static bool combine(bool a, bool b) { return a && b; }
};
struct AnyFold {
  __device__ static bool identity() { return false; }
  __device__ static bool combine(bool a, bool b) { return a || b; }
};

// Folds the kReduceThreads values in `shared` into shared[0].
template <class Acc, class Fold>
__device__ void block_fold(Acc* shared) {
  for (int stride = kReduceThreads / 2; stride > 0; stride /= 2) {
    __syncthreads();
    if (threadIdx.x < stride) shared[threadIdx.x] = Fold::combine(shared[threadIdx.x], shared[threadIdx.x + stride]);
  }
  __syncthreads();
}

// Pass 1. x: (n,) In; partials: (gridDim.x,) Acc, one per block.
template <class In, class Acc, class Fold>
__global__ void reduce_partials_kernel(const In* x, int64_t n, Acc* partials) {
  __shared__ Acc shared[kReduceThreads];
  Acc acc = Fold::identity();
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    acc = Fold::combine(acc, static_cast<Acc>(x[i]));
  shared[threadIdx.x] = acc;
  block_fold<Acc, Fold>(shared);
  if (threadIdx.x == 0) partials[blockIdx.x] = shared[0];
}

// Pass 2, one block. partials: (count,) Acc; out: () Acc, divided by
// `divisor` for a mean (0/0 gives NaN for an empty mean, as torch).
template <class Acc, class Fold>
__global__ void reduce_final_kernel(const Acc* partials, int count, Acc* out, int64_t divisor) {
  __shared__ Acc shared[kReduceThreads];
  Acc acc = Fold::identity();
  for (int i = threadIdx.x; i < count; i += blockDim.x) acc = Fold::combine(acc, partials[i]);
  shared[threadIdx.x] = acc;
  block_fold<Acc, Fold>(shared);
  if (threadIdx.x == 0) {
    Acc result = shared[0];
    if constexpr (std::is_floating_point_v<Acc>) {
      if (divisor != 1) result = result / static_cast<Acc>(divisor);
    }
    *out = result;
  }
}

// Runs both passes of x (contiguous, on one device) into `result`, a 0-d
// tensor of Acc's dtype on that device.
template <class In, class Acc, class Fold>
void run_reduce(const Tensor& x, Tensor& result, int64_t divisor) {
  const int64_t n = x.numel();
  const int64_t wanted = (n + kReduceThreads * 4 - 1) / (kReduceThreads * 4);
  const unsigned blocks = static_cast<unsigned>(wanted < 1 ? 1 : wanted > kMaxPartials ? kMaxPartials : wanted);
  Tensor partials = Tensor::empty({static_cast<int64_t>(blocks)}, dtype_of<Acc>::value, x.device());
  reduce_partials_kernel<In, Acc, Fold><<<blocks, kReduceThreads>>>(x.data<In>(), n, partials.data<Acc>());
  check_launch("reduce_partials_kernel");
  reduce_final_kernel<Acc, Fold><<<1, kReduceThreads>>>(partials.data<Acc>(), static_cast<int>(blocks),
                                                        result.data<Acc>(), divisor);
  check_launch("reduce_final_kernel");
}

// Sums and products of floats accumulate in float64, as the CPU's totals do
// (bandwidth, not arithmetic, bounds a reduction, even at consumer GPUs'
// float64 rate); of bool and int64 in int64. Max and min keep the dtype.
template <class In>
using SumAcc = std::conditional_t<std::is_floating_point_v<In>, double, int64_t>;

}  // namespace

void reduce_all(ReduceOp op, const Tensor& x, Tensor& out) {
  const char* name = reduce_name(op);
  if (out.numel() != 1 || x.device() != out.device())
    fail<RuntimeError>("[", name, "] internal: the cuda reduction writes one element on the input's device, got ",
                       shape_str(out.shape()), " on ", out.device().str(), " for an input on ", x.device().str());
  // The CPU's checks, with its messages and exception types.
  if (op == ReduceOp::Mean && !is_floating(x.dtype()))
    fail<TypeError>("[mean] needs a floating-point tensor to average, got ", dtype_name(x.dtype()),
                    "; convert it with .float() first");
  if ((op == ReduceOp::Max || op == ReduceOp::Min) && x.numel() == 0)
    fail<IndexError>("[", name, "] cannot reduce an empty tensor of shape ", shape_str(x.shape()),
                     " to one value; name the dim to reduce");
  require_device(x.device().index, name);
  const Tensor xin = x.contiguous();
  DeviceGuard guard(x.device().index);
  dispatch_all(x.dtype(), name, [&](auto tag) {
    using In = decltype(tag);
    using Acc = SumAcc<In>;
    const bool logical = op == ReduceOp::All || op == ReduceOp::Any;
    const bool extremum = op == ReduceOp::Max || op == ReduceOp::Min;
    const DType acc_dtype = logical ? DType::Bool : extremum ? dtype_of<In>::value : dtype_of<Acc>::value;
    // Write straight into out when it has the accumulator's dtype, else into
    // a scalar that is then cast into out on the device.
    Tensor result = out.dtype() == acc_dtype && out.is_contiguous() ? out : Tensor::empty({}, acc_dtype, x.device());
    switch (op) {
      case ReduceOp::Sum: run_reduce<In, Acc, SumFold<Acc>>(xin, result, 1); break;
      case ReduceOp::Mean: run_reduce<In, Acc, SumFold<Acc>>(xin, result, xin.numel()); break;
      case ReduceOp::Prod: run_reduce<In, Acc, ProdFold<Acc>>(xin, result, 1); break;
      // For bool, max is "any" and min is "all": numeric_limits<bool> gives the identities.
      case ReduceOp::Max: run_reduce<In, In, MaxFold<In>>(xin, result, 1); break;
      case ReduceOp::Min: run_reduce<In, In, MinFold<In>>(xin, result, 1); break;
      case ReduceOp::All: run_reduce<In, bool, AllFold>(xin, result, 1); break;
      case ReduceOp::Any: run_reduce<In, bool, AnyFold>(xin, result, 1); break;
    }
    if (result.raw_data() != out.raw_data()) copy_strided(out, result);
  });
}

}  // namespace glassnet::cuda
