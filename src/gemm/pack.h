// Packing for the BLIS loops (Goto & van de Geijn, TOMS 2008, section 5):
// copies a block of op(A) or op(B), read through any (row, column) strides,
// into the contiguous micro-panels the micro-kernel streams, zero-padding the
// last panel to a full MR or NR. Transposed operands are just swapped strides.
#pragma once

#include <cstddef>
#include <cstdint>

namespace glassnet::gemm::detail {

// A block mc×kc at a → ceil(mc/MR) panels of kc×MR:
//   ap[(p·kc + k)·MR + i] = a[(p·MR + i)·rsA + k·csA], rows ≥ mc zero.
template <class T, int MR>
void pack_a(int64_t mc, int64_t kc, const T* a, int64_t rsA, int64_t csA, T* ap);

// B block kc×nc at b → ceil(nc/NR) panels of kc×NR:
//   bp[(p·kc + k)·NR + j] = b[k·rsB + (p·NR + j)·csB], columns ≥ nc zero.
template <class T, int NR>
void pack_b(int64_t kc, int64_t nc, const T* b, int64_t rsB, int64_t csB, T* bp);

// A reusable 64-byte aligned scratch buffer, one per thread per role: grows,
// never shrinks, so steady-state training makes no allocations here.
class PackBuffer {
 public:
  PackBuffer() = default;
  ~PackBuffer();
  PackBuffer(const PackBuffer&) = delete;
  PackBuffer& operator=(const PackBuffer&) = delete;
  template <class T>
  T* get(size_t count) {
    return static_cast<T*>(reserve(count * sizeof(T)));
  }

 private:
  void* reserve(size_t bytes);
  void* data_ = nullptr;
  size_t bytes_ = 0;
};

}  // namespace glassnet::gemm::detail
