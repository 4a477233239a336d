"""Parameter: a Tensor that a Module registers as one of its trainable weights.

Assigning a Parameter to a Module attribute registers it (module.parameters()
then yields it). Apart from that it is an ordinary Tensor: it shares the
memory of the tensor it was made from and requires grad by default.
"""
from .._tensor import Tensor


class Parameter(Tensor):
    """``nn.Parameter(data=None, requires_grad=True)``, as torch's."""

    def __new__(cls, data=None, requires_grad=True):
        if data is None:
            from .._creation import empty

            data = empty(0)
        if not isinstance(data, Tensor):
            raise TypeError(f"[Parameter] data must be a Tensor, got {type(data).__name__}")
        p = object.__new__(cls)
        Tensor._init_slots(p, data._impl)
        if requires_grad:
            p.requires_grad_(True)
        return p

    def __init__(self, data=None, requires_grad=True):
        pass  # everything happens in __new__; Tensor.__init__ must not run again

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        result = Parameter(Tensor._wrap(self._impl.clone()), self.requires_grad)
        if self.grad is not None:
            result.grad = Tensor._wrap(self.grad._impl.clone())
        memo[id(self)] = result
        return result

    def __reduce_ex__(self, protocol):
        raise TypeError("glassnet parameters are not pickled; save a state_dict with gn.save (safetensors)")
