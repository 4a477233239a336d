"""scaled_dot_product_attention, as torch.nn.functional.

    out = dropout(softmax(scale·q·kᵀ + mask)) · v

One fused C++ kernel per direction (src/ops/attention*.cpp, after
FlashAttention, Dao et al. 2022): blocks of queries against blocks of keys
with an online softmax, so the L×S score matrix never exists; the backward
recomputes each block of scores from the saved row log-sum-exp. Dropout on
the attention probabilities is drawn inside the kernel from glassnet's Philox
stream and regenerated in the backward from the saved stream position.

`_attention_math` is the same computation written with ordinary
differentiable ops (it materialises the scores). Double backward
(create_graph=True) differentiates it, with the kernel's own dropout
decisions, and the tests use it as the reference for the kernel."""
import math

from ... import _C
from ..._creation import arange
from ..._tensor import Tensor
from ...autograd import grad as _autograd_grad
from ...autograd.function import Function
from ...autograd.grad_mode import enable_grad, state

__all__ = ["scaled_dot_product_attention"]


def _impl(t):
    return None if t is None else t._impl


def _dropout_keep(batch, L, S, dropout_p, seed, offset):
    """The kernel's keep decisions at a stream position: bool (batch..., L, S)."""
    return Tensor._wrap(_C.attention_dropout_mask(list(batch), L, S, dropout_p, seed, offset))


def _causal_mask(L, S):
    """bool (L, S), true where query i may see key j: j ≤ i (top-left aligned, as torch)."""
    return arange(S).unsqueeze(0) <= arange(L).unsqueeze(1)


def _attention_math(q, k, v, mask, scale, is_causal, keep=None, dropout_p=0.0):
    """The unfused route: scores, masked softmax (a fully masked row gives 0,
    as the kernel and torch do), dropout by the bool `keep`, then · v."""
    scores = (q @ k.mT) * scale
    if is_causal:
        mask = _causal_mask(q.shape[-2], k.shape[-2])
    if mask is not None:
        if mask.dtype.is_floating_point:
            scores = scores + mask
        else:
            scores = scores.masked_fill(~mask, float("-inf"))
    # softmax of a row of -inf is nan; such rows attend to nothing.
    dead = scores.amax(-1, keepdim=True) == float("-inf")
    probs = scores.masked_fill(dead, 0.0).softmax(-1).masked_fill(dead, 0.0)
    if keep is not None:
        probs = probs.masked_fill(~keep, 0.0) * (0.0 if dropout_p >= 1 else 1.0 / (1.0 - dropout_p))
    return probs @ v


class ScaledDotProductAttention(Function):
    """q (..., L, E), k (..., S, E), v (..., S, Ev), mask or None → (..., L, Ev)."""

    @staticmethod
    def forward(ctx, q, k, v, mask, scale, is_causal, dropout_p):
        out, lse, seed, offset = _C.attention_forward(q._impl, k._impl, v._impl, _impl(mask), scale, is_causal,
                                                      dropout_p)
        ctx.save_for_backward(q, k, v, mask)
        ctx.out, ctx.lse = out, lse  # C++ tensors: no reference back to the output's graph node
        ctx.args = (scale, is_causal, dropout_p, seed, offset)
        return Tensor._wrap(out)

    @staticmethod
    def backward(ctx, grad):
        q, k, v, mask = ctx.saved_tensors
        scale, is_causal, dropout_p, seed, offset = ctx.args
        need = ctx.needs_input_grad
        if state.grad_enabled:
            return _differentiable_backward(grad, q, k, v, mask, ctx.args, need)
        dq, dk, dv, dmask = _C.attention_backward(grad._impl, q._impl, k._impl, v._impl, _impl(mask), ctx.out,
                                                  ctx.lse, scale, is_causal, dropout_p, seed, offset,
                                                  bool(need[3]))
        return (Tensor._wrap(dq) if need[0] else None, Tensor._wrap(dk) if need[1] else None,
                Tensor._wrap(dv) if need[2] else None, Tensor._wrap(dmask) if dmask is not None else None,
                None, None, None)


def _differentiable_backward(grad, q, k, v, mask, args, need):
    """create_graph=True: the gradients of the unfused route (same dropout
    decisions), built from differentiable ops so they can be differentiated."""
    scale, is_causal, dropout_p, seed, offset = args
    keep = None
    if dropout_p > 0:
        batch = _broadcast_batch(q, k, v)
        keep = _dropout_keep(batch, q.shape[-2], k.shape[-2], dropout_p, seed, offset)
    inputs = [t for t, n in zip((q, k, v, mask), need) if n]
    with enable_grad():
        out = _attention_math(q, k, v, mask, scale, is_causal, keep, dropout_p)
        grads = iter(_autograd_grad(out, inputs, grad, create_graph=True, allow_unused=True))
    return tuple(next(grads) if n else None for n in need[:4]) + (None, None, None)


def _broadcast_batch(q, k, v):
    batch = ()
    for t in (q, k, v):
        a, b = tuple(t.shape[:-2]), batch
        n = max(len(a), len(b))
        a, b = (1,) * (n - len(a)) + a, (1,) * (n - len(b)) + b
        batch = tuple(max(x, y) if min(x, y) != 0 else 0 for x, y in zip(a, b))
    return batch


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None,
                                 enable_gqa=False):
    """softmax(query·keyᵀ·scale + attn_mask) · value over the last two dims.

    query (..., L, E), key (..., S, E), value (..., S, Ev); the leading dims
    broadcast. attn_mask broadcasts to (..., L, S): bool (True = attend) or
    float (added to the scores). is_causal lets query i see keys j ≤ i.
    scale defaults to 1/sqrt(E). dropout_p > 0 drops attention probabilities
    (whenever given, as torch's functional does; modules pass 0 in eval).
    enable_gqa lets key/value carry fewer heads (dim -3) than query, each
    shared by a group of query heads."""
    for name, t in (("query", query), ("key", key), ("value", value)):
        if not isinstance(t, Tensor):
            raise TypeError(f"[scaled_dot_product_attention] expected {name} to be a Tensor, got {type(t).__name__}")
    if attn_mask is not None and not isinstance(attn_mask, Tensor):
        raise TypeError(f"[scaled_dot_product_attention] expected attn_mask to be a Tensor or None, got "
                        f"{type(attn_mask).__name__}")
    dropout_p = float(dropout_p)
    if not 0.0 <= dropout_p <= 1.0:
        raise ValueError(f"[scaled_dot_product_attention] dropout_p has to be between 0 and 1, but got {dropout_p}")
    if (attn_mask is not None and attn_mask.dtype.is_floating_point and query.dtype.is_floating_point
            and attn_mask.dtype != query.dtype):
        attn_mask = attn_mask.to(query.dtype)  # torch accepts any float mask
    if enable_gqa:
        key, value = _repeat_kv_heads(query, key, value)
    if scale is None:
        E = query.shape[-1] if query.ndim else 0
        scale = 1.0 / math.sqrt(E) if E > 0 else math.inf
    scale = float(scale)
    return ScaledDotProductAttention.apply(query, key, value, attn_mask, scale, bool(is_causal), dropout_p)


def _repeat_kv_heads(query, key, value):
    """Grouped-query attention: key/value head h serves query heads
    h·g … h·g + g - 1, g = query heads / key heads (torch's repeat_interleave)."""
    if query.ndim < 3 or key.ndim < 3 or value.ndim < 3:
        raise ValueError(f"[scaled_dot_product_attention] enable_gqa needs (..., heads, length, features) inputs, got "
                         f"query {tuple(query.shape)}, key {tuple(key.shape)}, value {tuple(value.shape)}")
    hq, hk, hv = query.shape[-3], key.shape[-3], value.shape[-3]
    if hk != hv or hk == 0 or hq % hk:
        raise ValueError(f"[scaled_dot_product_attention] enable_gqa: query heads ({hq}) must be a multiple of key "
                         f"heads ({hk}) and key and value must have the same heads ({hv})")
    g = hq // hk

    def repeat(t):
        if g == 1:
            return t
        s = tuple(t.shape)
        return t.unsqueeze(-3).expand(s[:-3] + (hk, g) + s[-2:]).reshape(s[:-3] + (hk * g,) + s[-2:])

    return repeat(key), repeat(value)
