"""Loss functions, as torch.nn.functional.

Each loss is one autograd Function: forward is one fused C++ kernel
(src/ops/loss_*.cpp) and backward is its backward kernel, so a training step
pays for two calls whatever the reduction, weights or label smoothing. The
Python here only checks arguments and picks the kernel."""
import warnings

from ... import _C
from ... import _dtype as dtypes
from ..._tensor import Tensor
from ...autograd.function import Function
from ...autograd.grad_mode import state

__all__ = ["cross_entropy", "nll_loss", "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss",
           "binary_cross_entropy", "binary_cross_entropy_with_logits", "kl_div"]

_R = _C.Reduction
_P = _C.PointwiseLoss
_REDUCTIONS = {"mean": _R.mean, "sum": _R.sum, "none": _R.none}


def _reduction(reduction, size_average=None, reduce=None):
    """The C++ reduction for torch's `reduction` string, or for the legacy
    size_average/reduce flags (deprecated in torch, which warns likewise)."""
    if size_average is not None or reduce is not None:
        warnings.warn("size_average and reduce args will be deprecated, please use reduction= instead",
                      UserWarning, stacklevel=3)
        if reduce is False:
            return _R.none
        return _R.mean if size_average is not False else _R.sum
    r = _REDUCTIONS.get(reduction)
    if r is None:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return r


def _check_tensor(x, op, what="input"):
    if not isinstance(x, Tensor):
        raise TypeError(f"[{op}] expected {what} to be a Tensor, got {type(x).__name__}")


def _float_dtype(op, *tensors):
    """The common floating dtype of the operands (float64 wins), as torch promotes."""
    kinds = [t.dtype for t in tensors]
    if dtypes.float64 in kinds:
        return dtypes.float64
    if dtypes.float32 in kinds:
        return dtypes.float32
    raise TypeError(f"[{op}] expected floating point inputs, got {', '.join(str(k) for k in kinds)}")


def _no_double_backward(op):
    """The backward kernels are not themselves differentiable: refuse create_graph."""
    if state.grad_enabled:
        raise RuntimeError(f"[{op}] double backward (create_graph=True) is not supported for this loss")


def _check_weight_no_grad(op, **weights):
    for name, w in weights.items():
        if w is not None and state.grad_enabled and w.requires_grad:
            raise RuntimeError(f"[{op}] is not differentiable with respect to argument '{name}'; "
                               f"pass {name}.detach()")


# ---- cross entropy and nll ----------------------------------------------------------


class CrossEntropy(Function):
    """Class-index targets; forward keeps each sample's max and log-sum-exp for backward."""

    @staticmethod
    def forward(ctx, input, target, weight, ignore_index, reduction, label_smoothing):
        loss, stats, total = _C.cross_entropy_forward(input._impl, target._impl, weight, ignore_index, reduction,
                                                    label_smoothing)
        ctx.args = (input._impl, target._impl, weight, stats, total, ignore_index, reduction, label_smoothing)
        return Tensor._wrap(loss)

    @staticmethod
    def backward(ctx, grad):
        _no_double_backward("cross_entropy")
        return Tensor._wrap(_C.cross_entropy_backward(grad._impl, *ctx.args)), None


class CrossEntropyProb(Function):
    """Class-probability targets (float, the input's shape)."""

    @staticmethod
    def forward(ctx, input, target, weight, reduction, label_smoothing):
        loss, stats = _C.cross_entropy_prob_forward(input._impl, target._impl, weight, reduction, label_smoothing)
        ctx.args = (input._impl, target._impl, weight, stats, reduction, label_smoothing)
        return Tensor._wrap(loss)

    @staticmethod
    def backward(ctx, grad):
        _no_double_backward("cross_entropy")
        grad_input, grad_target = _C.cross_entropy_prob_backward(grad._impl, *ctx.args, ctx.needs_input_grad[1])
        return Tensor._wrap(grad_input), (Tensor._wrap(grad_target) if grad_target is not None else None)


class NllLoss(Function):
    @staticmethod
    def forward(ctx, input, target, weight, ignore_index, reduction):
        loss, total = _C.nll_loss_forward(input._impl, target._impl, weight, ignore_index, reduction)
        ctx.args = (input._impl, target._impl, weight, total, ignore_index, reduction)
        return Tensor._wrap(loss)

    @staticmethod
    def backward(ctx, grad):
        _no_double_backward("nll_loss")
        return Tensor._wrap(_C.nll_loss_backward(grad._impl, *ctx.args)), None


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean",
                  label_smoothing=0.0):
    """Cross entropy between scores `input` (N, C, d...) or (C,) and `target`:
    class indices (int64, (N, d...)) or class probabilities (float, input's
    shape). The log-softmax over dim 1 is fused into the kernel."""
    _check_tensor(input, "cross_entropy")
    _check_tensor(target, "cross_entropy", "target")
    r = _reduction(reduction, size_average, reduce)
    if weight is not None:
        _check_tensor(weight, "cross_entropy", "weight")
        _check_weight_no_grad("cross_entropy", weight=weight)
        weight = weight._impl
    if target.dtype is dtypes.int64:
        return CrossEntropy.apply(input, target, weight, int(ignore_index), r, float(label_smoothing))
    if not target.dtype.is_floating_point:
        raise TypeError(f"[cross_entropy] expected an int64 target of class indices or a float target of class "
                        f"probabilities, got {target.dtype}")
    if ignore_index >= 0:
        raise ValueError(f"[cross_entropy] ignore_index ({ignore_index}) is not supported for a probability target")
    dtype = _float_dtype("cross_entropy", input, target)
    return CrossEntropyProb.apply(input.to(dtype), target.to(dtype), weight, r, float(label_smoothing))


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
    """Negative log likelihood of log-probabilities `input` (N, C, d...) at
    class-index `target` (N, d...)."""
    _check_tensor(input, "nll_loss")
    _check_tensor(target, "nll_loss", "target")
    r = _reduction(reduction, size_average, reduce)
    if weight is not None:
        _check_tensor(weight, "nll_loss", "weight")
        _check_weight_no_grad("nll_loss", weight=weight)
        weight = weight._impl
    return NllLoss.apply(input, target, weight, int(ignore_index), r)


# ---- regression losses ----------------------------------------------------------------


class PointwiseLoss(Function):
    """mse, l1, smooth_l1, huber: input and target broadcast together."""

    @staticmethod
    def forward(ctx, input, target, kind, param, reduction):
        ctx.args = (input._impl, target._impl, param, reduction)
        ctx.kind = kind
        return Tensor._wrap(_C.pointwise_loss_forward(kind, input._impl, target._impl, param, reduction))

    @staticmethod
    def backward(ctx, grad):
        _no_double_backward(ctx.kind.name + "_loss")
        grad_input = Tensor._wrap(_C.pointwise_loss_backward(ctx.kind, grad._impl, *ctx.args))
        return (grad_input if ctx.needs_input_grad[0] else None,
                -grad_input if ctx.needs_input_grad[1] else None)


def _pointwise(op, kind, input, target, param, reduction, weight=None, weighted_mean_by_weight=True):
    _check_tensor(input, op)
    _check_tensor(target, op, "target")
    dtype = _float_dtype(op, input, target)
    input, target = input.to(dtype), target.to(dtype)
    if weight is None:
        return PointwiseLoss.apply(input, target, kind, float(param), reduction)
    # torch's weighted variants: the unreduced loss times weight (input's
    # shape), then a sum, divided by Σ weight (mse, l1) or the count (huber).
    _check_tensor(weight, op, "weight")
    if weight.shape != input.shape:
        raise ValueError(f"[{op}] weight of shape {tuple(weight.shape)} must have the input's shape "
                         f"{tuple(input.shape)}")
    loss = PointwiseLoss.apply(input, target, kind, float(param), _R.none) * weight
    if reduction is _R.none:
        return loss
    if reduction is _R.sum:
        return loss.sum()
    return loss.sum() / weight.sum() if weighted_mean_by_weight else loss.mean()


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean squared error (x - t)², input and target broadcast."""
    return _pointwise("mse_loss", _P.mse, input, target, 0.0, _reduction(reduction, size_average, reduce), weight)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean absolute error |x - t|, input and target broadcast."""
    return _pointwise("l1_loss", _P.l1, input, target, 0.0, _reduction(reduction, size_average, reduce), weight)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """0.5 d² / beta where |d| < beta, else |d| - 0.5 beta (beta = 0 is l1)."""
    return _pointwise("smooth_l1_loss", _P.smooth_l1, input, target, beta, _reduction(reduction, size_average, reduce))


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """0.5 d² where |d| < delta, else delta (|d| - 0.5 delta)."""
    return _pointwise("huber_loss", _P.huber, input, target, delta, _reduction(reduction), weight,
                      weighted_mean_by_weight=False)


# ---- binary cross entropy ---------------------------------------------------------------


class BinaryCrossEntropy(Function):
    @staticmethod
    def forward(ctx, input, target, weight, reduction):
        ctx.args = (input._impl, target._impl, weight, reduction)
        return Tensor._wrap(_C.binary_cross_entropy_forward(*ctx.args))

    @staticmethod
    def backward(ctx, grad):
        _no_double_backward("binary_cross_entropy")
        gi, gt = _C.binary_cross_entropy_backward(grad._impl, *ctx.args, ctx.needs_input_grad[0],
                                                  ctx.needs_input_grad[1])
        return _wrap_opt(gi), _wrap_opt(gt)


class BinaryCrossEntropyWithLogits(Function):
    @staticmethod
    def forward(ctx, input, target, weight, pos_weight, reduction):
        ctx.args = (input._impl, target._impl, weight, pos_weight, reduction)
        return Tensor._wrap(_C.binary_cross_entropy_with_logits_forward(*ctx.args))

    @staticmethod
    def backward(ctx, grad):
        _no_double_backward("binary_cross_entropy_with_logits")
        gi, gt = _C.binary_cross_entropy_with_logits_backward(grad._impl, *ctx.args, ctx.needs_input_grad[0],
                                                              ctx.needs_input_grad[1])
        return _wrap_opt(gi), _wrap_opt(gt)


def _wrap_opt(impl):
    return None if impl is None else Tensor._wrap(impl)


def _binary_operands(op, input, target, **weights):
    """input and target promoted to one float dtype, weights cast to it (as C++ tensors)."""
    _check_tensor(input, op)
    _check_tensor(target, op, "target")
    _check_weight_no_grad(op, **weights)
    dtype = _float_dtype(op, input, target)
    out = [input.to(dtype), target.to(dtype)]
    for name, w in weights.items():
        if w is not None:
            _check_tensor(w, op, name)
            w = w.to(dtype)._impl
        out.append(w)
    return out


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """-w (t log p + (1 - t) log(1 - p)) for probabilities p = input, each log
    clamped to >= -100 as torch does."""
    r = _reduction(reduction, size_average, reduce)
    input, target, weight = _binary_operands("binary_cross_entropy", input, target, weight=weight)
    return BinaryCrossEntropy.apply(input, target, weight, r)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None, reduction="mean",
                                     pos_weight=None):
    """Binary cross entropy on logits, sigmoid fused in (stable for any x);
    pos_weight scales the positive term and broadcasts along the last dim."""
    r = _reduction(reduction, size_average, reduce)
    input, target, weight, pos_weight = _binary_operands("binary_cross_entropy_with_logits", input, target,
                                                         weight=weight, pos_weight=pos_weight)
    return BinaryCrossEntropyWithLogits.apply(input, target, weight, pos_weight, r)


# ---- KL divergence --------------------------------------------------------------------


class KlDiv(Function):
    @staticmethod
    def forward(ctx, input, target, reduction, log_target):
        ctx.args = (input._impl, target._impl, reduction, log_target)
        return Tensor._wrap(_C.kl_div_forward(*ctx.args))

    @staticmethod
    def backward(ctx, grad):
        _no_double_backward("kl_div")
        gi, gt = _C.kl_div_backward(grad._impl, *ctx.args, ctx.needs_input_grad[0], ctx.needs_input_grad[1])
        return _wrap_opt(gi), _wrap_opt(gt)


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """KL(target ‖ exp(input)) pointwise: target (log target - input).
    'batchmean' divides the sum by input.size(0); 'mean' by every element, and
    warns as torch does."""
    if size_average is None and reduce is None and reduction == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the support size. "
                      "'batchmean' divides only by the batch size, and aligns with the KL div math definition. "
                      "'mean' will be changed to behave the same as 'batchmean' in the next major release.",
                      UserWarning, stacklevel=2)
    r = _R.batchmean if (reduction == "batchmean" and size_average is None and reduce is None) \
        else _reduction(reduction, size_average, reduce)
    _check_tensor(input, "kl_div")
    _check_tensor(target, "kl_div", "target")
    dtype = _float_dtype("kl_div", input, target)
    return KlDiv.apply(input.to(dtype), target.to(dtype), r, bool(log_target))
