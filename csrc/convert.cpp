// numpy <-> Tensor without copies: a tensor made from an array keeps the
// array alive through its Storage; an array made from a tensor keeps the
// tensor's Storage alive through a capsule.
#include "bindings.h"
#include "errors.h"

namespace glassnet::bindings {

DType dtype_from_numpy(const py::dtype& dt) {
  const char kind = dt.kind();
  const auto size = dt.itemsize();
  if (kind == 'f' && size == 4) return DType::Float32;
  if (kind == 'f' && size == 8) return DType::Float64;
  if (kind == 'b') return DType::Bool;
  if ((kind == 'i' || kind == 'u') && size <= 8 && !(kind == 'u' && size == 8)) return DType::Int64;
  fail<TypeError>("[from_numpy] unsupported numpy dtype ", std::string(py::str(dt)),
                  "; glassnet supports float32, float64, int64 and bool");
}

py::dtype numpy_dtype(DType d) {
  switch (d) {
    case DType::Float32: return py::dtype::of<float>();
    case DType::Float64: return py::dtype::of<double>();
    case DType::Int64: return py::dtype::of<int64_t>();
    case DType::Bool: return py::dtype::of<bool>();
  }
  return py::dtype::of<float>();
}

Tensor tensor_from_numpy(py::array array) {
  DType dtype = dtype_from_numpy(array.dtype());
  const auto itemsize = static_cast<int64_t>(array.itemsize());
  // Narrower integer types, byte-swapped or misaligned arrays are converted
  // once into a native array of the target type; everything else is shared.
  const bool native = array.dtype().byteorder() != '>' ;
  if (static_cast<size_t>(itemsize) != dtype_size(dtype) || !native ||
      reinterpret_cast<uintptr_t>(array.data()) % dtype_size(dtype) != 0) {
    array = py::array(array.attr("astype")(numpy_dtype(dtype)));
  }
  const auto item = static_cast<int64_t>(array.itemsize());
  Shape shape(array.ndim()), strides(array.ndim());
  for (py::ssize_t i = 0; i < array.ndim(); ++i) {
    shape[i] = array.shape(i);
    if (array.strides(i) % item != 0)
      fail<ValueError>("[from_numpy] array strides must be multiples of the element size");
    strides[i] = array.strides(i) / item;
  }
  // Negative strides would need an offset below the base pointer; make those
  // arrays contiguous first, as torch asks the user to.
  for (auto s : strides)
    if (s < 0) {
      array = py::array(py::module_::import("numpy").attr("ascontiguousarray")(array));
      for (py::ssize_t i = 0; i < array.ndim(); ++i) strides[i] = array.strides(i) / item;
      break;
    }
  // Extent in bytes of the region the view touches.
  int64_t extent = 1;
  for (size_t i = 0; i < shape.size(); ++i)
    if (shape[i] == 0) extent = 0;
  if (extent)
    for (size_t i = 0; i < shape.size(); ++i) extent += (shape[i] - 1) * strides[i];
  auto* holder = new py::object(array);
  auto storage = Storage::wrap(const_cast<void*>(array.data()), static_cast<size_t>(extent) * dtype_size(dtype),
                               cpu_device(), [holder] {
                                 py::gil_scoped_acquire gil;
                                 delete holder;
                               });
  return Tensor(std::move(storage), shape, strides, 0, dtype);
}

py::array tensor_to_numpy(const Tensor& t) {
  if (!t.device().is_cpu())
    fail<TypeError>("[numpy] can't convert a ", t.device().str(), " tensor to numpy; call .cpu() first");
  std::vector<py::ssize_t> shape(t.shape().begin(), t.shape().end());
  std::vector<py::ssize_t> strides(t.dim());
  for (int64_t i = 0; i < t.dim(); ++i) strides[i] = t.strides()[i] * static_cast<py::ssize_t>(t.itemsize());
  auto* keep = new std::shared_ptr<Storage>(t.storage());
  py::capsule owner(keep, [](void* p) { delete static_cast<std::shared_ptr<Storage>*>(p); });
  return py::array(numpy_dtype(t.dtype()), shape, strides, t.raw_data(), owner);
}

}  // namespace glassnet::bindings
