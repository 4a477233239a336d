#include "bindings.h"

namespace glassnet::bindings {

void init_loss(py::module_& m) {}

}  // namespace glassnet::bindings
