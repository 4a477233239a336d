// glassnet._C: the extension module. Bindings only; each area lives in its
// own file, and every kernel call releases the GIL there.
#include "bindings.h"

PYBIND11_MODULE(_C, m) {
  using namespace glassnet::bindings;
  m.doc() = "glassnet's C++ core";
  init_errors(m);
  init_tensor(m);
  init_elementwise(m);
  init_creation(m);
  init_shape(m);
  init_reduce(m);
  init_index(m);
  init_linalg(m);
  init_activation(m);
  init_loss(m);
  init_nn(m);
  init_attention(m);
  init_conv(m);
  init_rnn(m);
  init_optim(m);
  init_cuda(m);
  init_bench(m);
}
