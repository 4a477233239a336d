// Device queries and synchronisation. A machine without a driver or a GPU is
// an ordinary case, not an error: device_count() is then 0, and only the
// calls that would need a GPU raise, with the reason the runtime gave.
#include <string>

#include "common.cuh"
#include "cuda_api.h"

namespace glassnet::cuda {

namespace {

struct DeviceInfo {
  int count = 0;
  std::string reason;  // why count is 0, when the runtime said so
};

// Asked once: the answer cannot change while the process runs, and CUDA
// initialisation is slow.
const DeviceInfo& device_info() {
  static const DeviceInfo info = [] {
    DeviceInfo d;
    const cudaError_t err = cudaGetDeviceCount(&d.count);
    if (err != cudaSuccess) {
      // No driver, no device, or a driver older than the runtime: clear the
      // error so that later CUDA calls do not trip over it.
      cudaGetLastError();
      d.count = 0;
      d.reason = std::string(cudaGetErrorName(err)) + ": " + cudaGetErrorString(err);
    } else if (d.count == 0) {
      d.reason = "the driver reports no CUDA devices";
    }
    return d;
  }();
  return info;
}

}  // namespace

bool compiled() { return true; }

int device_count() { return device_info().count; }

bool is_available() { return device_count() > 0; }

void require_device(int device, const char* op) {
  const DeviceInfo& info = device_info();
  if (info.count == 0)
    fail<RuntimeError>("[", op, "] CUDA is not available (no GPU or driver found: ", info.reason, ")");
  if (device < 0 || device >= info.count)
    fail<RuntimeError>("[", op, "] cuda:", device, " does not exist: ", info.count, " CUDA device(s) found");
}

void synchronize(int device) {
  // Nothing can be pending where there is no GPU.
  if (!is_available()) return;
  require_device(device, "synchronize");
  DeviceGuard guard(device);
  check(cudaDeviceSynchronize(), "cudaDeviceSynchronize");
}

}  // namespace glassnet::cuda
