"""MultiheadAttention (Vaswani et al., 2017), with torch's parameters, names,
initialisation and forward semantics.

Inputs are handled batch-first inside, as views: heads are split out of the
projections by strides, and with need_weights=False the attention itself is
the fused kernel of F.scaled_dot_product_attention. need_weights=True (the
default, as in torch) has to return the attention probabilities, so that path
computes them explicitly — the scores are materialised there, as in torch."""
import warnings

from ..._creation import empty, ones, zeros
from ..._functions import cat
from ..._tensor import Tensor
from .. import functional as F
from .. import init
from ..parameter import Parameter
from .linear import Linear
from .module import Module

__all__ = ["MultiheadAttention"]

_OP = "[MultiheadAttention]"


def _shape(t):
    return tuple(t.shape)


def _check_mask_dtype(name, mask):
    if mask is not None and not (mask.dtype.name == "bool" or mask.dtype.is_floating_point):
        raise TypeError(f"{_OP} only bool and floating types of {name} are supported, got {mask.dtype.name} "
                        f"of shape {_shape(mask)}")


def _merge_masks(attn_mask, key_padding_mask, N, H, L, S, dtype):
    """torch's masks (True = masked out, or float added) as one mask for
    F.scaled_dot_product_attention (True = attend, or float added), shaped
    (L, S), (N, H, L, S), (N, 1, 1, S) or their broadcast (N, H|1, L, S)."""
    masks = []
    if attn_mask is not None:
        masks.append(attn_mask if attn_mask.ndim == 2 else attn_mask.view(N, H, L, S))
    if key_padding_mask is not None:
        masks.append(key_padding_mask.view(N, 1, 1, S))
    if not masks:
        return None
    if all(m.dtype.name == "bool" for m in masks):
        blocked = masks[0] if len(masks) == 1 else masks[0] | masks[1]
        return ~blocked
    if len(masks) == 2 and masks[0].dtype != masks[1].dtype:
        warnings.warn("Support for mismatched key_padding_mask and attn_mask is deprecated. Use same type for both "
                      "instead.", stacklevel=4)
    total = None
    for m in masks:
        if m.dtype.name == "bool":
            m = zeros(m.shape, dtype=dtype).masked_fill(m, float("-inf"))
        elif m.dtype != dtype:
            m = m.to(dtype)
        total = m if total is None else total + m
    return total


def _pad_key(mask):
    """One more key column that every query may attend (bias_k or a zero key)."""
    if mask is None:
        return None
    extra = _shape(mask)[:-1] + (1,)
    fill = ones(extra, dtype=mask.dtype) if mask.dtype.name == "bool" else zeros(extra, dtype=mask.dtype)
    return cat([mask, fill], dim=-1)


class MultiheadAttention(Module):
    """Attention over num_heads heads of embed_dim // num_heads features.

    query (L, N, E) — or (N, L, E) with batch_first, or (L, E) unbatched —
    key (S, N, kdim), value (S, N, vdim). key_padding_mask (N, S): True (or
    -inf) marks keys to ignore. attn_mask (L, S) or (N·num_heads, L, S): True
    (or -inf) forbids attending; float masks are added to the scores.
    Returns (output like query, weights (N, L, S) averaged over heads or
    (N, num_heads, L, S), or None when need_weights=False)."""

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False, add_zero_attn=False,
                 kdim=None, vdim=None, batch_first=False, device=None, dtype=None):
        super().__init__()
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"{_OP} embed_dim and num_heads must be greater than 0, got embed_dim={embed_dim} and "
                             f"num_heads={num_heads}")
        if embed_dim % num_heads:
            raise ValueError(f"{_OP} embed_dim ({embed_dim}) must be divisible by num_heads ({num_heads})")
        self.embed_dim = embed_dim
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads = num_heads
        self.dropout = dropout
        self.batch_first = batch_first
        self.head_dim = embed_dim // num_heads
        kw = dict(dtype=dtype, device=device)
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(empty((3 * embed_dim, embed_dim), **kw))
            self.register_parameter("q_proj_weight", None)
            self.register_parameter("k_proj_weight", None)
            self.register_parameter("v_proj_weight", None)
        else:
            self.q_proj_weight = Parameter(empty((embed_dim, embed_dim), **kw))
            self.k_proj_weight = Parameter(empty((embed_dim, self.kdim), **kw))
            self.v_proj_weight = Parameter(empty((embed_dim, self.vdim), **kw))
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(empty(3 * embed_dim, **kw))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = Linear(embed_dim, embed_dim, bias=bias, **kw)
        if add_bias_kv:
            self.bias_k = Parameter(empty((1, 1, embed_dim), **kw))
            self.bias_v = Parameter(empty((1, 1, embed_dim), **kw))
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self):
        # As torch: xavier-uniform projections, zero biases; out_proj.weight keeps Linear's init.
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            init.xavier_uniform_(self.q_proj_weight)
            init.xavier_uniform_(self.k_proj_weight)
            init.xavier_uniform_(self.v_proj_weight)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
        if self.bias_v is not None:
            init.xavier_normal_(self.bias_v)

    # ---- forward ---------------------------------------------------------------
    def _project(self, query, key, value, same_qk, same_kv):
        """q (N, L, E), k (N, S, E), v (N, S, E): one GEMM for self-attention,
        two when key is value, three otherwise (torch's _in_projection_packed)."""
        E, b = self.embed_dim, self.in_proj_bias
        bq, bk, bv = (None, None, None) if b is None else (b[:E], b[E:2 * E], b[2 * E:])
        if self._qkv_same_embed_dim:
            w = self.in_proj_weight
            if same_kv and same_qk:
                qkv = F.linear(query, w, b)
                return qkv[..., :E], qkv[..., E:2 * E], qkv[..., 2 * E:]
            q = F.linear(query, w[:E], bq)
            if same_kv:
                kv = F.linear(key, w[E:], None if b is None else b[E:])
                return q, kv[..., :E], kv[..., E:]
            return q, F.linear(key, w[E:2 * E], bk), F.linear(value, w[2 * E:], bv)
        return (F.linear(query, self.q_proj_weight, bq), F.linear(key, self.k_proj_weight, bk),
                F.linear(value, self.v_proj_weight, bv))

    def _check_inputs(self, query, key, value, key_padding_mask, attn_mask):
        for name, t in (("query", query), ("key", key), ("value", value)):
            if not isinstance(t, Tensor):
                raise TypeError(f"{_OP} expected {name} to be a Tensor, got {type(t).__name__}")
        if query.ndim not in (2, 3) or key.ndim != query.ndim or value.ndim != query.ndim:
            raise ValueError(f"{_OP} query, key and value must all be 3-D (batched) or 2-D (unbatched), got "
                             f"query {_shape(query)}, key {_shape(key)}, value {_shape(value)}")
        if query.shape[-1] != self.embed_dim or key.shape[-1] != self.kdim or value.shape[-1] != self.vdim:
            raise ValueError(f"{_OP} expected feature sizes query {self.embed_dim}, key {self.kdim}, value "
                             f"{self.vdim}, got query {_shape(query)}, key {_shape(key)}, value {_shape(value)}")
        if key.shape[:-1] != value.shape[:-1]:
            raise ValueError(f"{_OP} key {_shape(key)} and value {_shape(value)} must have the same sequence length "
                             "and batch size")
        for name, t in (("key_padding_mask", key_padding_mask), ("attn_mask", attn_mask)):
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(f"{_OP} expected {name} to be a Tensor or None, got {type(t).__name__}")
            _check_mask_dtype(name, t)

    def forward(self, query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
                average_attn_weights=True, is_causal=False):
        self._check_inputs(query, key, value, key_padding_mask, attn_mask)
        same_qk, same_kv = query is key, key is value
        batched = query.ndim == 3
        if not batched:
            query, key, value = query.unsqueeze(0), key.unsqueeze(0), value.unsqueeze(0)
            if key_padding_mask is not None:
                key_padding_mask = key_padding_mask.unsqueeze(0)
        elif not self.batch_first:
            query, key, value = query.transpose(0, 1), key.transpose(0, 1), value.transpose(0, 1)
        N, L, S, H, E = query.shape[0], query.shape[1], key.shape[1], self.num_heads, self.embed_dim
        if key.shape[0] != N:
            raise ValueError(f"{_OP} query {_shape(query)} and key {_shape(key)} (batch-first views) must have the "
                             "same batch size")
        if L == 0 or S == 0:
            raise ValueError(f"{_OP} sequence length 0: query {_shape(query)}, key {_shape(key)} (batch-first views)")
        if key_padding_mask is not None and _shape(key_padding_mask) != (N, S):
            raise ValueError(f"{_OP} expected key_padding_mask of shape {(N, S) if batched else (S,)}, got "
                             f"{_shape(key_padding_mask) if batched else _shape(key_padding_mask)[1:]}")
        if attn_mask is not None:
            want = (L, S) if attn_mask.ndim == 2 else (N * H, L, S)
            if attn_mask.ndim not in (2, 3) or _shape(attn_mask) != want:
                raise ValueError(f"{_OP} attn_mask of shape {_shape(attn_mask)} should be (L, S) = {(L, S)} or "
                                 f"(N·num_heads, L, S) = {(N * H, L, S)}")
        if is_causal and attn_mask is None:
            raise RuntimeError(f"{_OP} need attn_mask if specifying the is_causal hint (use "
                               "nn.Transformer.generate_square_subsequent_mask(L) for a causal mask)")
        # As torch: with no padding mask and no weights wanted, is_causal is trusted
        # and the kernel masks causally itself; otherwise the given mask is used.
        use_causal = is_causal and key_padding_mask is None and not need_weights
        mask = None if use_causal else _merge_masks(attn_mask, key_padding_mask, N, H, L, S, query.dtype)

        q, k, v = self._project(query, key, value, same_qk, same_kv)
        if self.bias_k is not None and self.bias_v is not None:
            k = cat([k, self.bias_k.expand(N, 1, E)], dim=1)
            v = cat([v, self.bias_v.expand(N, 1, E)], dim=1)
            mask = _pad_key(mask)
        elif self.bias_k is not None or self.bias_v is not None:
            raise ValueError(f"{_OP} bias_k and bias_v must both be set or both be None")
        q, k, v = (t.unflatten(-1, (H, self.head_dim)).transpose(1, 2) for t in (q, k, v))  # (N, H, *, Dh)
        if self.add_zero_attn:
            zero = zeros((N, H, 1, self.head_dim), dtype=k.dtype)
            k, v = cat([k, zero], dim=2), cat([v, zero], dim=2)
            mask = _pad_key(mask)
        dropout_p = self.dropout if self.training else 0.0

        weights = None
        if need_weights:
            scores = (q * (self.head_dim ** -0.5)) @ k.mT
            if mask is not None:
                scores = scores + mask if mask.dtype.is_floating_point else scores.masked_fill(~mask, float("-inf"))
            probs = scores.softmax(-1)
            if dropout_p > 0:
                probs = F.dropout(probs, p=dropout_p)
            out = probs @ v
            weights = probs.mean(1) if average_attn_weights else probs
            if not batched:
                weights = weights.squeeze(0)
        else:
            out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=dropout_p, is_causal=use_causal)
        out = self.out_proj(out.transpose(1, 2).reshape(N, L, E))
        if not batched:
            out = out.squeeze(0)
        elif not self.batch_first:
            out = out.transpose(0, 1)
        return out, weights
