// Random numbers from one counter-based generator, Philox4x32-10 (Salmon et
// al., "Parallel Random Numbers: As Easy as 1, 2, 3", SC 2011). The global
// generator is a (seed, offset) pair: an op that needs n numbers takes the
// counters [offset, offset + n/4) and advances offset, so element i of any
// op depends only on (seed, offset, i) — the same stream on any number of
// threads, and on a GPU.
#pragma once

#include <array>
#include <cstdint>

#include "tensor.h"

namespace glassnet {

struct GeneratorState {
  uint64_t seed = 0;
  uint64_t offset = 0;  // in 128-bit counters
};

void manual_seed(uint64_t seed);
GeneratorState get_rng_state();
void set_rng_state(GeneratorState state);
// Reserves `n` 32-bit numbers and returns the state to generate them from.
GeneratorState reserve_random(int64_t n);

// The four 32-bit outputs of one Philox call.
std::array<uint32_t, 4> philox4x32(uint64_t counter, uint64_t seed);

// A 32-bit random word number i of the stream that starts at `state`.
inline uint32_t random_word(const GeneratorState& s, int64_t i) {
  return philox4x32(s.offset + static_cast<uint64_t>(i) / 4, s.seed)[i % 4];
}
// Uniform in [0, 1): 24 bits for float, 53 bits (two words) for double.
inline float uniform_float(uint32_t w) { return static_cast<float>(w >> 8) * (1.0f / 16777216.0f); }
inline double uniform_double(uint32_t hi, uint32_t lo) {
  return static_cast<double>((static_cast<uint64_t>(hi) << 21) ^ (lo >> 11)) * (1.0 / 9007199254740992.0);
}

// In place: uniform in [low, high), normal(mean, std), integers in [low, high), Bernoulli(p) as 0/1.
void uniform_(Tensor& t, double low, double high);
void normal_(Tensor& t, double mean, double std);
void randint_(Tensor& t, int64_t low, int64_t high);
void bernoulli_(Tensor& t, double p);

}  // namespace glassnet
