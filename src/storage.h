// A reference-counted block of memory on one device. Tensors that are views of
// each other share one Storage; the memory is freed with the last of them.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>

#include "device.h"

namespace glassnet {

class Storage {
 public:
  // Fresh memory: 64-byte aligned on the CPU, from the caching allocator on CUDA.
  static std::shared_ptr<Storage> allocate(size_t nbytes, Device device);
  // Memory owned by someone else (a numpy array); `release` runs when the last
  // tensor using it goes away.
  static std::shared_ptr<Storage> wrap(void* data, size_t nbytes, Device device,
                                       std::function<void()> release);

  Storage(void* data, size_t nbytes, Device device, std::function<void()> release)
      : data_(data), nbytes_(nbytes), device_(device), release_(std::move(release)) {}
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return data_; }
  size_t nbytes() const { return nbytes_; }
  Device device() const { return device_; }

 private:
  void* data_;
  size_t nbytes_;
  Device device_;
  std::function<void()> release_;
};

}  // namespace glassnet
