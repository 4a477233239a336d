"""embedding, as torch.nn.functional.embedding: rows of a weight table looked
up by int64 indices. The forward is index_select on the rows; the backward
scatter-adds the output gradient into a zero weight gradient, leaving out
padding_idx and optionally dividing by each index's frequency in the batch."""
import numpy as np

from ... import _C
from ..._tensor import Tensor
from ...autograd.function import Function
from ...autograd.grad_mode import state

__all__ = ["embedding"]


class Embedding(Function):
    @staticmethod
    def forward(ctx, weight, indices, padding_idx, scale_grad_by_freq):
        ctx.indices = indices._impl
        ctx.num_weights = weight.shape[0]
        ctx.padding_idx = padding_idx
        ctx.scale_grad_by_freq = scale_grad_by_freq
        return Tensor._wrap(_C.embedding_forward(weight._impl, indices._impl))

    @staticmethod
    def backward(ctx, grad):
        if state.grad_enabled:
            return Embedding.composite_backward(ctx, grad), None, None, None
        grad_weight = _C.embedding_backward(grad._impl, ctx.indices, ctx.num_weights, ctx.padding_idx,
                                            ctx.scale_grad_by_freq)
        return Tensor._wrap(grad_weight), None, None, None

    @staticmethod
    def composite_backward(ctx, grad):
        """create_graph=True: the same scatter-add from a differentiable op
        (the gradient is linear in grad, so only grad's own graph matters)."""
        from ..._creation import tensor, zeros
        from ..._functions import scatter_add

        idx = np.asarray(Tensor._wrap(ctx.indices).numpy()).reshape(-1)
        n, D = idx.size, grad.shape[-1]
        rows = grad.reshape(n, D)
        if ctx.padding_idx is not None or ctx.scale_grad_by_freq:
            scale = np.ones(n)
            if ctx.scale_grad_by_freq:
                scale /= np.bincount(idx, minlength=ctx.num_weights)[idx]
            if ctx.padding_idx is not None:
                scale[idx == ctx.padding_idx] = 0.0
            rows = rows * tensor(scale.reshape(n, 1), dtype=grad.dtype)
        index = tensor(np.broadcast_to(idx.reshape(n, 1), (n, D)))
        return scatter_add(zeros(ctx.num_weights, D, dtype=grad.dtype), 0, index, rows)


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False, sparse=False):
    """out[..., :] = weight[input[...], :] for int64 input and weight (num_embeddings, embedding_dim).

    padding_idx: that row gets no gradient (negative counts from the end).
    max_norm: rows about to be looked up whose norm_type-norm exceeds it are
    rescaled to norm max_norm in place in weight first, as torch.
    scale_grad_by_freq: each row's gradient is divided by its index's count in input.
    sparse: glassnet has no sparse tensors, so the gradient is always dense;
    its values are those torch's sparse gradient holds."""
    if not isinstance(input, Tensor) or not isinstance(weight, Tensor):
        raise TypeError(f"[embedding] expected input and weight to be Tensors, got {type(input).__name__} and "
                        f"{type(weight).__name__}")
    if weight.ndim != 2:
        raise ValueError(f"[embedding] expected a 2-D weight (num_embeddings, embedding_dim), got shape "
                         f"{tuple(weight.shape)}")
    num = weight.shape[0]
    if padding_idx is not None:
        padding_idx = int(padding_idx)
        if not -num <= padding_idx < num:
            raise ValueError(f"[embedding] padding_idx={padding_idx} must be within num_embeddings={num}")
        if padding_idx < 0:
            padding_idx += num
    if max_norm is not None:
        # In place and outside the graph, as torch's embedding_renorm_ under no_grad.
        _C.embedding_renorm_(weight._impl, input._impl, float(max_norm), float(norm_type))
    return Embedding.apply(weight, input, padding_idx, bool(scale_grad_by_freq))
