// Winograd F(2×2, 3×3) convolution (see conv_winograd.h). Threads take batch
// slices as in the im2col path; per sample and group the work is: input
// transform into V (16, Cg, tiles), 16 GEMMs into M (16, Kg, tiles), output
// transform of M into y. The transformed filters U (16, K, Cg) are made once
// per call.
#include "ops/conv_winograd.h"

#include <algorithm>
#include <vector>

#include "gemm/gemm.h"
#include "ops/conv_im2col.h"

namespace glassnet::conv_detail {

bool use_winograd(const ConvShape& s) {
  const Conv2dArgs& a = s.a;
  return s.kh == 3 && s.kw == 3 && a.stride_h == 1 && a.stride_w == 1 && a.dilation_h == 1 && a.dilation_w == 1 &&
         a.pad_h <= 2 && a.pad_w <= 2 && s.Cg() >= 16 && s.Kg() >= 16;
}

namespace {

// U_ξ[k][c] = (G g Gᵀ)_ξ for the filter g = w[k][c] (3×3), G = [1 0 0; ½ ½ ½; ½ -½ ½; 0 0 1].
template <class T>
std::vector<T> transform_filters(const ConvShape& s, const T* w) {
  const int64_t K = s.K, Cg = s.Cg();
  std::vector<T> u(16 * K * Cg);
  for (int64_t k = 0; k < K; ++k)
    for (int64_t c = 0; c < Cg; ++c) {
      const T* g = w + (k * Cg + c) * 9;
      T t[4][3];  // G·g
      for (int j = 0; j < 3; ++j) {
        t[0][j] = g[j];
        t[1][j] = T(0.5) * (g[j] + g[3 + j] + g[6 + j]);
        t[2][j] = T(0.5) * (g[j] - g[3 + j] + g[6 + j]);
        t[3][j] = g[6 + j];
      }
      for (int i = 0; i < 4; ++i) {  // (G·g)·Gᵀ
        const T r[4] = {t[i][0], T(0.5) * (t[i][0] + t[i][1] + t[i][2]), T(0.5) * (t[i][0] - t[i][1] + t[i][2]),
                        t[i][2]};
        for (int j = 0; j < 4; ++j) u[((i * 4 + j) * K + k) * Cg + c] = r[j];
      }
    }
  return u;
}

// V_ξ[c][t] = (Bᵀ d B)_ξ for the 4×4 tiles d of x (Cg, H, W), zero outside,
// Bᵀ = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]; tiles start at 2·(ty, tx) - pad.
template <class T>
void transform_input(const ConvShape& s, const T* x, int64_t TH, int64_t TW, int64_t stride, T* v) {
  const int64_t Cg = s.Cg(), tiles = TH * TW;
  for (int64_t c = 0; c < Cg; ++c) {
    const T* xc = x + c * s.H * s.W;
    for (int64_t ty = 0; ty < TH; ++ty)
      for (int64_t tx = 0; tx < TW; ++tx) {
        const int64_t h0 = 2 * ty - s.a.pad_h, w0 = 2 * tx - s.a.pad_w;
        T d[4][4];
        const bool inside = h0 >= 0 && w0 >= 0 && h0 + 4 <= s.H && w0 + 4 <= s.W;
        for (int i = 0; i < 4; ++i)
          for (int j = 0; j < 4; ++j) {
            const int64_t h = h0 + i, w = w0 + j;
            d[i][j] = (inside || (h >= 0 && h < s.H && w >= 0 && w < s.W)) ? xc[h * s.W + w] : T(0);
          }
        T t[4][4];  // Bᵀ·d
        for (int j = 0; j < 4; ++j) {
          t[0][j] = d[0][j] - d[2][j];
          t[1][j] = d[1][j] + d[2][j];
          t[2][j] = d[2][j] - d[1][j];
          t[3][j] = d[1][j] - d[3][j];
        }
        const int64_t at = c * tiles + ty * TW + tx;
        for (int i = 0; i < 4; ++i) {  // (Bᵀ·d)·B
          v[(i * 4 + 0) * stride + at] = t[i][0] - t[i][2];
          v[(i * 4 + 1) * stride + at] = t[i][1] + t[i][2];
          v[(i * 4 + 2) * stride + at] = t[i][2] - t[i][1];
          v[(i * 4 + 3) * stride + at] = t[i][1] - t[i][3];
        }
      }
  }
}

// y (Kg, Ho, Wo) = (Aᵀ M A) + bias per 2×2 output tile, Aᵀ = [1 1 1 0; 0 1 -1 -1];
// m holds M_ξ (Kg, tiles) for the 16 positions.
template <class T>
void transform_output(const ConvShape& s, const T* m, const T* bias, int64_t TH, int64_t TW, int64_t stride, T* y) {
  const int64_t Kg = s.Kg(), tiles = TH * TW;
  for (int64_t k = 0; k < Kg; ++k) {
    const T b = bias ? bias[k] : T(0);
    T* yk = y + k * s.Ho * s.Wo;
    for (int64_t ty = 0; ty < TH; ++ty)
      for (int64_t tx = 0; tx < TW; ++tx) {
        const int64_t at = k * tiles + ty * TW + tx;
        T q[4][4];
        for (int i = 0; i < 16; ++i) q[i / 4][i % 4] = m[i * stride + at];
        T t[2][4];  // Aᵀ·M
        for (int j = 0; j < 4; ++j) {
          t[0][j] = q[0][j] + q[1][j] + q[2][j];
          t[1][j] = q[1][j] - q[2][j] - q[3][j];
        }
        for (int i = 0; i < 2; ++i) {
          const int64_t oh = 2 * ty + i;
          if (oh >= s.Ho) break;
          const T r0 = t[i][0] + t[i][1] + t[i][2] + b, r1 = t[i][1] - t[i][2] - t[i][3] + b;
          yk[oh * s.Wo + 2 * tx] = r0;
          if (2 * tx + 1 < s.Wo) yk[oh * s.Wo + 2 * tx + 1] = r1;
        }
      }
  }
}

// dM (16, Kg, tiles) = A·dY·Aᵀ for the 2×2 tiles dY of gy (Kg, Ho, Wo), zero
// past the edge: the adjoint of transform_output, A = [1 0; 1 1; 1 -1; 0 -1].
template <class T>
void transform_output_grad(const ConvShape& s, const T* gy, int64_t TH, int64_t TW, int64_t stride, T* m) {
  const int64_t Kg = s.Kg(), tiles = TH * TW;
  for (int64_t k = 0; k < Kg; ++k) {
    const T* gk = gy + k * s.Ho * s.Wo;
    for (int64_t ty = 0; ty < TH; ++ty)
      for (int64_t tx = 0; tx < TW; ++tx) {
        T d[2][2];
        for (int i = 0; i < 2; ++i)
          for (int j = 0; j < 2; ++j) {
            const int64_t oh = 2 * ty + i, ow = 2 * tx + j;
            d[i][j] = (oh < s.Ho && ow < s.Wo) ? gk[oh * s.Wo + ow] : T(0);
          }
        T t[4][2];  // A·dY
        for (int j = 0; j < 2; ++j) {
          t[0][j] = d[0][j];
          t[1][j] = d[0][j] + d[1][j];
          t[2][j] = d[0][j] - d[1][j];
          t[3][j] = -d[1][j];
        }
        const int64_t at = k * tiles + ty * TW + tx;
        for (int i = 0; i < 4; ++i) {  // (A·dY)·Aᵀ
          m[(i * 4 + 0) * stride + at] = t[i][0];
          m[(i * 4 + 1) * stride + at] = t[i][0] + t[i][1];
          m[(i * 4 + 2) * stride + at] = t[i][0] - t[i][1];
          m[(i * 4 + 3) * stride + at] = -t[i][1];
        }
      }
  }
}

}  // namespace

template <class T>
void winograd_forward(const ConvShape& s, const T* x, const T* w, const T* bias, T* y) {
  const int64_t G = s.a.groups, Cg = s.Cg(), Kg = s.Kg(), HW = s.H * s.W, P = s.P();
  const int64_t TH = (s.Ho + 1) / 2, TW = (s.Wo + 1) / 2, tiles = TH * TW;
  const std::vector<T> u = transform_filters(s, w);
  // GEMM work: 16 positions · 2·Kg·Cg per tile, per group.
  const int64_t slices = batch_slices(s.N, 32.0 * s.K * Cg * tiles);
  // The 16 positions of one tile are written (and read back) together: a
  // stride between positions that is a multiple of 4 KiB would put all 16 in
  // one L1 set, so the strides get 64 elements of slack.
  const int64_t vs = Cg * tiles + 64, ms = Kg * tiles + 64;
  for_batch_slices(s.N, slices, [&](int64_t, int64_t n0, int64_t n1) {
    T* v = thread_scratch<T, 2>(16 * vs);
    T* m = thread_scratch<T, 3>(16 * ms);
    for (int64_t n = n0; n < n1; ++n)
      for (int64_t g = 0; g < G; ++g) {
        transform_input(s, x + (n * s.C + g * Cg) * HW, TH, TW, vs, v);
        for (int64_t xi = 0; xi < 16; ++xi)
          gemm::gemm<T>(Kg, tiles, Cg, T(1), u.data() + (xi * s.K + g * Kg) * Cg, Cg, 1, v + xi * vs, tiles, 1, T(0),
                        m + xi * ms, tiles, 1);
        transform_output(s, m, bias ? bias + g * Kg : nullptr, TH, TW, ms, y + (n * s.K + g * Kg) * P);
      }
  });
}

// gw (K, Cg, 3, 3) = Gᵀ·dU·G with dU_ξ (K, Cg) = Σ_samples dM_ξ · V_ξᵀ: the
// adjoint of the forward's filter transform and GEMMs. Batch slices sum into
// their own dU, added at the end.
template <class T>
void winograd_backward_weight(const ConvShape& s, const T* gy, const T* x, T* gw) {
  const int64_t G = s.a.groups, Cg = s.Cg(), Kg = s.Kg(), HW = s.H * s.W, P = s.P();
  const int64_t TH = (s.Ho + 1) / 2, TW = (s.Wo + 1) / 2, tiles = TH * TW;
  const int64_t usize = 16 * s.K * Cg;
  const int64_t slices = batch_slices(s.N, 32.0 * s.K * Cg * tiles);
  std::vector<T> du(slices * usize);
  const int64_t vs = Cg * tiles + 64, ms = Kg * tiles + 64;  // see winograd_forward
  for_batch_slices(s.N, slices, [&](int64_t sl, int64_t n0, int64_t n1) {
    T* v = thread_scratch<T, 2>(16 * vs);
    T* m = thread_scratch<T, 3>(16 * ms);
    T* acc = du.data() + sl * usize;
    for (int64_t n = n0; n < n1; ++n)
      for (int64_t g = 0; g < G; ++g) {
        transform_input(s, x + (n * s.C + g * Cg) * HW, TH, TW, vs, v);
        transform_output_grad(s, gy + (n * s.K + g * Kg) * P, TH, TW, ms, m);
        for (int64_t xi = 0; xi < 16; ++xi)
          gemm::gemm<T>(Kg, Cg, tiles, T(1), m + xi * ms, tiles, 1, v + xi * vs, 1, tiles, n == n0 ? T(0) : T(1),
                        acc + (xi * s.K + g * Kg) * Cg, Cg, 1);
      }
  });
  for (int64_t t = 1; t < slices; ++t)
    for (int64_t i = 0; i < usize; ++i) du[i] += du[t * usize + i];
  // Gᵀ = [1 ½ ½ 0; 0 ½ -½ 0; 0 ½ ½ 1] on both sides of each 4×4 dU.
  for (int64_t k = 0; k < s.K; ++k)
    for (int64_t c = 0; c < Cg; ++c) {
      T d[4][4];
      for (int xi = 0; xi < 16; ++xi) d[xi / 4][xi % 4] = du[(xi * s.K + k) * Cg + c];
      T t[3][4];
      for (int j = 0; j < 4; ++j) {
        t[0][j] = d[0][j] + T(0.5) * (d[1][j] + d[2][j]);
        t[1][j] = T(0.5) * (d[1][j] - d[2][j]);
        t[2][j] = T(0.5) * (d[1][j] + d[2][j]) + d[3][j];
      }
      T* out = gw + (k * Cg + c) * 9;
      for (int i = 0; i < 3; ++i) {
        out[i * 3 + 0] = t[i][0] + T(0.5) * (t[i][1] + t[i][2]);
        out[i * 3 + 1] = T(0.5) * (t[i][1] - t[i][2]);
        out[i * 3 + 2] = T(0.5) * (t[i][1] + t[i][2]) + t[i][3];
      }
    }
}

template void winograd_backward_weight<float>(const ConvShape&, const float*, const float*, float*);
template void winograd_backward_weight<double>(const ConvShape&, const double*, const double*, double*);
template void winograd_forward<float>(const ConvShape&, const float*, const float*, const float*, float*);
template void winograd_forward<double>(const ConvShape&, const double*, const double*, const double*, double*);

}  // namespace glassnet::conv_detail
