#include "random.h"

#include <cmath>
#include <mutex>

#include "dispatch.h"
#include "errors.h"
#include "parallel.h"

namespace glassnet {

namespace {

std::mutex g_rng_mutex;
GeneratorState g_state{67280421310721ull, 0};  // torch's default seed

constexpr uint32_t kMul0 = 0xD2511F53, kMul1 = 0xCD9E8D57;
constexpr uint32_t kWeyl0 = 0x9E3779B9, kWeyl1 = 0xBB67AE85;

// Fills a contiguous tensor: element i gets f(state, i).
template <class T, class F>
void fill_random(Tensor& t, const char* op, int64_t words_per_element, F f) {
  if (t.device().is_cuda()) fail<RuntimeError>("[", op, "] not implemented for cuda yet");
  if (!t.is_contiguous()) fail<ValueError>("[", op, "] expects a contiguous tensor");
  const GeneratorState s = reserve_random(t.numel() * words_per_element);
  T* d = t.data<T>();
  parallel_for(0, t.numel(), 16384, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) d[i] = f(s, i);
  });
}

}  // namespace

std::array<uint32_t, 4> philox4x32(uint64_t counter, uint64_t seed) {
  uint32_t c0 = static_cast<uint32_t>(counter), c1 = static_cast<uint32_t>(counter >> 32), c2 = 0, c3 = 0;
  uint32_t k0 = static_cast<uint32_t>(seed), k1 = static_cast<uint32_t>(seed >> 32);
  for (int round = 0; round < 10; ++round) {
    const uint64_t p0 = static_cast<uint64_t>(kMul0) * c0;
    const uint64_t p1 = static_cast<uint64_t>(kMul1) * c2;
    const uint32_t n0 = static_cast<uint32_t>(p1 >> 32) ^ c1 ^ k0;
    const uint32_t n2 = static_cast<uint32_t>(p0 >> 32) ^ c3 ^ k1;
    c1 = static_cast<uint32_t>(p1);
    c3 = static_cast<uint32_t>(p0);
    c0 = n0;
    c2 = n2;
    k0 += kWeyl0;
    k1 += kWeyl1;
  }
  return {c0, c1, c2, c3};
}

void manual_seed(uint64_t seed) {
  std::lock_guard<std::mutex> lock(g_rng_mutex);
  g_state = GeneratorState{seed, 0};
}

GeneratorState get_rng_state() {
  std::lock_guard<std::mutex> lock(g_rng_mutex);
  return g_state;
}

void set_rng_state(GeneratorState state) {
  std::lock_guard<std::mutex> lock(g_rng_mutex);
  g_state = state;
}

GeneratorState reserve_random(int64_t n) {
  std::lock_guard<std::mutex> lock(g_rng_mutex);
  GeneratorState s = g_state;
  g_state.offset += static_cast<uint64_t>((n + 3) / 4);
  return s;
}

void uniform_(Tensor& t, double low, double high) {
  if (!(low <= high)) fail<ValueError>("[uniform_] expects low <= high, got low=", low, " high=", high);
  dispatch_float(t.dtype(), "uniform_", [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_same_v<T, float>) {
      fill_random<T>(t, "uniform_", 1, [=](const GeneratorState& s, int64_t i) {
        return static_cast<float>(low + (high - low) * uniform_float(random_word(s, i)));
      });
    } else {
      fill_random<T>(t, "uniform_", 2, [=](const GeneratorState& s, int64_t i) {
        return low + (high - low) * uniform_double(random_word(s, 2 * i), random_word(s, 2 * i + 1));
      });
    }
  });
}

void normal_(Tensor& t, double mean, double std) {
  if (!(std >= 0)) fail<ValueError>("[normal_] expects std >= 0, got ", std);
  // Box-Muller on two independent uniforms per element (the second output is
  // dropped so element i stays a function of i alone).
  dispatch_float(t.dtype(), "normal_", [&](auto tag) {
    using T = decltype(tag);
    fill_random<T>(t, "normal_", 4, [=](const GeneratorState& s, int64_t i) {
      const auto w = philox4x32(s.offset + static_cast<uint64_t>(i), s.seed);
      const double u1 = 1.0 - uniform_double(w[0], w[1]);  // (0, 1]: log stays finite
      const double u2 = uniform_double(w[2], w[3]);
      return static_cast<T>(mean + std * std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2));
    });
  });
}

void randint_(Tensor& t, int64_t low, int64_t high) {
  if (high <= low) fail<ValueError>("[randint] expects low < high, got low=", low, " high=", high);
  const uint64_t range = static_cast<uint64_t>(high - low);
  dispatch_numeric(t.dtype(), "randint", [&](auto tag) {
    using T = decltype(tag);
    fill_random<T>(t, "randint", 2, [=](const GeneratorState& s, int64_t i) {
      const uint64_t w = (static_cast<uint64_t>(random_word(s, 2 * i)) << 32) | random_word(s, 2 * i + 1);
      return static_cast<T>(low + static_cast<int64_t>(w % range));
    });
  });
}

void bernoulli_(Tensor& t, double p) {
  if (!(p >= 0 && p <= 1)) fail<ValueError>("[bernoulli_] expects 0 <= p <= 1, got ", p);
  dispatch_all(t.dtype(), "bernoulli_", [&](auto tag) {
    using T = decltype(tag);
    fill_random<T>(t, "bernoulli_", 1, [=](const GeneratorState& s, int64_t i) {
      return static_cast<T>(uniform_float(random_word(s, i)) < p);
    });
  });
}

}  // namespace glassnet
