// What the CPU we run on can do, asked once. Kernels compiled with ISA flags
// (files named *_avx2.cpp) are only called when these say so.
#pragma once

#include <cstdint>

namespace glassnet {

bool cpu_has_avx2_fma();
// AVX-512 F, DQ, BW and VL, the set *_avx512.cpp files are compiled for.
bool cpu_has_avx512();

// fp32 FMA throughput in GFLOP/s with `threads` threads busy at once, timed
// over about `seconds`; 0 when the CPU has no AVX2/FMA.
double measure_fma_peak_gflops(int threads, double seconds);

// The flops of `iterations` rounds of 12 independent 8-wide FMAs
// (fma_peak_avx2.cpp; x86-64 only).
double fma_peak_loop(int64_t iterations);

}  // namespace glassnet
