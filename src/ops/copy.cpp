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

void copy_cpu(Tensor& dst, const Tensor& src) {
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
  if (dst.device().is_cpu() && src.device().is_cpu()) {
    // Copying a tensor onto an overlapping view of itself would read values
    // it already overwrote; go through a temporary.
    if (dst.storage() == src.storage() && dst.raw_data() != src.raw_data()) {
      Tensor tmp = clone(src);
      copy_cpu(dst, tmp);
    } else {
      copy_cpu(dst, src);
    }
    return;
  }
  // Across devices: stage through a contiguous buffer of dst's dtype and shape.
  Tensor staged = src;
  if (src.dtype() != dst.dtype() || src.shape() != dst.shape() || !src.is_contiguous()) {
    if (src.device().is_cpu()) {
      staged = Tensor::empty(dst.shape(), dst.dtype());
      copy_cpu(staged, src);
    } else {
      fail<RuntimeError>("[copy_] converting dtype, shape or strides on ", src.device().str(),
                         " is not supported yet; make the source contiguous with the target dtype first");
    }
  }
  const size_t nbytes = static_cast<size_t>(dst.numel()) * dst.itemsize();
  if (dst.is_contiguous()) {
    if (dst.device().is_cuda() && staged.device().is_cpu())
      cuda::copy_host_to_device(dst.raw_data(), staged.raw_data(), nbytes, dst.device().index);
    else if (dst.device().is_cpu() && staged.device().is_cuda())
      cuda::copy_device_to_host(dst.raw_data(), staged.raw_data(), nbytes, staged.device().index);
    else
      cuda::copy_device_to_device(dst.raw_data(), staged.raw_data(), nbytes, dst.device().index);
    return;
  }
  if (dst.device().is_cpu()) {
    Tensor host = Tensor::empty(dst.shape(), dst.dtype());
    cuda::copy_device_to_host(host.raw_data(), staged.raw_data(), nbytes, staged.device().index);
    copy_cpu(dst, host);
    return;
  }
  fail<RuntimeError>("[copy_] writing into a non-contiguous ", dst.device().str(), " tensor is not supported yet");
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
    std::memcpy(out.raw_data(), t.raw_data(), static_cast<size_t>(t.numel()) * t.itemsize());
    return out;
  }
  copy_(out, t);
  return out;
}

}  // namespace glassnet
