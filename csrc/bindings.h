// One init function per binding file; module.cpp calls them all.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "tensor.h"

namespace glassnet::bindings {
namespace py = pybind11;

void init_errors(py::module_& m);
void init_tensor(py::module_& m);
void init_elementwise(py::module_& m);
void init_creation(py::module_& m);
void init_shape(py::module_& m);
void init_reduce(py::module_& m);
void init_index(py::module_& m);
void init_linalg(py::module_& m);
void init_activation(py::module_& m);
void init_loss(py::module_& m);
void init_nn(py::module_& m);
void init_attention(py::module_& m);
void init_conv(py::module_& m);
void init_rnn(py::module_& m);
void init_optim(py::module_& m);
void init_cuda(py::module_& m);
void init_bench(py::module_& m);

// numpy dtype <-> glassnet dtype; TypeError for anything else.
DType dtype_from_numpy(const py::dtype& dt);
py::dtype numpy_dtype(DType d);
// A CPU tensor viewing the numpy array's memory (kept alive by the tensor).
Tensor tensor_from_numpy(py::array array);
// A numpy array viewing the CPU tensor's memory (keeping the storage alive).
py::array tensor_to_numpy(const Tensor& t);

}  // namespace glassnet::bindings
