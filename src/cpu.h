// What the CPU we run on can do, asked once. Kernels compiled with ISA flags
// (files named *_avx2.cpp) are only called when these say so.
#pragma once

namespace glassnet {

bool cpu_has_avx2_fma();

}  // namespace glassnet
