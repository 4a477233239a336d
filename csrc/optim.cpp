#include "bindings.h"

namespace glassnet::bindings {

void init_optim(py::module_& m) {}

}  // namespace glassnet::bindings
