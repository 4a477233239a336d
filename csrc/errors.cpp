// glassnet's typed C++ errors -> Python exceptions. ValueError, TypeError and
// IndexError derive from std::invalid_argument / std::out_of_range, which
// pybind11 maps already; TypeError needs its own translator.
#include "bindings.h"
#include "errors.h"

namespace glassnet::bindings {

void init_errors(py::module_& m) {
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const glassnet::TypeError& e) {
      PyErr_SetString(PyExc_TypeError, e.what());
    } catch (const glassnet::ValueError& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    } catch (const glassnet::IndexError& e) {
      PyErr_SetString(PyExc_IndexError, e.what());
    } catch (const glassnet::RuntimeError& e) {
      PyErr_SetString(PyExc_RuntimeError, e.what());
    }
  });
}

}  // namespace glassnet::bindings
