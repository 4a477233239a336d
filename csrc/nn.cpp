#include "bindings.h"

namespace glassnet::bindings {

void init_nn(py::module_& m) {}

}  // namespace glassnet::bindings
