"""Reverse-mode automatic differentiation: backward, grad, Function, gradcheck."""
from .engine import run_backward
from .function import BackwardCFunction, Function
from .grad_mode import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from .gradcheck import gradcheck, gradgradcheck

__all__ = [
    "Function", "BackwardCFunction", "backward", "grad", "gradcheck", "gradgradcheck",
    "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled", "inference_mode",
]


def _make_grads(outputs, grad_outputs, op):
    from .._tensor import Tensor

    grads = []
    for out, g in zip(outputs, grad_outputs):
        if g is None:
            if out.numel() != 1:
                raise RuntimeError(
                    f"[{op}] grad can be implicitly created only for scalar outputs; "
                    f"got an output of shape {tuple(out.shape)}: pass gradient="
                )
            g = Tensor._full(out.shape, 1.0, out.dtype)
        elif not isinstance(g, Tensor):
            g = Tensor._full(out.shape, float(g), out.dtype)
        elif g.shape != out.shape:
            raise ValueError(f"[{op}] gradient of shape {tuple(g.shape)} does not match output shape {tuple(out.shape)}")
        grads.append(g)
    return grads


def _as_tuple(x):
    if x is None:
        return None
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulates the gradients of `tensors` into the `.grad` of the leaves."""
    tensors = _as_tuple(tensors)
    grad_tensors = _as_tuple(grad_tensors) or (None,) * len(tensors)
    if retain_graph is None:
        retain_graph = create_graph
    grads = _make_grads(tensors, grad_tensors, "backward")
    run_backward(tensors, grads, retain_graph, create_graph)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, allow_unused=None,
         materialize_grads=False):
    """The gradients of `outputs` with respect to `inputs`, without touching `.grad`."""
    from .._tensor import Tensor

    single = isinstance(inputs, Tensor)
    outputs, inputs = _as_tuple(outputs), _as_tuple(inputs)
    grad_outputs = _as_tuple(grad_outputs) or (None,) * len(outputs)
    if retain_graph is None:
        retain_graph = create_graph
    for t in inputs:
        if not t.requires_grad:
            raise RuntimeError("[grad] one of the differentiated Tensors does not require grad")
    grads = _make_grads(outputs, grad_outputs, "grad")
    results = run_backward(outputs, grads, retain_graph, create_graph, inputs=inputs, accumulate=False)
    for i, (t, r) in enumerate(zip(inputs, results)):
        if r is None:
            if materialize_grads:
                results[i] = Tensor._zeros(t.shape, t.dtype)
            elif not allow_unused:
                raise RuntimeError(
                    f"[grad] input {i} (shape {tuple(t.shape)}) was not used in the graph; "
                    "set allow_unused=True if this is intended"
                )
    return tuple(results) if not single else (results[0],)
