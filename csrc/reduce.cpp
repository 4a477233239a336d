#include "bindings.h"

namespace glassnet::bindings {

void init_reduce(py::module_& m) {}

}  // namespace glassnet::bindings
