#include "bindings.h"

namespace glassnet::bindings {

void init_activation(py::module_& m) {}

}  // namespace glassnet::bindings
