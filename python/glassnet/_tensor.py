"""gn.Tensor: a C++ tensor (``_impl``) plus what autograd needs.

The arithmetic lives in C++; this class turns Python operators and methods
into calls of the op functions in ``glassnet._ops``, which record the graph.
"""
import builtins
import numbers

import numpy as np

from . import _C
from . import _dtype as dtypes
from ._device import device as _device_cls, to_device as _to_device
from .autograd import function as _function
from .autograd.grad_mode import state as _grad_state

# Bound once: every result of every op is made by Tensor._wrap.
_new_object = object.__new__


def _scalar_dtype(value, like):
    """torch's rule for a Python number beside a tensor: it never widens the
    tensor's dtype within a category, only lifts the category."""
    if isinstance(value, builtins.bool) or isinstance(value, np.bool_):
        return like
    if isinstance(value, numbers.Integral):
        return like if like is not dtypes.bool else dtypes.int64
    if isinstance(value, numbers.Real):
        return like if like.is_floating_point else dtypes.get_default_dtype()
    raise TypeError(f"unsupported operand type {type(value).__name__}")


class Tensor:
    __slots__ = ("_impl", "_requires_grad", "grad", "grad_fn", "_output_nr", "_hooks", "_post_hooks",
                 "_retains_grad", "__weakref__")

    # The C++ tensor has priority over numpy arrays in mixed expressions.
    __array_priority__ = 1000

    def __new__(cls, *args, **kwargs):
        return object.__new__(cls)

    def __init__(self, data=None, *, dtype=None, device=None, requires_grad=False):
        if isinstance(data, _C.Tensor):
            impl = data
        elif data is None:
            impl = _C.empty([0], (dtypes.to_dtype(dtype) if dtype else dtypes.get_default_dtype())._c, _C.Device("cpu"))
        else:
            # gn.Tensor(data), like torch.Tensor(data), always has the default dtype.
            impl = _impl_from_data(data, dtype if dtype is not None else dtypes.get_default_dtype(), copy=True)
        if device is not None:
            impl = impl.to_device(_to_device(device)._c)
        Tensor._init_slots(self, impl)
        if requires_grad:
            self.requires_grad_(True)

    @staticmethod
    def _init_slots(t, impl):
        t._impl = impl
        t._requires_grad = False
        t.grad = None
        t.grad_fn = None
        t._output_nr = 0
        t._hooks = None
        t._post_hooks = None
        t._retains_grad = False

    @staticmethod
    def _wrap(impl):
        t = _new_object(Tensor)
        t._impl = impl
        t._requires_grad = False
        t.grad = None
        t.grad_fn = None
        t._output_nr = 0
        t._hooks = None
        t._post_hooks = None
        t._retains_grad = False
        return t

    @staticmethod
    def _zeros(shape, dtype, device=None):
        return Tensor._full(shape, 0.0, dtype, device)

    @staticmethod
    def _full(shape, value, dtype, device=None):
        dev = (device or _device_cls("cpu"))._c
        return Tensor._wrap(_C.full(list(shape), value, dtype._c, dev))

    def _set_grad_fn(self, node, output_nr):
        self.grad_fn = node
        self._output_nr = output_nr

    # ---- metadata -------------------------------------------------------------
    @property
    def shape(self):
        return Size(self._impl.shape)

    def size(self, dim=None):
        shape = self._impl.shape
        if dim is None:
            return Size(shape)
        return shape[_wrap_dim(dim, len(shape), "size")]

    def stride(self, dim=None):
        strides = self._impl.strides
        return strides if dim is None else strides[_wrap_dim(dim, len(strides), "stride")]

    @property
    def dtype(self):
        return dtypes.BY_CODE[self._impl.dtype_code]

    @property
    def device(self):
        return _device_cls._from_c(self._impl.device)

    @property
    def is_cuda(self):
        return self._impl.device.type == "cuda"

    @property
    def ndim(self):
        return self._impl.ndim

    def dim(self):
        return self._impl.ndim

    def numel(self):
        return self._impl.numel()

    nelement = numel

    def element_size(self):
        return self.dtype.itemsize

    def is_contiguous(self):
        return self._impl.is_contiguous()

    def is_floating_point(self):
        return self.dtype.is_floating_point

    def data_ptr(self):
        return self._impl.data_ptr()

    def storage_offset(self):
        return self._impl.offset

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._impl.shape[0]

    # ---- autograd state -----------------------------------------------------------
    @property
    def requires_grad(self):
        return self._requires_grad or self.grad_fn is not None

    @requires_grad.setter
    def requires_grad(self, value):
        self.requires_grad_(value)

    def requires_grad_(self, requires_grad=True):
        if self.grad_fn is not None:
            if not requires_grad:
                raise RuntimeError(
                    "[requires_grad_] you can only change requires_grad flags of leaf variables; "
                    "use .detach() to get a tensor that doesn't require grad"
                )
            return self
        if requires_grad and not self.dtype.is_floating_point:
            raise RuntimeError(f"[requires_grad_] only Tensors of floating point dtype can require gradients, got {self.dtype}")
        self._requires_grad = bool(requires_grad)
        return self

    @property
    def is_leaf(self):
        return self.grad_fn is None

    @property
    def data(self):
        return self.detach()

    @data.setter
    def data(self, value):
        self._impl = value._impl

    def detach(self):
        return Tensor._wrap(self._impl)

    def detach_(self):
        self.grad_fn = None
        self._requires_grad = False
        return self

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        from . import autograd

        autograd.backward(self, gradient, retain_graph, create_graph, inputs)

    def register_hook(self, hook):
        """Calls hook(grad) when this tensor's gradient is computed; a returned
        tensor replaces the gradient."""
        if not self.requires_grad:
            raise RuntimeError("[register_hook] cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is not None:
            hooks = self.grad_fn._hooks
            if hooks is None:
                hooks = self.grad_fn._hooks = {}
            lst = hooks.setdefault(self._output_nr, [])
        else:
            if self._hooks is None:
                self._hooks = []
            lst = self._hooks
        lst.append(hook)
        return _RemovableHandle(lst, hook)

    def register_post_accumulate_grad_hook(self, hook):
        if self.grad_fn is not None:
            raise RuntimeError("[register_post_accumulate_grad_hook] only leaf tensors have accumulated gradients")
        if self._post_hooks is None:
            self._post_hooks = []
        self._post_hooks.append(hook)
        return _RemovableHandle(self._post_hooks, hook)

    def retain_grad(self):
        if self.grad_fn is None:
            return
        if self._retains_grad:
            return
        self._retains_grad = True
        import weakref

        ref = weakref.ref(self)

        def keep(grad):
            t = ref()
            if t is not None:
                t.grad = grad.detach() if t.grad is None else t.grad + grad.detach()

        self.register_hook(keep)

    @property
    def retains_grad(self):
        return self._retains_grad

    def _leaf_hooks(self):
        return self._hooks or ()

    def _post_accumulate_hooks(self):
        return self._post_hooks or ()

    # ---- conversion -----------------------------------------------------------
    def numpy(self, *, force=False):
        if self.requires_grad and not force:
            raise RuntimeError("[numpy] can't call numpy() on a Tensor that requires grad; use tensor.detach().numpy()")
        if self.is_cuda and not force:
            raise TypeError(f"[numpy] can't convert a {self.device} tensor to numpy; use tensor.cpu() first")
        impl = self._impl if not self.is_cuda else self._impl.to_device(_C.Device("cpu"))
        return impl.numpy()

    def __array__(self, dtype=None, copy=None):
        a = self.numpy()
        return a.astype(dtype, copy=False) if dtype is not None else a

    def item(self):
        return self._impl.item()

    def tolist(self):
        return self.detach().cpu().numpy().tolist()

    def __float__(self):
        return builtins.float(self.item())

    def __int__(self):
        return builtins.int(self.item())

    def __index__(self):
        if self.dtype is not dtypes.int64 or self.numel() != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return builtins.int(self.item())

    def __bool__(self):
        if self.numel() != 1:
            raise RuntimeError(f"Boolean value of Tensor with {self.numel()} elements is ambiguous")
        return builtins.bool(self.item())

    def __repr__(self):
        values = self.detach().cpu().numpy()
        # torch's style: integer-valued floats as "1., 2.", others with four fixed decimals.
        fractional = values.dtype.kind == "f" and bool(np.any(np.isfinite(values) & (values != np.round(values))))
        with np.printoptions(precision=4, floatmode="fixed" if fractional else "maxprec", threshold=1000,
                             edgeitems=3, linewidth=80, suppress=False):
            body = np.array2string(values, separator=", ", prefix="tensor(")
        extras = []
        if self.dtype is not dtypes.get_default_dtype() and self.dtype is not dtypes.int64 and self.dtype is not dtypes.bool:
            extras.append(f"dtype={self.dtype}")
        if self.numel() == 0 and self.dtype is dtypes.int64:
            extras.append(f"dtype={self.dtype}")
        if self.is_cuda:
            extras.append(f"device='{self.device}'")
        if self.grad_fn is not None:
            extras.append(f"grad_fn=<{self.grad_fn.name()}>")
        elif self._requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + body + "".join(", " + e for e in extras) + ")"

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(len(self)))

    def __hash__(self):
        return id(self)

    def __reduce_ex__(self, protocol):
        raise TypeError("glassnet tensors are not pickled; save them with gn.save (safetensors)")

    def __deepcopy__(self, memo):
        """A copy with its own storage, as torch's: leaves only, grad copied too."""
        if self.grad_fn is not None:
            raise RuntimeError("[deepcopy] only tensors created by the user (graph leaves) can be deep-copied; "
                               "detach() it first")
        if id(self) in memo:
            return memo[id(self)]
        out = Tensor._wrap(self._impl.clone())
        out.requires_grad = self.requires_grad
        memo[id(self)] = out
        if self.grad is not None:
            out.grad = self.grad.__deepcopy__(memo)
        return out

    # ---- dtype and device moves ------------------------------------------------------
    def to(self, *args, **kwargs):
        dtype = kwargs.pop("dtype", None)
        device = kwargs.pop("device", None)
        copy = kwargs.pop("copy", False)
        kwargs.pop("non_blocking", None)
        if kwargs:
            raise TypeError(f"[to] unexpected arguments {sorted(kwargs)}")
        for a in args:
            if isinstance(a, Tensor):
                dtype, device = a.dtype, a.device
            elif isinstance(a, (str, _device_cls)):
                device = a
            else:
                dtype = a
        out = self
        if dtype is not None:
            out = _shape.to_dtype(out, dtypes.to_dtype(dtype), copy)
            copy = False
        if device is not None:
            out = _shape.to_device(out, _to_device(device))
            copy = False
        return out.clone() if copy else out

    def type(self, dtype=None):
        if dtype is None:
            return f"glassnet.{self.dtype.name}"
        return self.to(dtype)

    def float(self):
        return self.to(dtypes.float32)

    def double(self):
        return self.to(dtypes.float64)

    def long(self):
        return self.to(dtypes.int64)

    def int(self):
        return self.to(dtypes.int64)

    def bool(self):
        return self.to(dtypes.bool)

    def cpu(self):
        return self.to("cpu")

    def cuda(self, device=None):
        return self.to("cuda" if device is None else f"cuda:{device}" if isinstance(device, builtins.int) else device)

    def clone(self, memory_format=None):
        return _shape.clone(self)

    def contiguous(self, memory_format=None):
        return self if self._impl.is_contiguous() else _shape.clone(self)

    # ---- in-place (on tensors that don't need grad tracking) -----------------------
    def _check_inplace(self, op):
        if _grad_state.grad_enabled and self.requires_grad:
            if self.grad_fn is None:
                raise RuntimeError(
                    f"[{op}] a leaf Variable that requires grad is being used in an in-place operation; "
                    "wrap it in gn.no_grad() or use an out-of-place op"
                )
            raise RuntimeError(f"[{op}] in-place operations on tensors that are part of a graph are not supported; "
                               "use the out-of-place op")

    def _binary_inplace(self, op, other, name):
        self._check_inplace(name)
        _C.binary_(op, self._impl, _operand_impl(other, self))
        return self

    def add_(self, other, alpha=1):
        if alpha != 1:
            other = other * alpha
        return self._binary_inplace(_C.BinaryOp.add, other, "add_")

    def sub_(self, other, alpha=1):
        if alpha != 1:
            other = other * alpha
        return self._binary_inplace(_C.BinaryOp.sub, other, "sub_")

    def mul_(self, other):
        return self._binary_inplace(_C.BinaryOp.mul, other, "mul_")

    def div_(self, other):
        return self._binary_inplace(_C.BinaryOp.div, other, "div_")

    def pow_(self, other):
        return self._binary_inplace(_C.BinaryOp.pow, other, "pow_")

    def zero_(self):
        return self.fill_(0)

    def fill_(self, value):
        self._check_inplace("fill_")
        if isinstance(value, Tensor):
            value = value.item()
        self._impl.fill_(builtins.float(value) if not isinstance(value, builtins.bool) else builtins.float(value))
        return self

    def copy_(self, src, non_blocking=False):
        self._check_inplace("copy_")
        if not isinstance(src, Tensor):
            src = tensor_like(src, self)
        self._impl.copy_(src._impl)
        return self

    def clamp_(self, min=None, max=None):
        self._check_inplace("clamp_")
        self._impl.copy_(self.clamp(min, max)._impl)
        return self

    def uniform_(self, a=0.0, b=1.0, generator=None):
        self._check_inplace("uniform_")
        _fill_random(self, lambda impl: _C.uniform_(impl, builtins.float(a), builtins.float(b)))
        return self

    def normal_(self, mean=0.0, std=1.0, generator=None):
        self._check_inplace("normal_")
        _fill_random(self, lambda impl: _C.normal_(impl, builtins.float(mean), builtins.float(std)))
        return self

    def bernoulli_(self, p=0.5, generator=None):
        self._check_inplace("bernoulli_")
        _fill_random(self, lambda impl: _C.bernoulli_(impl, builtins.float(p)))
        return self

    def random_(self, low=0, high=None, generator=None):
        if high is None:
            low, high = 0, low
        _fill_random(self, lambda impl: _C.randint_(impl, builtins.int(low), builtins.int(high)))
        return self

    def masked_fill_(self, mask, value):
        self._check_inplace("masked_fill_")
        self._impl.copy_(self.masked_fill(mask, value)._impl)
        return self

    def __iadd__(self, other):
        return self.add_(other) if not self.requires_grad else self + other

    def __isub__(self, other):
        return self.sub_(other) if not self.requires_grad else self - other

    def __imul__(self, other):
        return self.mul_(other) if not self.requires_grad else self * other

    def __itruediv__(self, other):
        return self.div_(other) if not self.requires_grad else self / other

    # ---- arithmetic -----------------------------------------------------------------
    def __add__(self, other):
        return _ew.add(self, other)

    def __radd__(self, other):
        return _ew.add(other, self)

    def __sub__(self, other):
        return _ew.sub(self, other)

    def __rsub__(self, other):
        return _ew.sub(other, self)

    def __mul__(self, other):
        return _ew.mul(self, other)

    def __rmul__(self, other):
        return _ew.mul(other, self)

    def __truediv__(self, other):
        return _ew.div(self, other)

    def __rtruediv__(self, other):
        return _ew.div(other, self)

    def __floordiv__(self, other):
        return _ew.floor_divide(self, other)

    def __rfloordiv__(self, other):
        return _ew.floor_divide(other, self)

    def __mod__(self, other):
        return _ew.remainder(self, other)

    def __pow__(self, other):
        return _ew.pow(self, other)

    def __rpow__(self, other):
        return _ew.pow(other, self)

    def __matmul__(self, other):
        # Nothing to record (the common inference and benchmark case): call the
        # kernel straight away; a small product costs about as much as the
        # Python around it. Everything else goes through _linalg.matmul.
        if type(other) is Tensor and not (_grad_state.grad_enabled and (
                self._requires_grad or other._requires_grad
                or self.grad_fn is not None or other.grad_fn is not None)):
            return Tensor._wrap(_C.matmul(self._impl, other._impl))
        return _linalg.matmul(self, other)

    def __rmatmul__(self, other):
        return _linalg.matmul(other, self)

    def __neg__(self):
        return _ew.neg(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return _ew.abs(self)

    def __invert__(self):
        if self.dtype is not dtypes.bool:
            raise TypeError(f"[bitwise_not] only bool tensors are supported, got {self.dtype}")
        return _ew.logical_not(self)

    def __and__(self, other):
        return _ew.logical_and(self, other)

    def __or__(self, other):
        return _ew.logical_or(self, other)

    def __xor__(self, other):
        return _ew.logical_xor(self, other)

    __rand__ = __and__
    __ror__ = __or__
    __rxor__ = __xor__

    def __eq__(self, other):
        return _ew.eq(self, other)

    def __ne__(self, other):
        return _ew.ne(self, other)

    def __lt__(self, other):
        return _ew.lt(self, other)

    def __le__(self, other):
        return _ew.le(self, other)

    def __gt__(self, other):
        return _ew.gt(self, other)

    def __ge__(self, other):
        return _ew.ge(self, other)

    def __getitem__(self, key):
        return _index.getitem(self, key)

    def __setitem__(self, key, value):
        _index.setitem(self, key, value)

    # ---- named methods: thin forwards to the op modules --------------------------------
    def add(self, other, alpha=1):
        return _ew.add(self, other if alpha == 1 else other * alpha)

    def sub(self, other, alpha=1):
        return _ew.sub(self, other if alpha == 1 else other * alpha)

    def mul(self, other):
        return _ew.mul(self, other)

    def div(self, other, rounding_mode=None):
        return _ew.div(self, other, rounding_mode=rounding_mode)

    def pow(self, exponent):
        return _ew.pow(self, exponent)

    def matmul(self, other):
        return _linalg.matmul(self, other)

    def mm(self, other):
        return _linalg.mm(self, other)

    def bmm(self, other):
        return _linalg.bmm(self, other)

    def dot(self, other):
        return _linalg.dot(self, other)

    def maximum(self, other):
        return _ew.maximum(self, other)

    def minimum(self, other):
        return _ew.minimum(self, other)

    def clamp(self, min=None, max=None):
        return _ew.clamp(self, min, max)

    clip = clamp

    def where(self, condition, other):
        return _ew.where(condition, self, other)

    def masked_fill(self, mask, value):
        return _ew.masked_fill(self, mask, value)

    def type_as(self, other):
        return self.to(other.dtype)

    def view(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], (dtypes.dtype,)):
            raise TypeError("[view] reinterpreting a tensor as another dtype is not supported")
        return _shape.view(self, _shape_arg(shape))

    def view_as(self, other):
        return _shape.view(self, tuple(other.shape))

    def reshape(self, *shape):
        return _shape.reshape(self, _shape_arg(shape))

    def reshape_as(self, other):
        return _shape.reshape(self, tuple(other.shape))

    def flatten(self, start_dim=0, end_dim=-1):
        return _shape.flatten(self, start_dim, end_dim)

    def unflatten(self, dim, sizes):
        return _shape.unflatten(self, dim, sizes)

    def squeeze(self, dim=None):
        return _shape.squeeze(self, dim)

    def unsqueeze(self, dim):
        return _shape.unsqueeze(self, dim)

    def permute(self, *dims):
        return _shape.permute(self, _shape_arg(dims))

    def transpose(self, dim0, dim1):
        return _shape.transpose(self, dim0, dim1)

    swapaxes = transpose

    def t(self):
        if self.ndim > 2:
            raise ValueError(f"[t] expects a tensor with <= 2 dimensions, but self is {self.ndim}D")
        return self if self.ndim < 2 else _shape.transpose(self, 0, 1)

    @property
    def T(self):
        return self if self.ndim < 2 else _shape.permute(self, tuple(range(self.ndim - 1, -1, -1)))

    @property
    def mT(self):
        return _shape.transpose(self, -2, -1)

    def expand(self, *sizes):
        return _shape.expand(self, _shape_arg(sizes))

    def expand_as(self, other):
        return _shape.expand(self, tuple(other.shape))

    def broadcast_to(self, shape):
        return _shape.expand(self, tuple(shape))

    def repeat(self, *sizes):
        return _index.repeat(self, *_shape_arg(sizes))

    def narrow(self, dim, start, length):
        return _shape.narrow(self, dim, start, length)

    def select(self, dim, index):
        return _shape.select(self, dim, index)

    def split(self, split_size_or_sections, dim=0):
        return _shape.split(self, split_size_or_sections, dim)

    def chunk(self, chunks, dim=0):
        return _shape.chunk(self, chunks, dim)

    def unbind(self, dim=0):
        return _shape.unbind(self, dim)

    def sum_to_size(self, *size):
        return _shape.sum_to_size(self, _shape_arg(size))

    def index_select(self, dim, index):
        return _index.index_select(self, dim, index)

    def gather(self, dim, index):
        return _index.gather(self, dim, index)

    def scatter_add(self, dim, index, src):
        return _index.scatter_add(self, dim, index, src)

    def scatter(self, dim, index, src):
        return _index.scatter(self, dim, index, src)

    def nonzero(self, *, as_tuple=False):
        return _index.nonzero(self, as_tuple=as_tuple)

    def masked_select(self, mask):
        return _index.masked_select(self, mask)

    # reductions
    def sum(self, dim=None, keepdim=False, dtype=None):
        out = _reduce.sum(self, dim, keepdim)
        return out if dtype is None else out.to(dtype)

    def mean(self, dim=None, keepdim=False, dtype=None):
        x = self if dtype is None else self.to(dtype)
        return _reduce.mean(x, dim, keepdim)

    def prod(self, dim=None, keepdim=False):
        return _reduce.prod(self, dim, keepdim)

    def max(self, dim=None, keepdim=False):
        if isinstance(dim, Tensor):
            return _ew.maximum(self, dim)
        return _reduce.max(self, dim, keepdim)

    def min(self, dim=None, keepdim=False):
        if isinstance(dim, Tensor):
            return _ew.minimum(self, dim)
        return _reduce.min(self, dim, keepdim)

    def amax(self, dim=(), keepdim=False):
        return _reduce.amax(self, dim, keepdim)

    def amin(self, dim=(), keepdim=False):
        return _reduce.amin(self, dim, keepdim)

    def argmax(self, dim=None, keepdim=False):
        return _reduce.argmax(self, dim, keepdim)

    def argmin(self, dim=None, keepdim=False):
        return _reduce.argmin(self, dim, keepdim)

    def var(self, dim=None, unbiased=None, keepdim=False, *, correction=None):
        return _reduce.var(self, dim, unbiased=unbiased, keepdim=keepdim, correction=correction)

    def std(self, dim=None, unbiased=None, keepdim=False, *, correction=None):
        return _reduce.std(self, dim, unbiased=unbiased, keepdim=keepdim, correction=correction)

    def logsumexp(self, dim, keepdim=False):
        return _reduce.logsumexp(self, dim, keepdim)

    def norm(self, p="fro", dim=None, keepdim=False):
        return _reduce.norm(self, p, dim, keepdim)

    def all(self, dim=None, keepdim=False):
        return _reduce.all(self, dim, keepdim)

    def any(self, dim=None, keepdim=False):
        return _reduce.any(self, dim, keepdim)

    def softmax(self, dim):
        return _reduce.softmax(self, dim)

    def log_softmax(self, dim):
        return _reduce.log_softmax(self, dim)


def _add_unary_methods():
    names = ["neg", "abs", "exp", "log", "log1p", "expm1", "sqrt", "rsqrt", "sin", "cos", "sign", "reciprocal",
             "relu", "sigmoid", "tanh", "square", "floor", "ceil", "round", "trunc", "isnan", "isinf",
             "isfinite", "logical_not", "eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or",
             "logical_xor", "atan2", "remainder", "floor_divide", "log2", "log10", "exp2"]
    for name in names:
        def method(self, *args, _name=name):
            return getattr(_ew, _name)(self, *args)

        method.__name__ = name
        setattr(Tensor, name, method)
    for name in ["neg", "abs", "exp", "log", "sqrt", "sigmoid", "tanh", "relu", "sin", "cos", "reciprocal",
                 "rsqrt", "log1p", "square", "floor", "ceil", "round", "trunc", "sign"]:
        def inplace(self, _name=name):
            self._check_inplace(_name + "_")
            self._impl.copy_(getattr(_ew, _name)(self)._impl)
            return self

        inplace.__name__ = name + "_"
        setattr(Tensor, name + "_", inplace)


class Size(tuple):
    """A tensor's shape: a tuple that prints like torch.Size."""

    def __repr__(self):
        return f"glassnet.Size({list(self)})"

    def numel(self):
        n = 1
        for s in self:
            n *= s
        return n


class _RemovableHandle:
    def __init__(self, container, item):
        self._container, self._item = container, item

    def remove(self):
        if self._item in self._container:
            self._container.remove(self._item)


def _wrap_dim(dim, ndim, op):
    n = ndim if ndim > 0 else 1
    if not -n <= dim < n:
        raise IndexError(f"[{op}] dim {dim} is out of range for a tensor with {ndim} dimensions")
    return dim % n


def _shape_arg(args):
    """view(2, 3), view((2, 3)) and view([2, 3]) all mean shape (2, 3)."""
    if len(args) == 1 and isinstance(args[0], (tuple, list, Size)):
        args = args[0]
    out = []
    for s in args:
        if isinstance(s, Tensor):
            s = s.item()
        if not isinstance(s, (builtins.int, np.integer)) or isinstance(s, builtins.bool):
            raise TypeError(f"shape dimensions must be ints, got {type(s).__name__}")
        out.append(builtins.int(s))
    return tuple(out)


def _fill_random(t, fill):
    if t._impl.is_contiguous():
        fill(t._impl)
    else:
        tmp = t._impl.clone()
        fill(tmp)
        t._impl.copy_(tmp)


def _infer_dtype(data):
    """The dtype gn.tensor(data) gets: float -> default dtype, int -> int64, bool -> bool."""
    if isinstance(data, (np.ndarray, np.generic)):  # numpy scalars keep their dtype, as in torch
        return dtypes.to_dtype(data.dtype)
    flat = np.asarray(data)
    if flat.dtype.kind == "b":
        return dtypes.bool
    if flat.dtype.kind in "iu":
        return dtypes.int64
    if flat.dtype.kind == "f":
        return dtypes.get_default_dtype()
    raise TypeError(f"[tensor] could not infer a dtype for data of type {type(data).__name__}")


def _impl_from_data(data, dtype, copy):
    """A C++ tensor holding `data` (a Tensor, numpy array, nested sequence or number)."""
    if isinstance(data, Tensor):
        if dtype is not None and dtypes.to_dtype(dtype) is not data.dtype:
            return data._impl.to_dtype(dtypes.to_dtype(dtype)._c, True)
        return data._impl.clone() if copy else data._impl
    target = dtypes.to_dtype(dtype) if dtype is not None else _infer_dtype(data)
    try:
        array = np.array(data, dtype=target.numpy) if copy else np.asarray(data, dtype=target.numpy)
    except (ValueError, TypeError) as e:
        raise ValueError(f"[tensor] could not convert data to a tensor: {e}") from None
    return _C.from_numpy(array)


# 0-d tensors for Python numbers seen in expressions (x * 2, 1 - p). Only op
# inputs are made from them, never tensors a user can write into.
_scalar_cache = {}


def tensor_like(value, like):
    """A Python number or array as a tensor on `like`'s device with the dtype torch would give it."""
    if isinstance(value, Tensor):
        return value
    if isinstance(value, (numbers.Number, np.bool_)):
        impl = like._impl
        key = (type(value), value, impl.dtype, impl.device)
        cached = _scalar_cache.get(key)
        if cached is None:
            dt = _scalar_dtype(value, dtypes.from_c(impl.dtype))
            cached = _C.full([], builtins.float(value), dt._c, impl.device)
            if len(_scalar_cache) < 4096:
                _scalar_cache[key] = cached
        return Tensor._wrap(cached)
    t = Tensor(np.asarray(value), dtype=None)
    return t if not like.is_cuda else t.to(like.device)


def _operand_impl(value, like):
    return tensor_like(value, like)._impl


_add_unary_methods()
_function.Tensor = Tensor

# The op modules import Tensor from here, so they come last.
from ._ops import elementwise as _ew  # noqa: E402
from ._ops import shape as _shape  # noqa: E402
from ._ops import linalg as _linalg  # noqa: E402
from ._ops import reduce as _reduce  # noqa: E402
from ._ops import index as _index  # noqa: E402
