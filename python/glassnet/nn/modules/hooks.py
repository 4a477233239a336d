"""Hook handles and the machinery behind Module.register_full_backward_hook."""
import itertools

from ..._tensor import Tensor
from ...autograd.function import Function

__all__ = ["RemovableHandle"]


class RemovableHandle:
    """Returned by every register_*_hook; ``remove()`` takes the hook out again.
    Also a context manager that removes the hook on exit."""

    _next_id = itertools.count()

    def __init__(self, *hook_dicts):
        self.id = next(RemovableHandle._next_id)
        self._dicts = hook_dicts

    def remove(self):
        for d in self._dicts:
            d.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()
        return False


class _HookIdentity(Function):
    """Passes tensors through unchanged; on the way back hands their gradients
    to `callback`, which returns the gradients to propagate."""

    @staticmethod
    def forward(ctx, callback, *tensors):
        ctx.callback = callback
        return tensors

    @staticmethod
    def backward(ctx, *grads):
        return (None,) + tuple(ctx.callback(grads))


class BackwardHook:
    """The state of one forward call of a module with full backward hooks.

    Outputs pass through a _HookIdentity whose backward records grad_output
    (running backward pre-hooks); inputs pass through another whose backward
    runs the hooks with (grad_input, grad_output). Autograd reaches the input
    identity only after the output one, which gives the required order.
    As in torch, grad_input has one entry per positional argument and
    grad_output one per output, None where that is not a tensor needing grad."""

    def __init__(self, module):
        self.module = module
        self.grad_outputs = ()
        self.n_args = 0
        self.input_positions = ()  # positions of the args that require grad
        self.n_outputs = 0
        self.output_positions = ()

    def wrap_inputs(self, args):
        self.n_args = len(args)
        self.input_positions = [i for i, a in enumerate(args) if isinstance(a, Tensor) and a.requires_grad]
        if not self.input_positions:
            return args
        outs = _HookIdentity.apply(self._on_input_grads, *(args[i] for i in self.input_positions))
        args = list(args)
        for i, out in zip(self.input_positions, outs):
            args[i] = out
        return tuple(args)

    def wrap_outputs(self, output):
        single = isinstance(output, Tensor)
        if single:
            items = [output]
        elif isinstance(output, (tuple, list)):
            items = list(output)
        else:
            return output
        self.n_outputs = len(items)
        self.output_positions = [i for i, o in enumerate(items) if isinstance(o, Tensor) and o.requires_grad]
        if not self.output_positions:
            return output
        outs = _HookIdentity.apply(self._on_output_grads, *(items[i] for i in self.output_positions))
        for i, out in zip(self.output_positions, outs):
            items[i] = out
        if single:
            return items[0]
        if isinstance(output, list):
            return items
        return type(output)(*items) if hasattr(output, "_fields") else tuple(items)

    def _on_output_grads(self, grads):
        module = self.module
        full = [None] * self.n_outputs
        for pos, g in zip(self.output_positions, grads):
            full[pos] = g
        grad_output = tuple(full)
        for hook in list(module._backward_pre_hooks.values()):
            result = hook(module, grad_output)
            if result is not None:
                result = result if isinstance(result, tuple) else (result,)
                if len(result) != len(grad_output):
                    raise RuntimeError(f"backward pre-hook returned {len(result)} gradients, expected "
                                       f"{len(grad_output)}")
                grad_output = result
        self.grad_outputs = grad_output
        if not self.input_positions:
            # No input needs a gradient, so the input identity never runs:
            # the hooks fire here with grad_input all None, as torch does.
            self._run_hooks((None,) * self.n_args)
        return tuple(grad_output[pos] for pos in self.output_positions)

    def _on_input_grads(self, grads):
        full = [None] * self.n_args
        for pos, g in zip(self.input_positions, grads):
            full[pos] = g
        result = self._run_hooks(tuple(full))
        return tuple(result[pos] for pos in self.input_positions)

    def _run_hooks(self, grad_input):
        module = self.module
        for hook in list(module._backward_hooks.values()):
            result = hook(module, grad_input, self.grad_outputs)
            if result is not None:
                result = result if isinstance(result, tuple) else (result,)
                if len(result) != len(grad_input):
                    raise RuntimeError(f"backward hook returned {len(result)} gradients, expected {len(grad_input)} "
                                       "(one per positional argument)")
                grad_input = result
        return grad_input
