#include "bindings.h"

namespace glassnet::bindings {

void init_conv(py::module_& m) {}

}  // namespace glassnet::bindings
