#include "bindings.h"
#include "ops/shape.h"
#include "random.h"

namespace glassnet::bindings {

void init_shape(py::module_& m) {
  const auto nogil = py::call_guard<py::gil_scoped_release>();
  m.def("view", &view);
  m.def("reshape", &reshape, nogil);
  m.def("permute", &permute);
  m.def("transpose", &transpose);
  m.def("expand", &expand);
  m.def("squeeze", &squeeze, py::arg("x"), py::arg("dims") = py::none());
  m.def("unsqueeze", &unsqueeze);
  m.def("slice", &slice, py::arg("x"), py::arg("dim"), py::arg("start"), py::arg("stop"), py::arg("step") = 1);
  m.def("select", &select);
  m.def("narrow", &narrow);
  m.def("flatten", &flatten);
  m.def("sum_to_shape", &sum_to_shape, nogil);

  // Random numbers (src/random.h): the global Philox generator.
  m.def("manual_seed", &manual_seed);
  m.def("get_rng_state", [] {
    auto s = get_rng_state();
    return py::make_tuple(s.seed, s.offset);
  });
  m.def("set_rng_state", [](uint64_t seed, uint64_t offset) { set_rng_state(GeneratorState{seed, offset}); });
  m.def("uniform_", [](Tensor& t, double lo, double hi) { uniform_(t, lo, hi); }, nogil);
  m.def("normal_", [](Tensor& t, double mean, double std) { normal_(t, mean, std); }, nogil);
  m.def("randint_", [](Tensor& t, int64_t lo, int64_t hi) { randint_(t, lo, hi); }, nogil);
  m.def("bernoulli_", [](Tensor& t, double p) { bernoulli_(t, p); }, nogil);
}

}  // namespace glassnet::bindings
