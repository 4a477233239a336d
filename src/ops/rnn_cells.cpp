// Fused gate kernels of one recurrent step (see rnn_cells.h). Rows are
// independent, so a large batch is split over the core's parallel_for; the
// inner loops run over contiguous hidden units and vectorise, and float32
// sigmoid/tanh go through the SIMD kernels of vecmath.h.
#include "ops/rnn_cells.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <type_traits>

#include "cpu.h"
#include "ops/vecmath.h"
#include "parallel.h"

namespace glassnet {
namespace {

using UnaryF32Kernel = bool (*)(UnaryOp, const float*, float*, int64_t);

// The widest float32 SIMD build of vecmath.h this CPU runs, or null.
UnaryF32Kernel simd_kernel() {
#if defined(__x86_64__) || defined(_M_X64)
  static const UnaryF32Kernel k = cpu_has_avx512() ? unary_f32_vectorised_avx512
                                  : cpu_has_avx2_fma() ? unary_f32_vectorised
                                                       : nullptr;
  return k;
#else
  return nullptr;
#endif
}

// y[j] = σ(x[j]) / tanh(x[j]) for j < n; y may be x.
template <class T>
void sigmoid_n(const T* x, T* y, int64_t n) {
  if constexpr (std::is_same_v<T, float>) {
    if (UnaryF32Kernel k = simd_kernel(); k && k(UnaryOp::Sigmoid, x, y, n)) return;
  }
  for (int64_t j = 0; j < n; ++j) y[j] = T(1) / (T(1) + std::exp(-x[j]));
}

template <class T>
void tanh_n(const T* x, T* y, int64_t n) {
  if constexpr (std::is_same_v<T, float>) {
    if (UnaryF32Kernel k = simd_kernel(); k && k(UnaryOp::Tanh, x, y, n)) return;
  }
  for (int64_t j = 0; j < n; ++j) y[j] = std::tanh(x[j]);
}

bool active(const int64_t* lengths, int64_t b, int64_t t) { return lengths == nullptr || t < lengths[b]; }

// Rows per parallel_for chunk: about 32K gate values (tens of microseconds
// of work), so the usual batch × hidden sizes run on the calling thread:
// a step is too short to pay for waking a worker, let alone one that the OS
// has descheduled.
int64_t row_grain(int64_t width) { return std::max<int64_t>(1, 32768 / std::max<int64_t>(width, 1)); }

// A row of a state that does not change at an inactive step.
template <class T>
void copy_row(const T* src, T* dst, int64_t H) {
  std::memcpy(dst, src, static_cast<size_t>(H) * sizeof(T));
}
template <class T>
void zero_row(T* dst, int64_t H) {
  std::fill(dst, dst + H, T(0));
}

}  // namespace

// ---- LSTM -------------------------------------------------------------------
// gates (B, 4H) [i f g o], h/c rows (B, H), out rows (B, H) at stride out_rs;
// the pointers below are offset to unit u.begin, the loops run over u.size().
template <class T>
void lstm_cell_forward(int64_t B, int64_t H, Units u, T* gates, const T* h_prev, const T* c_prev, T* h_new, T* c_new,
                       T* tanh_c, T* out, int64_t out_rs, const int64_t* lengths, int64_t t) {
  const int64_t n = u.size();
  parallel_for(0, B, row_grain(4 * n), [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      const T* cp = c_prev + b * H + u.begin;
      T* cn = c_new + b * H + u.begin;
      T* hn = h_new + b * H + u.begin;
      T* o_row = out ? out + b * out_rs + u.begin : nullptr;
      if (!active(lengths, b, t)) {
        if (h_prev)
          copy_row(h_prev + b * H + u.begin, hn, n);
        else
          zero_row(hn, n);
        copy_row(cp, cn, n);
        if (out) zero_row(o_row, n);
        continue;
      }
      T* gi = gates + b * 4 * H + u.begin;
      T *gf = gi + H, *gg = gi + 2 * H, *go = gi + 3 * H;
      if (n == H) {
        sigmoid_n(gi, gi, 2 * H);  // i and f are adjacent
      } else {
        sigmoid_n(gi, gi, n);
        sigmoid_n(gf, gf, n);
      }
      tanh_n(gg, gg, n);
      sigmoid_n(go, go, n);
      T* tc = tanh_c + b * H + u.begin;
      for (int64_t j = 0; j < n; ++j) {
        const T c = gf[j] * cp[j] + gi[j] * gg[j];
        cn[j] = c;
        tc[j] = c;
      }
      tanh_n(tc, tc, n);
      for (int64_t j = 0; j < n; ++j) hn[j] = go[j] * tc[j];
      if (o_row) copy_row(hn, o_row, n);
    }
  });
}

// With dh = dy + dh_carry and dc = dc_carry + dh·o·(1 - tanh²c):
//   d(pre_i) = dc·g·i(1-i)   d(pre_f) = dc·c_prev·f(1-f)
//   d(pre_g) = dc·i·(1-g²)   d(pre_o) = dh·tanh(c)·o(1-o)    dc_prev = dc·f
template <class T>
void lstm_cell_backward(int64_t B, int64_t H, Units u, const T* gates, const T* c_prev, const T* tanh_c, const T* dy,
                        int64_t dy_rs, T* dh_carry, T* dc_carry, T* dgates, const int64_t* lengths, int64_t t) {
  const int64_t n = u.size();
  parallel_for(0, B, row_grain(4 * n), [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      T* dg = dgates + b * 4 * H + u.begin;
      if (!active(lengths, b, t)) {  // the state passed through: so do its gradients
        for (int q = 0; q < 4; ++q) zero_row(dg + q * H, n);
        continue;
      }
      // Distinct buffers (__restrict__, ivdep): without saying so, GCC gives up
      // on this loop (too many pointer pairs to check for overlap at run time).
      const T* g = gates + b * 4 * H + u.begin;
      const T* __restrict__ gi = g;
      const T* __restrict__ gf = g + H;
      const T* __restrict__ gg = g + 2 * H;
      const T* __restrict__ go = g + 3 * H;
      const T* __restrict__ cp = c_prev + b * H + u.begin;
      const T* __restrict__ tc = tanh_c + b * H + u.begin;
      const T* dyr = dy ? dy + b * dy_rs + u.begin : nullptr;
      T* __restrict__ dhr = dh_carry + b * H + u.begin;
      T* __restrict__ dcr = dc_carry + b * H + u.begin;
      T* __restrict__ di = dg;
      T* __restrict__ df = dg + H;
      T* __restrict__ dgg = dg + 2 * H;
      T* __restrict__ do_ = dg + 3 * H;
      if (dyr)  // folded in first, so the loop below has no branch
        for (int64_t j = 0; j < n; ++j) dhr[j] += dyr[j];
#pragma GCC ivdep
      for (int64_t j = 0; j < n; ++j) {
        const T dh = dhr[j];
        const T dc = dcr[j] + dh * go[j] * (T(1) - tc[j] * tc[j]);
        di[j] = dc * gg[j] * gi[j] * (T(1) - gi[j]);
        df[j] = dc * cp[j] * gf[j] * (T(1) - gf[j]);
        dgg[j] = dc * gi[j] * (T(1) - gg[j] * gg[j]);
        do_[j] = dh * tc[j] * go[j] * (T(1) - go[j]);
        dcr[j] = dc * gf[j];
        dhr[j] = T(0);  // the caller adds dG · W_hh
      }
    }
  });
}

// ---- GRU --------------------------------------------------------------------
template <class T>
void gru_cell_forward(int64_t B, int64_t H, Units u, T* gx, const T* gh, const T* h_prev, T* h_new, T* hn, T* out,
                      int64_t out_rs, const int64_t* lengths, int64_t t) {
  const int64_t n = u.size();
  parallel_for(0, B, row_grain(3 * n), [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      const T* hp = h_prev + b * H + u.begin;
      T* hnew = h_new + b * H + u.begin;
      T* o_row = out + b * out_rs + u.begin;
      if (!active(lengths, b, t)) {
        copy_row(hp, hnew, n);
        zero_row(o_row, n);
        continue;
      }
      T* r = gx + b * 3 * H + u.begin;
      T *z = r + H, *nn = r + 2 * H;
      const T* hr = gh + b * 3 * H + u.begin;
      const T *hz = hr + H, *hnn = hr + 2 * H;
      for (int64_t j = 0; j < n; ++j) {
        r[j] += hr[j];
        z[j] += hz[j];
      }
      if (n == H) {
        sigmoid_n(r, r, 2 * H);  // r and z are adjacent
      } else {
        sigmoid_n(r, r, n);
        sigmoid_n(z, z, n);
      }
      T* hn_row = hn + b * H + u.begin;
      for (int64_t j = 0; j < n; ++j) {
        hn_row[j] = hnn[j];
        nn[j] += r[j] * hnn[j];
      }
      tanh_n(nn, nn, n);
      for (int64_t j = 0; j < n; ++j) {
        const T v = nn[j] + z[j] * (hp[j] - nn[j]);  // (1 - z)·n + z·h_prev
        hnew[j] = v;
        o_row[j] = v;
      }
    }
  });
}

// With dh = dy + dh_carry:
//   d(pre_n) = dh·(1-z)·(1-n²)         d(pre_z) = dh·(h_prev - n)·z(1-z)
//   d(pre_r) = d(pre_n)·hn·r(1-r)      dh_prev = dh·z + dgh · W_hh (the caller's GEMM)
// where pre_n = (W_in x + b_in) + r·hn, so its hidden part gets d(pre_n)·r.
template <class T>
void gru_cell_backward(int64_t B, int64_t H, Units u, const T* gates, const T* hn, const T* h_prev, const T* dy,
                       int64_t dy_rs, T* dh_carry, T* dgx, T* dgh, const int64_t* lengths, int64_t t) {
  const int64_t n = u.size();
  parallel_for(0, B, row_grain(3 * n), [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      T* dx = dgx + b * 3 * H + u.begin;
      T* dh_ = dgh + b * 3 * H + u.begin;
      if (!active(lengths, b, t)) {
        for (int q = 0; q < 3; ++q) {
          zero_row(dx + q * H, n);
          zero_row(dh_ + q * H, n);
        }
        continue;
      }
      const T* g = gates + b * 3 * H + u.begin;
      const T* __restrict__ r = g;
      const T* __restrict__ z = g + H;
      const T* __restrict__ nn = g + 2 * H;
      const T* __restrict__ hnr = hn + b * H + u.begin;
      const T* __restrict__ hp = h_prev + b * H + u.begin;
      const T* dyr = dy ? dy + b * dy_rs + u.begin : nullptr;
      T* __restrict__ dhr = dh_carry + b * H + u.begin;
      T* __restrict__ dxr = dx;
      T* __restrict__ dxz = dx + H;
      T* __restrict__ dxn = dx + 2 * H;
      T* __restrict__ dhr_r = dh_;
      T* __restrict__ dhr_z = dh_ + H;
      T* __restrict__ dhr_n = dh_ + 2 * H;
      if (dyr)  // folded in first, so the loop below has no branch
        for (int64_t j = 0; j < n; ++j) dhr[j] += dyr[j];
#pragma GCC ivdep
      for (int64_t j = 0; j < n; ++j) {
        const T dh = dhr[j];
        const T dn = dh * (T(1) - z[j]) * (T(1) - nn[j] * nn[j]);
        const T dz = dh * (hp[j] - nn[j]) * z[j] * (T(1) - z[j]);
        const T dr = dn * hnr[j] * r[j] * (T(1) - r[j]);
        dxr[j] = dr;
        dxz[j] = dz;
        dxn[j] = dn;
        dhr_r[j] = dr;
        dhr_z[j] = dz;
        dhr_n[j] = dn * r[j];
        dhr[j] = dh * z[j];
      }
    }
  });
}

// ---- Elman RNN ----------------------------------------------------------------
template <class T>
void rnn_cell_forward(int64_t B, int64_t H, Units u, bool relu, const T* pre, const T* h_prev, T* h_new, T* out,
                      int64_t out_rs, const int64_t* lengths, int64_t t) {
  const int64_t n = u.size();
  parallel_for(0, B, row_grain(n), [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      T* hnew = h_new + b * H + u.begin;
      T* o_row = out + b * out_rs + u.begin;
      if (!active(lengths, b, t)) {
        copy_row(h_prev + b * H + u.begin, hnew, n);
        zero_row(o_row, n);
        continue;
      }
      const T* p = pre + b * H + u.begin;
      if (relu) {
        for (int64_t j = 0; j < n; ++j) hnew[j] = p[j] > T(0) ? p[j] : (p[j] != p[j] ? p[j] : T(0));
      } else {
        tanh_n(p, hnew, n);
      }
      copy_row(hnew, o_row, n);
    }
  });
}

template <class T>
void rnn_cell_backward(int64_t B, int64_t H, Units u, bool relu, const T* h, const T* dy, int64_t dy_rs, T* dh_carry,
                       T* dpre, const int64_t* lengths, int64_t t) {
  const int64_t n = u.size();
  parallel_for(0, B, row_grain(n), [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      T* dp = dpre + b * H + u.begin;
      if (!active(lengths, b, t)) {
        zero_row(dp, n);
        continue;
      }
      const T* hr = h + b * H + u.begin;
      const T* dyr = dy ? dy + b * dy_rs + u.begin : nullptr;
      T* dhr = dh_carry + b * H + u.begin;
      if (dyr)  // folded in first, so the loop below has no branch and vectorises
        for (int64_t j = 0; j < n; ++j) dhr[j] += dyr[j];
      for (int64_t j = 0; j < n; ++j) {
        const T dh = dhr[j];
        // relu' is 1 where the output is positive, as torch's threshold_backward.
        dp[j] = relu ? (hr[j] > T(0) ? dh : T(0)) : dh * (T(1) - hr[j] * hr[j]);
        dhr[j] = T(0);
      }
    }
  });
}

template void lstm_cell_forward<float>(int64_t, int64_t, Units, float*, const float*, const float*, float*, float*,
                                       float*, float*, int64_t, const int64_t*, int64_t);
template void lstm_cell_backward<float>(int64_t, int64_t, Units, const float*, const float*, const float*,
                                        const float*, int64_t, float*, float*, float*, const int64_t*, int64_t);
template void gru_cell_forward<float>(int64_t, int64_t, Units, float*, const float*, const float*, float*, float*,
                                      float*, int64_t, const int64_t*, int64_t);
template void gru_cell_backward<float>(int64_t, int64_t, Units, const float*, const float*, const float*,
                                       const float*, int64_t, float*, float*, float*, const int64_t*, int64_t);
template void rnn_cell_forward<float>(int64_t, int64_t, Units, bool, const float*, const float*, float*, float*,
                                      int64_t, const int64_t*, int64_t);
template void rnn_cell_backward<float>(int64_t, int64_t, Units, bool, const float*, const float*, int64_t, float*,
                                       float*, const int64_t*, int64_t);

template void lstm_cell_forward<double>(int64_t, int64_t, Units, double*, const double*, const double*, double*,
                                        double*, double*, double*, int64_t, const int64_t*, int64_t);
template void lstm_cell_backward<double>(int64_t, int64_t, Units, const double*, const double*, const double*,
                                         const double*, int64_t, double*, double*, double*, const int64_t*, int64_t);
template void gru_cell_forward<double>(int64_t, int64_t, Units, double*, const double*, const double*, double*,
                                       double*, double*, int64_t, const int64_t*, int64_t);
template void gru_cell_backward<double>(int64_t, int64_t, Units, const double*, const double*, const double*,
                                        const double*, int64_t, double*, double*, double*, const int64_t*, int64_t);
template void rnn_cell_forward<double>(int64_t, int64_t, Units, bool, const double*, const double*, double*, double*,
                                       int64_t, const int64_t*, int64_t);
template void rnn_cell_backward<double>(int64_t, int64_t, Units, bool, const double*, const double*, int64_t,
                                        double*, double*, const int64_t*, int64_t);

}  // namespace glassnet
