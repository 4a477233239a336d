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
#include <memory>

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

// x (Cg, H, W) -> col (Cg·kh·kw, Ho·Wo), rows ld elements apart (ld >= Ho·Wo:
// several samples side by side make one wider GEMM when Ho·Wo is small)
template <class T>
void im2col(const ConvShape& s, const T* x, T* col, int64_t ld) {
  const Conv2dArgs& a = s.a;
  const int64_t P = ld;
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

// col (Cg·kh·kw, Ho·Wo), rows ld apart -> x (Cg, H, W) += the adjoint of im2col
template <class T>
void col2im(const ConvShape& s, const T* col, T* x, int64_t ld) {
  const Conv2dArgs& a = s.a;
  const int64_t P = ld;
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

// A per-thread scratch buffer for one role (Slot), left uninitialised and
// kept between calls: a fresh std::vector would zero (and page-fault in)
// megabytes of im2col buffer on every call of every batch slice.
template <class T, int Slot>
T* thread_scratch(int64_t n) {
  thread_local std::unique_ptr<T[]> buffer;
  thread_local int64_t capacity = 0;
  if (n > capacity) {
    buffer.reset(new T[n]);
    capacity = n;
  }
  return buffer.get();
}

// Samples per GEMM: enough that the GEMM is at least ~128 columns wide when
// one output plane is small (LeNet's 1×1 C5 maps would otherwise make GEMVs),
// with the col buffer kept within ~1 MiB so it stays in cache between im2col
// and the GEMM. Measured on LeNet's 6→16 5×5 layer (10×10 maps): 100-column
// GEMMs ran 10-25% faster than 512- to 8192-column ones.
inline int64_t samples_per_gemm(const ConvShape& s, int64_t elem_size) {
  const int64_t P = s.P(), R = std::max<int64_t>(1, s.rows());
  int64_t nb = std::max<int64_t>(1, 128 / std::max<int64_t>(1, P));
  nb = std::min(nb, std::max<int64_t>(1, (int64_t{1} << 20) / (elem_size * R * P)));
  return std::max<int64_t>(1, std::min(nb, s.N));
}

// One step of the im2col GEMM walk below: samples b..b+m-1 of group g, on
// the thread that owns batch slice `slice`. col has room for rows() × m·P
// im2col columns, planes for Kg × m·P output or gradient planes; each is
// unallocated where a pointwise single sample (resp. a single sample) needs none.
template <class T>
struct GemmBlock {
  int64_t slice, b, m, g;
  bool first_in_slice;
  T* col;
  T* planes;
};

// The forward, backward-data and backward-weight GEMM paths walk the batch
// alike: `slices` slices across threads, each in blocks of up to
// samples_per_gemm samples (one GEMM operand each), every group in turn.
template <class T, class Visit>
void for_each_gemm_block(const ConvShape& s, int64_t slices, Visit&& visit) {
  const int64_t nb = samples_per_gemm(s, sizeof(T));
  const bool pointwise = is_pointwise(s);
  for_batch_slices(s.N, slices, [&](int64_t t, int64_t n0, int64_t n1) {
    const int64_t m_max = std::min(nb, n1 - n0);
    if (m_max < 1) return;
    T* col = thread_scratch<T, 0>(pointwise && m_max == 1 ? 0 : s.rows() * s.P() * m_max);
    T* planes = thread_scratch<T, 1>(m_max > 1 ? s.Kg() * s.P() * m_max : 0);
    for (int64_t b = n0; b < n1; b += m_max)
      for (int64_t g = 0; g < s.a.groups; ++g)
        visit(GemmBlock<T>{t, b, std::min(m_max, n1 - b), g, b == n0, col, planes});
  });
}

// The block's input (group g of samples b..b+m-1, starting at xg) as a
// (rows, m·P) col matrix: im2col'd into k.col, or xg itself where a single
// sample of a pointwise convolution already is one.
template <class T>
const T* col_matrix(const ConvShape& s, const T* xg, const GemmBlock<T>& k) {
  if (is_pointwise(s) && k.m == 1) return xg;
  const int64_t HW = s.H * s.W, cols = k.m * s.P();
  for (int64_t j = 0; j < k.m; ++j) im2col(s, xg + j * s.C * HW, k.col + j * s.P(), cols);
  return k.col;
}

// dst (m, rows of P, stride between samples `sample_stride`) <-> block (rows, m·P):
// gathers one group's planes of m samples side by side, or scatters them back.
template <class T>
void gather_planes(const T* src, int64_t sample_stride, int64_t rows, int64_t P, int64_t m, T* block) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < m; ++j) std::copy(src + j * sample_stride + r * P, src + j * sample_stride + (r + 1) * P,
                                              block + r * m * P + j * P);
}
template <class T>
void scatter_planes(const T* block, int64_t rows, int64_t P, int64_t m, T* dst, int64_t sample_stride) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < m; ++j) std::copy(block + r * m * P + j * P, block + r * m * P + (j + 1) * P,
                                              dst + j * sample_stride + r * P);
}

}  // namespace glassnet::conv_detail
