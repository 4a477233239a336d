// Tests of the tensor-level products in src/ops/matmul.h against a naive
// loop over logical indices: torch.matmul's shape rules (1-D promotion,
// batch broadcasting, size 0), strided and transposed views, linear_forward,
// addmm, mm_nt, mm_tn, and the errors. Built next to test_gemm.
#include <cmath>
#include <cstdio>
#include <functional>
#include <random>
#include <string>

#include "errors.h"
#include "ops/matmul.h"
#include "tensor.h"

using namespace glassnet;

namespace {

int g_failures = 0, g_checks = 0;
std::mt19937_64 g_rng(7);

Tensor randn(const Shape& shape, DType dtype = DType::Float32) {
  Tensor t = Tensor::empty(shape, dtype);
  std::normal_distribution<double> d;
  for (int64_t i = 0; i < t.numel(); ++i) {
    if (dtype == DType::Float32) t.data<float>()[i] = float(d(g_rng));
    else t.data<double>()[i] = d(g_rng);
  }
  return t;
}

// Element of t at a logical multi-index.
double at(const Tensor& t, const Shape& idx) {
  int64_t off = 0;
  for (size_t d = 0; d < idx.size(); ++d) off += idx[d] * t.strides()[d];
  return t.dtype() == DType::Float32 ? t.data<float>()[off] : t.data<double>()[off];
}

// Calls f on every multi-index of shape.
void for_each_index(const Shape& shape, const std::function<void(const Shape&)>& f) {
  int64_t n = shape_numel(shape);
  Shape idx(shape.size(), 0);
  for (int64_t i = 0; i < n; ++i) {
    f(idx);
    for (int64_t d = int64_t(shape.size()) - 1; d >= 0; --d) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
}

void expect(bool ok, const std::string& what) {
  ++g_checks;
  if (!ok) {
    ++g_failures;
    std::printf("FAIL %s\n", what.c_str());
  }
}

// Checks matmul(a, b) against the definition, element by element.
void check_matmul(const Tensor& a, const Tensor& b, const Shape& want_shape) {
  const std::string what = "matmul " + shape_str(a.shape()) + " @ " + shape_str(b.shape());
  Tensor c = matmul(a, b);
  if (c.shape() != want_shape) {
    expect(false, what + ": shape " + shape_str(c.shape()) + " want " + shape_str(want_shape));
    return;
  }
  const int64_t K = a.size(a.dim() - 1);
  double worst = 0;
  for_each_index(c.shape(), [&](const Shape& ci) {
    // Split the output index into batch, i, j (missing for 1-D operands).
    const int64_t nb = int64_t(ci.size()) - (a.dim() > 1) - (b.dim() > 1);
    const int64_t i = a.dim() > 1 ? ci[nb] : 0;
    const int64_t j = b.dim() > 1 ? ci.back() : 0;
    double sum = 0;
    for (int64_t k = 0; k < K; ++k) {
      Shape ai, bi;
      for (int64_t d = 0; d < a.dim() - 2; ++d) {
        const int64_t cd = nb - (a.dim() - 2) + d;
        ai.push_back(a.size(d) == 1 ? 0 : ci[cd]);
      }
      if (a.dim() > 1) ai.push_back(i);
      ai.push_back(k);
      for (int64_t d = 0; d < b.dim() - 2; ++d) {
        const int64_t cd = nb - (b.dim() - 2) + d;
        bi.push_back(b.size(d) == 1 ? 0 : ci[cd]);
      }
      bi.push_back(k);
      if (b.dim() > 1) bi.push_back(j);
      sum += at(a, ai) * at(b, bi);
    }
    worst = std::max(worst, std::abs(sum - at(c, ci)));
  });
  expect(worst <= 1e-4 * (K + 1), what + ": max error " + std::to_string(worst));
}

template <class E>
void expect_throw(const std::function<void()>& f, const std::string& what, const std::string& msg = "") {
  try {
    f();
    expect(false, what + ": no exception");
  } catch (const E& e) {
    expect(msg.empty() || std::string(e.what()) == msg, what + ": message '" + e.what() + "'");
  } catch (const std::exception& e) {
    expect(false, what + ": wrong exception type: " + e.what());
  }
}

// A transposed view of the last two dims.
Tensor mT(const Tensor& t) {
  Shape s = t.shape(), st = t.strides();
  std::swap(s[s.size() - 1], s[s.size() - 2]);
  std::swap(st[st.size() - 1], st[st.size() - 2]);
  return t.as_strided(s, st, t.offset());
}

}  // namespace

int main() {
  // Shapes of torch.matmul.
  check_matmul(randn({5}), randn({5}), {});
  check_matmul(randn({3, 4}), randn({4, 6}), {3, 6});
  check_matmul(randn({4}), randn({4, 6}), {6});
  check_matmul(randn({3, 4}), randn({4}), {3});
  check_matmul(randn({2, 1, 3, 4}), randn({5, 4, 6}), {2, 5, 3, 6});
  check_matmul(randn({7, 3, 4}), randn({4, 6}), {7, 3, 6});
  check_matmul(randn({4}), randn({2, 4, 6}), {2, 6});
  check_matmul(randn({2, 3, 4}), randn({4}), {2, 3});
  check_matmul(randn({3, 4}), randn({2, 4, 6}), {2, 3, 6});
  check_matmul(randn({1, 3, 4}), randn({4, 6}), {1, 3, 6});
  check_matmul(randn({64, 8, 16}), randn({64, 16, 8}), {64, 8, 8});  // many small batches
  check_matmul(randn({3, 40, 70}, DType::Float64), randn({70, 50}, DType::Float64), {3, 40, 50});
  // Transposed and strided views, used in place.
  check_matmul(mT(randn({4, 3})), mT(randn({6, 4})), {3, 6});
  check_matmul(mT(randn({2, 33, 17})), randn({2, 33, 9}), {2, 17, 9});
  {
    Tensor big = randn({10, 12});
    Tensor sub = big.as_strided({4, 5}, {24, 2}, 3);  // every other row and column
    check_matmul(sub, mT(sub), {4, 4});
    check_matmul(big.as_strided({3, 2, 5}, {2, 1, 24}, 1), randn({5, 7}), {3, 2, 7});  // unfoldable batch
  }
  // Expanded (stride 0) operands.
  {
    Tensor row = randn({1, 6});
    check_matmul(row.as_strided({4, 6}, {0, 1}, 0), randn({6, 3}), {4, 3});
  }
  // Size 0.
  check_matmul(randn({0, 4}), randn({4, 6}), {0, 6});
  check_matmul(randn({3, 0}), randn({0, 6}), {3, 6});  // K = 0: zeros
  check_matmul(randn({2, 0, 3, 4}), randn({4, 6}), {2, 0, 3, 6});
  check_matmul(randn({0}), randn({0}), {});

  // Errors.
  expect_throw<ValueError>([] { matmul(randn({2, 3}), randn({4, 5})); }, "mismatch",
                           "[matmul] shapes (2, 3) and (4, 5) cannot be multiplied (3 != 4)");
  expect_throw<ValueError>([] { matmul(randn({2, 3, 4}), randn({5, 4, 6})); }, "batch mismatch");
  expect_throw<ValueError>([] { matmul(randn({}), randn({3})); }, "0-d");
  expect_throw<TypeError>([] { matmul(randn({2, 3}), randn({3, 2}, DType::Float64)); }, "dtype mix",
                          "[matmul] expected both operands to have the same dtype, got float32 and float64");
  expect_throw<TypeError>([] { matmul(Tensor::zeros({2, 3}, DType::Int64), Tensor::zeros({3, 2}, DType::Int64)); },
                          "int64");

  // linear_forward = x·Wᵀ + b, with and without bias, batched input.
  for (DType dt : {DType::Float32, DType::Float64}) {
    Tensor x = randn({2, 5, 33}, dt), w = randn({17, 33}, dt), b = randn({17}, dt);
    Tensor y = linear_forward(x, w, &b), y0 = linear_forward(x, w, nullptr);
    Tensor ref = matmul(x, mT(w));
    double worst = 0;
    for_each_index(y.shape(), [&](const Shape& i) {
      worst = std::max(worst, std::abs(at(y, i) - at(ref, i) - at(b, {i.back()})));
      worst = std::max(worst, std::abs(at(y0, i) - at(ref, i)));
    });
    expect(y.shape() == Shape({2, 5, 17}) && worst < 1e-4, "linear_forward");
    Tensor y1 = linear_forward(randn({33}, dt), w, &b);
    expect(y1.shape() == Shape({17}), "linear_forward 1-D");
  }
  expect_throw<ValueError>([] { Tensor w = randn({4, 3}); linear_forward(randn({2, 5}), w, nullptr); }, "linear mismatch");

  // addmm: row bias (fused), full input, scalar input, beta = 0 with NaN input.
  {
    Tensor a = randn({7, 9}), b = randn({9, 11});
    Tensor ab = matmul(a, b);
    for (const Shape& is : {Shape{11}, Shape{1, 11}, Shape{7, 11}, Shape{7, 1}, Shape{}}) {
      for (double beta : {0.0, 1.0, 0.5}) {
        Tensor in = randn(is);
        if (beta == 0) in = Tensor::full(is, NAN, DType::Float32);
        Tensor out = addmm(in, a, b, beta, 2.0);
        double worst = 0;
        for_each_index(out.shape(), [&](const Shape& i) {
          Shape ii;
          if (is.size() == 2) ii = {is[0] == 1 ? 0 : i[0], is[1] == 1 ? 0 : i[1]};
          if (is.size() == 1) ii = {i[1]};
          const double inv = beta == 0 ? 0 : at(in, ii);
          const double d = std::abs(at(out, i) - (beta * inv + 2.0 * at(ab, i)));
          worst = std::isnan(d) ? 1e9 : std::max(worst, d);
        });
        expect(worst < 1e-4, "addmm input " + shape_str(is) + " beta " + std::to_string(beta));
      }
    }
  }
  // mm_nt, mm_tn.
  {
    Tensor a = randn({13, 21}), b = randn({8, 21}), g = randn({13, 8});
    Tensor nt = mm_nt(a, b), ref = matmul(a, mT(b));
    Tensor tn = mm_tn(g, a), ref2 = matmul(mT(g), a);
    double worst = 0;
    for_each_index(nt.shape(), [&](const Shape& i) { worst = std::max(worst, std::abs(at(nt, i) - at(ref, i))); });
    for_each_index(tn.shape(), [&](const Shape& i) { worst = std::max(worst, std::abs(at(tn, i) - at(ref2, i))); });
    expect(nt.shape() == Shape({13, 8}) && tn.shape() == Shape({8, 21}) && worst < 1e-5, "mm_nt/mm_tn");
    expect_throw<ValueError>([&] { mm_nt(a, g); }, "mm_nt mismatch");
  }
  std::printf("%d checks, %d failures\n", g_checks, g_failures);
  return g_failures == 0 ? 0 : 1;
}
