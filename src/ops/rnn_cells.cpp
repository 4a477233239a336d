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
// gates (B, 4H) [i f g o], h/c rows (B, H), out rows (B, H) at stride out_rs.
template <class T>
void lstm_cell_forward(int64_t B, int64_t H, T* gates, const T* h_prev, const T* c_prev, T* h_new, T* c_new,
                       T* tanh_c, T* out, int64_t out_rs, const int64_t* lengths, int64_t t) {
  parallel_for(0, B, row_grain(4 * H), [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      const T* cp = c_prev + b * H;
      T* cn = c_new + b * H;
      T* hn = h_new + b * H;
      T* o_row = out ? out + b * out_rs : nullptr;
      if (!active(lengths, b, t)) {
        if (h_prev)
          copy_row(h_prev + b * H, hn, H);
        else
          zero_row(hn, H);
        copy_row(cp, cn, H);
        if (out) zero_row(o_row, H);
        continue;
      }
      T* g = gates + b * 4 * H;
      sigmoid_n(g, g, 2 * H);           // i, f
      tanh_n(g + 2 * H, g + 2 * H, H);  // g
      sigmoid_n(g + 3 * H, g + 3 * H, H);  // o
      const T *gi = g, *gf = g + H, *gg = g + 2 * H, *go = g + 3 * H;
      T* tc = tanh_c + b * H;
      for (int64_t j = 0; j < H; ++j) {
        const T c = gf[j] * cp[j] + gi[j] * gg[j];
        cn[j] = c;
        tc[j] = c;
      }
      tanh_n(tc, tc, H);
      for (int64_t j = 0; j < H; ++j) hn[j] = go[j] * tc[j];
      if (o_row) copy_row(hn, o_row, H);
    }
  });
}

// With dh = dy + dh_carry and dc = dc_carry + dh·o·(1 - tanh²c):
//   d(pre_i) = dc·g·i(1-i)   d(pre_f) = dc·c_prev·f(1-f)
//   d(pre_g) = dc·i·(1-g²)   d(pre_o) = dh·tanh(c)·o(1-o)    dc_prev = dc·f
template <class T>
void lstm_cell_backward(int64_t B, int64_t H, const T* gates, const T* c_prev, const T* tanh_c, const T* dy,
                        int64_t dy_rs, T* dh_carry, T* dc_carry, T* dgates, const int64_t* lengths, int64_t t) {
  parallel_for(0, B, row_grain(4 * H), [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      T* dg = dgates + b * 4 * H;
      if (!active(lengths, b, t)) {  // the state passed through: so do its gradients
        std::fill(dg, dg + 4 * H, T(0));
        continue;
      }
      // Distinct buffers (__restrict__, ivdep): without saying so, GCC gives up
      // on this loop (too many pointer pairs to check for overlap at run time).
      const T* g = gates + b * 4 * H;
      const T* __restrict__ gi = g;
      const T* __restrict__ gf = g + H;
      const T* __restrict__ gg = g + 2 * H;
      const T* __restrict__ go = g + 3 * H;
      const T* __restrict__ cp = c_prev + b * H;
      const T* __restrict__ tc = tanh_c + b * H;
      const T* dyr = dy ? dy + b * dy_rs : nullptr;
      T* __restrict__ dhr = dh_carry + b * H;
      T* __restrict__ dcr = dc_carry + b * H;
      T* __restrict__ di = dg;
      T* __restrict__ df = dg + H;
      T* __restrict__ dgg = dg + 2 * H;
      T* __restrict__ do_ = dg + 3 * H;
      if (dyr)  // folded in first, so the loop below has no branch
        for (int64_t j = 0; j < H; ++j) dhr[j] += dyr[j];
#pragma GCC ivdep
      for (int64_t j = 0; j < H; ++j) {
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
void gru_cell_forward(int64_t B, int64_t H, T* gx, const T* gh, const T* h_prev, T* h_new, T* hn, T* out,
                      int64_t out_rs, const int64_t* lengths, int64_t t) {
  parallel_for(0, B, row_grain(3 * H), [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      const T* hp = h_prev + b * H;
      T* hnew = h_new + b * H;
      T* o_row = out + b * out_rs;
      if (!active(lengths, b, t)) {
        copy_row(hp, hnew, H);
        zero_row(o_row, H);
        continue;
      }
      T* x = gx + b * 3 * H;
      const T* h = gh + b * 3 * H;
      for (int64_t j = 0; j < 2 * H; ++j) x[j] += h[j];
      sigmoid_n(x, x, 2 * H);  // r, z
      const T *r = x, *z = x + H;
      T* n = x + 2 * H;
      T* hn_row = hn + b * H;
      for (int64_t j = 0; j < H; ++j) {
        hn_row[j] = h[2 * H + j];
        n[j] += r[j] * h[2 * H + j];
      }
      tanh_n(n, n, H);
      for (int64_t j = 0; j < H; ++j) {
        const T v = n[j] + z[j] * (hp[j] - n[j]);  // (1 - z)·n + z·h_prev
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
void gru_cell_backward(int64_t B, int64_t H, const T* gates, const T* hn, const T* h_prev, const T* dy, int64_t dy_rs,
                       T* dh_carry, T* dgx, T* dgh, const int64_t* lengths, int64_t t) {
  parallel_for(0, B, row_grain(3 * H), [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      T* dx = dgx + b * 3 * H;
      T* dh_ = dgh + b * 3 * H;
      if (!active(lengths, b, t)) {
        std::fill(dx, dx + 3 * H, T(0));
        std::fill(dh_, dh_ + 3 * H, T(0));
        continue;
      }
      const T* g = gates + b * 3 * H;
      const T* __restrict__ r = g;
      const T* __restrict__ z = g + H;
      const T* __restrict__ n = g + 2 * H;
      const T* __restrict__ hnr = hn + b * H;
      const T* __restrict__ hp = h_prev + b * H;
      const T* dyr = dy ? dy + b * dy_rs : nullptr;
      T* __restrict__ dhr = dh_carry + b * H;
      T* __restrict__ dxr = dx;
      T* __restrict__ dxz = dx + H;
      T* __restrict__ dxn = dx + 2 * H;
      T* __restrict__ dhr_r = dh_;
      T* __restrict__ dhr_z = dh_ + H;
      T* __restrict__ dhr_n = dh_ + 2 * H;
      if (dyr)  // folded in first, so the loop below has no branch
        for (int64_t j = 0; j < H; ++j) dhr[j] += dyr[j];
#pragma GCC ivdep
      for (int64_t j = 0; j < H; ++j) {
        const T dh = dhr[j];
        const T dn = dh * (T(1) - z[j]) * (T(1) - n[j] * n[j]);
        const T dz = dh * (hp[j] - n[j]) * z[j] * (T(1) - z[j]);
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
void rnn_cell_forward(int64_t B, int64_t H, bool relu, const T* pre, const T* h_prev, T* h_new, T* out,
                      int64_t out_rs, const int64_t* lengths, int64_t t) {
  parallel_for(0, B, row_grain(H), [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      T* hnew = h_new + b * H;
      T* o_row = out + b * out_rs;
      if (!active(lengths, b, t)) {
        copy_row(h_prev + b * H, hnew, H);
        zero_row(o_row, H);
        continue;
      }
      const T* p = pre + b * H;
      if (relu) {
        for (int64_t j = 0; j < H; ++j) hnew[j] = p[j] > T(0) ? p[j] : (p[j] != p[j] ? p[j] : T(0));
      } else {
        tanh_n(p, hnew, H);
      }
      copy_row(hnew, o_row, H);
    }
  });
}

template <class T>
void rnn_cell_backward(int64_t B, int64_t H, bool relu, const T* h, const T* dy, int64_t dy_rs, T* dh_carry, T* dpre,
                       const int64_t* lengths, int64_t t) {
  parallel_for(0, B, row_grain(H), [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      T* dp = dpre + b * H;
      if (!active(lengths, b, t)) {
        zero_row(dp, H);
        continue;
      }
      const T* hr = h + b * H;
      const T* dyr = dy ? dy + b * dy_rs : nullptr;
      T* dhr = dh_carry + b * H;
      if (dyr)  // folded in first, so the loop below has no branch and vectorises
        for (int64_t j = 0; j < H; ++j) dhr[j] += dyr[j];
      for (int64_t j = 0; j < H; ++j) {
        const T dh = dhr[j];
        // relu' is 1 where the output is positive, as torch's threshold_backward.
        dp[j] = relu ? (hr[j] > T(0) ? dh : T(0)) : dh * (T(1) - hr[j] * hr[j]);
        dhr[j] = T(0);
      }
    }
  });
}

template void lstm_cell_forward<float>(int64_t, int64_t, float*, const float*, const float*, float*, float*, float*,
                                       float*, int64_t, const int64_t*, int64_t);
template void lstm_cell_backward<float>(int64_t, int64_t, const float*, const float*, const float*, const float*,
                                        int64_t, float*, float*, float*, const int64_t*, int64_t);
template void gru_cell_forward<float>(int64_t, int64_t, float*, const float*, const float*, float*, float*, float*,
                                      int64_t, const int64_t*, int64_t);
template void gru_cell_backward<float>(int64_t, int64_t, const float*, const float*, const float*, const float*,
                                       int64_t, float*, float*, float*, const int64_t*, int64_t);
template void rnn_cell_forward<float>(int64_t, int64_t, bool, const float*, const float*, float*, float*, int64_t,
                                      const int64_t*, int64_t);
template void rnn_cell_backward<float>(int64_t, int64_t, bool, const float*, const float*, int64_t, float*, float*,
                                       const int64_t*, int64_t);

template void lstm_cell_forward<double>(int64_t, int64_t, double*, const double*, const double*, double*, double*,
                                        double*, double*, int64_t, const int64_t*, int64_t);
template void lstm_cell_backward<double>(int64_t, int64_t, const double*, const double*, const double*, const double*,
                                         int64_t, double*, double*, double*, const int64_t*, int64_t);
template void gru_cell_forward<double>(int64_t, int64_t, double*, const double*, const double*, double*, double*,
                                       double*, int64_t, const int64_t*, int64_t);
template void gru_cell_backward<double>(int64_t, int64_t, const double*, const double*, const double*, const double*,
                                        int64_t, double*, double*, double*, const int64_t*, int64_t);
template void rnn_cell_forward<double>(int64_t, int64_t, bool, const double*, const double*, double*, double*,
                                       int64_t, const int64_t*, int64_t);
template void rnn_cell_backward<double>(int64_t, int64_t, bool, const double*, const double*, int64_t, double*,
                                        double*, const int64_t*, int64_t);

}  // namespace glassnet
