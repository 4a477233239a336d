"""Function: an op with a forward and a backward, and the graph node it leaves.

Every differentiable op in glassnet, built in or user defined, is a subclass:

    class Exp(Function):
        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, grad):
            (y,) = ctx.saved_tensors
            return grad * y

``Exp.apply(x)`` runs forward with grad recording off and, when an input
requires grad, keeps the ctx as the output's ``grad_fn``: the ctx *is* the
node. Its edges (``next_functions``) point at the inputs' nodes, or at the
leaf tensors themselves, where the engine accumulates ``.grad``.
"""
from .grad_mode import state


class Function:
    # Defaults live on the class so that creating a ctx costs no __init__;
    # instances that become graph nodes override them.
    next_functions = ()
    needs_input_grad = ()
    _num_outputs = 1
    _input_meta = ()  # (shape, dtype) per input, for reducing broadcast gradients
    _saved = ()
    _released = False
    _non_differentiable = ()
    _hooks = None  # output_nr -> hooks on that output (non-leaf tensor hooks)

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("Function subclasses must implement forward(ctx, ...)")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("Function subclasses must implement backward(ctx, ...)")

    # ---- ctx API ------------------------------------------------------------
    def save_for_backward(self, *tensors):
        self._saved = tensors

    @property
    def saved_tensors(self):
        if self._released:
            raise RuntimeError(
                f"[{self.name()}] trying to backward through the graph a second time (or directly access saved "
                "tensors after they have already been freed); specify retain_graph=True on the first backward"
            )
        return self._saved

    def mark_non_differentiable(self, *tensors):
        self._non_differentiable = tuple(id(t) for t in tensors)

    def name(self):
        return type(self).__name__ + "Backward"

    def __repr__(self):
        return f"<{self.name()}>"

    def _release(self):
        self._saved = ()
        self._released = True

    # ---- building the graph ---------------------------------------------------
    @classmethod
    def apply(cls, *args, **kwargs):
        ctx = cls()
        record = False
        if state.grad_enabled:
            for a in args:
                if isinstance(a, Tensor) and (a._requires_grad or a.grad_fn is not None):
                    record = True
                    break
            state.grad_enabled = False
            try:
                outputs = cls.forward(ctx, *args, **kwargs)
            finally:
                state.grad_enabled = True
        else:
            outputs = cls.forward(ctx, *args, **kwargs)
        if not record:
            return outputs
        ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
        ctx.next_functions = tuple(
            (a.grad_fn if a.grad_fn is not None else a) if isinstance(a, Tensor) and a.requires_grad else None
            for a in args
        )
        ctx._edge_output_nrs = tuple(a._output_nr if isinstance(a, Tensor) else 0 for a in args)
        ctx._input_meta = tuple((a.shape, a.dtype) if isinstance(a, Tensor) else None for a in args)
        # An output that is one of the inputs becomes a new tensor sharing its
        # memory, so the input keeps its own place in the graph.
        if isinstance(outputs, tuple):
            outputs = tuple(Tensor._wrap(o._impl) if any(o is a for a in args) else o for o in outputs)
            ctx._num_outputs = len(outputs)
            ctx._output_meta = tuple((o.shape, o.dtype) if isinstance(o, Tensor) else ((), None) for o in outputs)
            for i, out in enumerate(outputs):
                if isinstance(out, Tensor) and out.dtype.is_floating_point and id(out) not in ctx._non_differentiable:
                    out._set_grad_fn(ctx, i)
        elif isinstance(outputs, Tensor):
            if any(outputs is a for a in args):
                outputs = Tensor._wrap(outputs._impl)
            outputs._set_grad_fn(ctx, 0)
        return outputs


# Set by glassnet._tensor once Tensor is defined (the two modules need each
# other); apply() then runs without an import per call.
Tensor = None


# The torch spelling of a node's base class, for isinstance checks.
BackwardCFunction = Function
