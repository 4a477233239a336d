// im2col and its adjoint col2im (Chellapilla, Puri & Simard 2006), the
// lowering that turns a convolution into one GEMM per (sample, group).
// Internal to the convolution kernels.
//
//   col[(c·kh + i)·kw + j, oh·Wo + ow] = x[c, oh·sh - ph + i·dh, ow·sw - pw + j·dw]
//
// with zeros where the tap falls in the padding. Each col row is written as
// three runs (left padding, the interior, right padding) so the interior is a
// plain copy (stride 1) or a strided gather the compiler unrolls, never a
// bounds test per element.
#pragma once

#include <algorithm>
#include <cstdint>

#include "ops/conv.h"

namespace glassnet::conv_detail {

// The output columns [lo, hi) of one row whose input column
// iw = ow·stride + offset lies inside [0, W).
inline void valid_range(int64_t offset, int64_t stride, int64_t W, int64_t Wo, int64_t& lo, int64_t& hi) {
  // lo: first ow with ow·stride + offset >= 0; hi: first ow with ow·stride + offset >= W.
  lo = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
  hi = W - offset <= 0 ? 0 : (W - offset + stride - 1) / stride;
  lo = std::min(lo, Wo);
  hi = std::max(lo, std::min(hi, Wo));
}

// x (Cg, H, W) -> col (Cg·kh·kw, Ho·Wo)
template <class T>
void im2col(const ConvShape& s, const T* x, T* col) {
  const Conv2dArgs& a = s.a;
  const int64_t P = s.P();
  for (int64_t c = 0; c < s.Cg(); ++c) {
    const T* xc = x + c * s.H * s.W;
    for (int64_t i = 0; i < s.kh; ++i) {
      for (int64_t j = 0; j < s.kw; ++j) {
        T* row = col + ((c * s.kh + i) * s.kw + j) * P;
        const int64_t off_w = j * a.dilation_w - a.pad_w;
        int64_t lo, hi;
        valid_range(off_w, a.stride_w, s.W, s.Wo, lo, hi);
        for (int64_t oh = 0; oh < s.Ho; ++oh) {
          T* dst = row + oh * s.Wo;
          const int64_t ih = oh * a.stride_h - a.pad_h + i * a.dilation_h;
          if (ih < 0 || ih >= s.H) {
            std::fill(dst, dst + s.Wo, T(0));
            continue;
          }
          const T* src = xc + ih * s.W + off_w;
          std::fill(dst, dst + lo, T(0));
          if (a.stride_w == 1) {
            std::copy(src + lo, src + hi, dst + lo);
          } else {
            for (int64_t ow = lo; ow < hi; ++ow) dst[ow] = src[ow * a.stride_w];
          }
          std::fill(dst + hi, dst + s.Wo, T(0));
        }
      }
    }
  }
}

// col (Cg·kh·kw, Ho·Wo) -> x (Cg, H, W) += the adjoint of im2col
template <class T>
void col2im(const ConvShape& s, const T* col, T* x) {
  const Conv2dArgs& a = s.a;
  const int64_t P = s.P();
  for (int64_t c = 0; c < s.Cg(); ++c) {
    T* xc = x + c * s.H * s.W;
    for (int64_t i = 0; i < s.kh; ++i) {
      for (int64_t j = 0; j < s.kw; ++j) {
        const T* row = col + ((c * s.kh + i) * s.kw + j) * P;
        const int64_t off_w = j * a.dilation_w - a.pad_w;
        int64_t lo, hi;
        valid_range(off_w, a.stride_w, s.W, s.Wo, lo, hi);
        for (int64_t oh = 0; oh < s.Ho; ++oh) {
          const int64_t ih = oh * a.stride_h - a.pad_h + i * a.dilation_h;
          if (ih < 0 || ih >= s.H) continue;
          const T* src = row + oh * s.Wo;
          T* dst = xc + ih * s.W + off_w;
          if (a.stride_w == 1) {
            for (int64_t ow = lo; ow < hi; ++ow) dst[ow] += src[ow];
          } else {
            for (int64_t ow = lo; ow < hi; ++ow) dst[ow * a.stride_w] += src[ow];
          }
        }
      }
    }
  }
}

}  // namespace glassnet::conv_detail
