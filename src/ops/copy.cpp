#include "ops/copy.h"

#include <cstring>

#include "cuda_api.h"
#include "dispatch.h"
#include "errors.h"
#include "ops/iter.h"

namespace glassnet {

namespace {

template <class Dst, class Src>
void copy_loop(const StridedLoop<2>& loop) {
  loop.run([](char* const* p, const int64_t* s, int64_t n) {
    if (s[0] == sizeof(Dst) && s[1] == sizeof(Src)) {
      auto* d = reinterpret_cast<Dst*>(p[0]);
      const auto* x = reinterpret_cast<const Src*>(p[1]);
      for (int64_t i = 0; i < n; ++i) d[i] = static_cast<Dst>(x[i]);
    } else {
      char* d = p[0];
      const char* x = p[1];
      for (int64_t i = 0; i < n; ++i, d += s[0], x += s[1])
        *reinterpret_cast<Dst*>(d) = static_cast<Dst>(*reinterpret_cast<const Src*>(x));
    }
  });
}

// Bytes per chunk below which a copy stays on one thread: 64 KiB is a few
// microseconds of memcpy, about what waking a worker costs.
constexpr int64_t kCopyGrainBytes = 64 * 1024;

// memcpy of n bytes, split over threads when large.
void copy_bytes(char* dst, const char* src, int64_t n) {
  parallel_for(0, n, kCopyGrainBytes, [&](int64_t b, int64_t e) {
    std::memcpy(dst + b, src + b, static_cast<size_t>(e - b));
  });
}

void copy_cpu(Tensor& dst, const Tensor& src) {
  if (dst.dtype() == src.dtype() && dst.shape() == src.shape() && dst.is_contiguous() && src.is_contiguous()) {
    copy_bytes(static_cast<char*>(dst.raw_data()), static_cast<const char*>(src.raw_data()),
               dst.numel() * static_cast<int64_t>(dst.itemsize()));
    return;
  }
  auto loop = make_loop<2>(dst, {&src});
  dispatch_all(dst.dtype(), "copy_", [&](auto dst_tag) {
    using Dst = decltype(dst_tag);
    dispatch_all(src.dtype(), "copy_", [&](auto src_tag) {
      using Src = decltype(src_tag);
      copy_loop<Dst, Src>(loop);
    });
  });
}

}  // namespace

void copy_(Tensor& dst, const Tensor& src) {
  if (broadcast_shapes(dst.shape(), src.shape(), "copy_") != dst.shape())
    fail<ValueError>("[copy_] source shape ", shape_str(src.shape()),
                     " cannot be broadcast to destination shape ", shape_str(dst.shape()));
  if (dst.numel() == 0) return;
  // Copying a tensor onto another view of its own storage (a shifted slice,
  // a transpose) would read values it already overwrote; such a source is
  // read from a snapshot. The very same view copies onto itself harmlessly.
  const bool same_view = dst.raw_data() == src.raw_data() && dst.shape() == src.shape() &&
                         dst.strides() == src.strides();
  const bool aliased = dst.storage() == src.storage() && !same_view;
  if (dst.device().is_cpu() && src.device().is_cpu()) {
    copy_cpu(dst, aliased ? clone(src) : src);
    return;
  }
  if (dst.device() == src.device()) {  // on one GPU: cast, broadcast and strides in one kernel
    cuda::copy_strided(dst, aliased ? clone(src) : src);
    return;
  }
  // Across devices: make src contiguous where it lives, move its bytes, then
  // cast, broadcast and scatter on dst's device. Moving src's own bytes (not
  // dst's) keeps a broadcast scalar a scalar on the wire.
  const Tensor packed = src.contiguous();
  const size_t nbytes = static_cast<size_t>(packed.numel()) * packed.itemsize();
  const bool direct = dst.is_contiguous() && dst.dtype() == packed.dtype() && dst.shape() == packed.shape();
  Tensor moved = direct ? dst : Tensor::empty(packed.shape(), packed.dtype(), dst.device());
  if (dst.device().is_cuda() && packed.device().is_cpu())
    cuda::copy_host_to_device(moved.raw_data(), packed.raw_data(), nbytes, dst.device().index);
  else if (dst.device().is_cpu())
    cuda::copy_device_to_host(moved.raw_data(), packed.raw_data(), nbytes, packed.device().index);
  else
    cuda::copy_device_to_device(moved.raw_data(), packed.raw_data(), nbytes, dst.device().index);
  if (!direct) copy_(dst, moved);
}

Tensor to_dtype(const Tensor& t, DType dtype, bool copy) {
  if (t.dtype() == dtype && !copy) return t;
  Tensor out = Tensor::empty(t.shape(), dtype, t.device());
  copy_(out, t);
  return out;
}

Tensor to_device(const Tensor& t, Device device) {
  if (t.device() == device) return t;
  if (device.is_cuda() && !cuda::is_available())
    fail<RuntimeError>("[to] cannot move a tensor to ", device.str(),
                       ": CUDA is not available (", cuda::compiled() ? "no GPU or driver found" : "glassnet was built without CUDA", ")");
  if (device.is_cuda() && device.index >= cuda::device_count())
    fail<RuntimeError>("[to] ", device.str(), " does not exist: ", cuda::device_count(), " CUDA device(s) found");
  Tensor out = Tensor::empty(t.shape(), t.dtype(), device);
  copy_(out, t.device().is_cpu() ? t.contiguous() : t);
  return out;
}

Tensor clone(const Tensor& t) {
  Tensor out = Tensor::empty(t.shape(), t.dtype(), t.device());
  if (t.numel() == 0) return out;
  if (t.is_contiguous() && t.device().is_cpu()) {
    copy_bytes(static_cast<char*>(out.raw_data()), static_cast<const char*>(t.raw_data()),
               t.numel() * static_cast<int64_t>(t.itemsize()));
    return out;
  }
  copy_(out, t);
  return out;
}

}  // namespace glassnet
