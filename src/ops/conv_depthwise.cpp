// Depthwise convolution kernels (see conv_depthwise.h). Threads take whole
// planes: output planes forward, input planes for the data gradient (each
// gathers from its C·multiplier outputs, so no two threads write one plane),
// and output channels for the weight gradient.
#include "ops/conv_depthwise.h"

#include <algorithm>
#include <vector>

#include "ops/conv_im2col.h"
#include "parallel.h"

namespace glassnet::conv_detail {

namespace {

// Planes per parallel chunk so that a chunk holds some 32K multiply-adds.
int64_t plane_grain(const ConvShape& s) { return std::max<int64_t>(1, 32768 / std::max<int64_t>(1, s.P() * s.kh * s.kw)); }

// The output columns [lo, hi) whose input column is inside the image, per
// kernel column j: computed once per call, not per row.
struct ColRange {
  int64_t off, lo, hi;
};
std::vector<ColRange> col_ranges(const ConvShape& s) {
  std::vector<ColRange> r(s.kw);
  for (int64_t j = 0; j < s.kw; ++j) {
    r[j].off = j * s.a.dilation_w - s.a.pad_w;
    valid_range(r[j].off, s.a.stride_w, s.W, s.Wo, r[j].lo, r[j].hi);
  }
  return r;
}

// dst (Ho, Wo) += Σ_taps w[tap] · src (H, W) at that tap: the forward of one plane.
template <class T>
void plane_forward(const ConvShape& s, const ColRange* cr, const T* src, const T* w, T* dst) {
  const Conv2dArgs& a = s.a;
  for (int64_t oh = 0; oh < s.Ho; ++oh) {
    T* out = dst + oh * s.Wo;
    for (int64_t i = 0; i < s.kh; ++i) {
      const int64_t ih = oh * a.stride_h - a.pad_h + i * a.dilation_h;
      if (ih < 0 || ih >= s.H) continue;
      for (int64_t j = 0; j < s.kw; ++j) {
        const int64_t off = cr[j].off, lo = cr[j].lo, hi = cr[j].hi;
        const T wv = w[i * s.kw + j];
        const T* in = src + ih * s.W + off;
        if (a.stride_w == 1) {
          for (int64_t ow = lo; ow < hi; ++ow) out[ow] += wv * in[ow];
        } else {
          for (int64_t ow = lo; ow < hi; ++ow) out[ow] += wv * in[ow * a.stride_w];
        }
      }
    }
  }
}

// dst (H, W) += the adjoint of plane_forward applied to g (Ho, Wo).
template <class T>
void plane_backward_data(const ConvShape& s, const ColRange* cr, const T* g, const T* w, T* dst) {
  const Conv2dArgs& a = s.a;
  for (int64_t oh = 0; oh < s.Ho; ++oh) {
    const T* go = g + oh * s.Wo;
    for (int64_t i = 0; i < s.kh; ++i) {
      const int64_t ih = oh * a.stride_h - a.pad_h + i * a.dilation_h;
      if (ih < 0 || ih >= s.H) continue;
      for (int64_t j = 0; j < s.kw; ++j) {
        const int64_t off = cr[j].off, lo = cr[j].lo, hi = cr[j].hi;
        const T wv = w[i * s.kw + j];
        T* in = dst + ih * s.W + off;
        if (a.stride_w == 1) {
          for (int64_t ow = lo; ow < hi; ++ow) in[ow] += wv * go[ow];
        } else {
          for (int64_t ow = lo; ow < hi; ++ow) in[ow * a.stride_w] += wv * go[ow];
        }
      }
    }
  }
}

}  // namespace

template <class T>
void depthwise_forward(const ConvShape& s, const T* x, const T* w, const T* bias, T* y) {
  const int64_t Kg = s.Kg(), P = s.P(), HW = s.H * s.W, taps = s.kh * s.kw;
  const std::vector<ColRange> cr = col_ranges(s);
  parallel_for(0, s.N * s.K, plane_grain(s), [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      const int64_t n = p / s.K, k = p % s.K;
      T* out = y + p * P;
      std::fill(out, out + P, bias ? bias[k] : T(0));
      plane_forward(s, cr.data(), x + (n * s.C + k / Kg) * HW, w + k * taps, out);
    }
  });
}

template <class T>
void depthwise_backward_data(const ConvShape& s, const T* gy, const T* w, T* gx) {
  const int64_t Kg = s.Kg(), P = s.P(), HW = s.H * s.W, taps = s.kh * s.kw;
  const std::vector<ColRange> cr = col_ranges(s);
  parallel_for(0, s.N * s.C, std::max<int64_t>(1, plane_grain(s) / Kg), [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      const int64_t n = p / s.C, c = p % s.C;
      T* in = gx + p * HW;
      std::fill(in, in + HW, T(0));
      for (int64_t k = c * Kg; k < (c + 1) * Kg; ++k) plane_backward_data(s, cr.data(), gy + (n * s.K + k) * P, w + k * taps, in);
    }
  });
}

template <class T>
void depthwise_backward_weight(const ConvShape& s, const T* gy, const T* x, T* gw) {
  const Conv2dArgs& a = s.a;
  const int64_t Kg = s.Kg(), P = s.P(), HW = s.H * s.W, taps = s.kh * s.kw;
  parallel_for(0, s.K, std::max<int64_t>(1, plane_grain(s) / std::max<int64_t>(1, s.N)), [&](int64_t k0, int64_t k1) {
    // Products are summed per output column first (a vector the compiler
    // keeps in registers across rows), then across the row at the end.
    std::vector<T> acc(s.Wo);
    for (int64_t k = k0; k < k1; ++k) {
      for (int64_t i = 0; i < s.kh; ++i) {
        for (int64_t j = 0; j < s.kw; ++j) {
          const int64_t off = j * a.dilation_w - a.pad_w;
          int64_t lo, hi;
          valid_range(off, a.stride_w, s.W, s.Wo, lo, hi);
          std::fill(acc.begin(), acc.end(), T(0));
          T* ac = acc.data();
          for (int64_t n = 0; n < s.N; ++n) {
            const T* src = x + (n * s.C + k / Kg) * HW;
            const T* g = gy + (n * s.K + k) * P;
            for (int64_t oh = 0; oh < s.Ho; ++oh) {
              const int64_t ih = oh * a.stride_h - a.pad_h + i * a.dilation_h;
              if (ih < 0 || ih >= s.H) continue;
              const T* in = src + ih * s.W + off;
              const T* go = g + oh * s.Wo;
              if (a.stride_w == 1) {
                for (int64_t ow = lo; ow < hi; ++ow) ac[ow] += go[ow] * in[ow];
              } else {
                for (int64_t ow = lo; ow < hi; ++ow) ac[ow] += go[ow] * in[ow * a.stride_w];
              }
            }
          }
          double total = 0;
          for (int64_t ow = 0; ow < s.Wo; ++ow) total += acc[ow];
          gw[k * taps + i * s.kw + j] = static_cast<T>(total);
        }
      }
    }
  });
}

template void depthwise_forward<float>(const ConvShape&, const float*, const float*, const float*, float*);
template void depthwise_forward<double>(const ConvShape&, const double*, const double*, const double*, double*);
template void depthwise_backward_data<float>(const ConvShape&, const float*, const float*, float*);
template void depthwise_backward_data<double>(const ConvShape&, const double*, const double*, double*);
template void depthwise_backward_weight<float>(const ConvShape&, const float*, const float*, float*);
template void depthwise_backward_weight<double>(const ConvShape&, const double*, const double*, double*);

}  // namespace glassnet::conv_detail
