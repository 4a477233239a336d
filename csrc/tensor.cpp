// The C++ Tensor as seen from Python: metadata, numpy interop, copies and
// dtype/device moves. The user-facing gn.Tensor (python/glassnet/_tensor.py)
// wraps one of these and adds autograd.
#include "bindings.h"
#include "cuda_api.h"
#include "dispatch.h"
#include "errors.h"
#include "host_cache.h"
#include "ops/copy.h"
#include "ops/fill.h"
#include "parallel.h"

namespace glassnet::bindings {

namespace {

py::object item(const Tensor& t) {
  if (t.numel() != 1)
    fail<ValueError>("[item] a Tensor with ", t.numel(), " elements cannot be converted to a Python scalar");
  Tensor host = to_device(t, cpu_device());
  return dispatch_all(host.dtype(), "item", [&](auto tag) -> py::object {
    using T = decltype(tag);
    return py::cast(*host.data<T>());
  });
}

Device parse_device(const std::string& s) {
  if (s == "cpu") return cpu_device();
  if (s.rfind("cuda", 0) == 0) {
    Device d{DeviceType::CUDA, 0};
    if (s.size() > 4) {
      if (s[4] != ':' || s.size() == 5) fail<ValueError>("[device] invalid device string '", s, "'");
      try {
        size_t used = 0;
        d.index = std::stoi(s.substr(5), &used);
        if (used != s.size() - 5 || d.index < 0) throw std::invalid_argument(s);
      } catch (const std::exception&) {
        fail<ValueError>("[device] invalid device string '", s, "'");
      }
    }
    return d;
  }
  fail<ValueError>("[device] expected 'cpu', 'cuda' or 'cuda:N', got '", s, "'");
}

}  // namespace

void init_tensor(py::module_& m) {
  py::enum_<DType>(m, "DType")
      .value("bool", DType::Bool)
      .value("int64", DType::Int64)
      .value("float32", DType::Float32)
      .value("float64", DType::Float64);

  py::class_<Device>(m, "Device")
      .def(py::init(&parse_device))
      .def_property_readonly("type", [](const Device& d) { return d.is_cpu() ? "cpu" : "cuda"; })
      .def_property_readonly("index", [](const Device& d) -> py::object {
        return d.is_cpu() ? py::none() : py::cast(d.index);
      })
      .def("__str__", &Device::str)
      .def("__eq__", [](const Device& a, const Device& b) { return a == b; })
      .def("__hash__", [](const Device& d) { return static_cast<int>(d.type) * 1024 + d.index; });

  py::class_<Tensor>(m, "Tensor")
      .def_property_readonly("shape", [](const Tensor& t) { return py::tuple(py::cast(t.shape())); })
      .def_property_readonly("strides", [](const Tensor& t) { return py::tuple(py::cast(t.strides())); })
      .def_property_readonly("offset", &Tensor::offset)
      .def_property_readonly("dtype", &Tensor::dtype)
      // The dtype as a small int (DType's value): Python maps it to a gn.dtype
      // by list index, far cheaper than hashing the enum on every t.dtype.
      .def_property_readonly("dtype_code", [](const Tensor& t) { return static_cast<int>(t.dtype()); })
      .def_property_readonly("device", &Tensor::device)
      .def_property_readonly("ndim", &Tensor::dim)
      .def("numel", &Tensor::numel)
      .def("is_contiguous", &Tensor::is_contiguous)
      .def("data_ptr", [](const Tensor& t) { return reinterpret_cast<uintptr_t>(t.raw_data()); })
      .def("storage_id", [](const Tensor& t) { return reinterpret_cast<uintptr_t>(t.storage().get()); })
      .def("item", &item)
      .def("numpy", &tensor_to_numpy)
      .def("contiguous", &Tensor::contiguous, py::call_guard<py::gil_scoped_release>())
      .def("clone", &clone, py::call_guard<py::gil_scoped_release>())
      .def("as_strided", [](const Tensor& t, Shape shape, Shape strides, int64_t offset) {
        if (shape.size() != strides.size())
          fail<ValueError>("[as_strided] shape ", shape_str(shape), " and strides ", shape_str(strides),
                           " differ in length");
        int64_t hi = offset, lo = offset;
        for (size_t i = 0; i < shape.size(); ++i) {
          if (shape[i] < 0) fail<ValueError>("[as_strided] negative size in ", shape_str(shape));
          if (shape[i] == 0) { hi = lo = offset; break; }
          if (strides[i] >= 0) hi += (shape[i] - 1) * strides[i];
          else lo += (shape[i] - 1) * strides[i];
        }
        const int64_t capacity = static_cast<int64_t>(t.storage()->nbytes() / t.itemsize());
        if (lo < 0 || (shape_numel(shape) > 0 && hi >= capacity))
          fail<IndexError>("[as_strided] view of shape ", shape_str(shape), " strides ", shape_str(strides),
                           " offset ", offset, " is out of bounds for storage of ", capacity, " elements");
        return t.as_strided(std::move(shape), std::move(strides), offset);
      })
      .def("copy_", [](Tensor& dst, const Tensor& src) { copy_(dst, src); },
           py::call_guard<py::gil_scoped_release>())
      .def("fill_", [](Tensor& t, double v) { fill_(t, v); }, py::call_guard<py::gil_scoped_release>())
      .def("to_dtype", &to_dtype, py::arg("dtype"), py::arg("copy") = false,
           py::call_guard<py::gil_scoped_release>())
      .def("to_device", &to_device, py::call_guard<py::gil_scoped_release>());

  m.def("from_numpy", &tensor_from_numpy);
  m.def("empty", [](Shape shape, DType dtype, const Device& device) { return Tensor::empty(shape, dtype, device); });
  m.def("full", [](Shape shape, double value, DType dtype, const Device& device) {
    return Tensor::full(shape, value, dtype, device);
  }, py::call_guard<py::gil_scoped_release>());
  m.def("set_num_threads", [](int n) {
    if (n < 1) fail<ValueError>("[set_num_threads] expected a positive thread count, got ", n);
    set_num_threads(n);
  });
  m.def("get_num_threads", &get_num_threads);
  m.def("host_cache_bytes", &host_cache::cached_bytes);
  m.def("host_cache_clear", &host_cache::clear);
}

void init_cuda(py::module_& m) {
  auto c = m.def_submodule("cuda", "CUDA queries");
  c.def("compiled", &cuda::compiled);
  c.def("is_available", &cuda::is_available);
  c.def("device_count", &cuda::device_count);
  c.def("empty_cache", &cuda::empty_cache);
  c.def("memory_allocated", &cuda::memory_allocated, py::arg("device") = 0);
  c.def("synchronize", &cuda::synchronize, py::arg("device") = 0);
}

}  // namespace glassnet::bindings
