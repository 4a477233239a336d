"""The recurrent layers' maths: one layer (every direction) is one autograd
node whose forward and backward each loop over time in C++
(src/ops/rnn.cpp): a GEMM for the input projection of all steps, one GEMM
and one fused gate kernel per step, and the weight gradients as a few GEMMs
over all steps at the end. `rnn` stacks layers, with dropout between them.

Not part of torch.nn.functional (torch has no public functional RNN); the
modules in nn/modules/rnn.py call it."""
from ... import _C
from ..._tensor import Tensor
from ...autograd.function import Function
from ...autograd.grad_mode import state
from .dropout import dropout as _dropout

__all__ = []

_MODES = {"RNN_TANH": _C.RnnMode.RNN_TANH, "RNN_RELU": _C.RnnMode.RNN_RELU, "LSTM": _C.RnnMode.LSTM,
          "GRU": _C.RnnMode.GRU}
_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}

# Arguments of RNNLayer.apply before the weights: mode, layout, lengths, x, h0, c0.
_X, _H0, _C0, _W = 3, 4, 5, 6


def _impl(t):
    return None if t is None else t._impl


def _by_direction(weights, bias, proj):
    """torch's flat per-direction order (w_ih, w_hh[, b_ih, b_hh][, w_hr]) →
    one (w_ih, w_hh, b_ih, b_hh, w_hr) tuple per direction, None for absent."""
    per_dir = 2 + 2 * bias + proj
    out = []
    for i in range(0, len(weights), per_dir):
        w = list(weights[i:i + per_dir])
        biases = w[2:4] if bias else [None, None]
        out.append((w[0], w[1], *biases, w[-1] if proj else None))
    return out


class RNNLayer(Function):
    """output (T, B, D·P), h_n (D, B, P)[, c_n (D, B, H)] of one layer over a
    time-major input x (T, B, I); weights in torch's flat order per direction
    (w_ih, w_hh[, b_ih, b_hh][, w_hr]), layout = (bias, proj) says which.
    P = H unless an LSTM projects (w_hr of shape (P, H))."""

    @staticmethod
    def forward(ctx, mode, layout, lengths, x, h0, c0, *weights):
        ws = [tuple(_impl(w) for w in d) for d in _by_direction(weights, *layout)]
        out, h_n, c_n, saved = _C.rnn_layer_forward(_MODES[mode], x._impl, _impl(h0), _impl(c0), ws,
                                                    _impl(lengths))
        ctx.mode, ctx.layout = mode, layout
        ctx.save_for_backward(saved, ws)
        if mode == "LSTM":
            return Tensor._wrap(out), Tensor._wrap(h_n), Tensor._wrap(c_n)
        return Tensor._wrap(out), Tensor._wrap(h_n)

    @staticmethod
    def backward(ctx, grad_output, grad_h_n, grad_c_n=None):
        if state.grad_enabled:
            raise RuntimeError(f"[{ctx.mode.lower()}] double backward (create_graph=True) through a recurrent "
                               "layer is not supported")
        saved, ws = ctx.saved_tensors
        need = ctx.needs_input_grad
        need_w = any(need[_W:])
        gx, gh0, gc0, gws = _C.rnn_layer_backward(
            _MODES[ctx.mode], saved, ws, _impl(grad_output), _impl(grad_h_n), _impl(grad_c_n),
            need[_X], need[_H0], need[_C0], need_w)
        wrap = lambda t: None if t is None else Tensor._wrap(t)  # noqa: E731
        weight_grads = [wrap(g) for gw in gws for g in gw if g is not None] if need_w else [None] * (len(need) - _W)
        return (None, None, None, wrap(gx), wrap(gh0), wrap(gc0), *weight_grads)


def _as_lengths(lengths, batch, op):
    """lengths as an int64 CPU tensor of shape (batch,)."""
    import numpy as np

    from ..._creation import tensor

    if isinstance(lengths, Tensor):
        if lengths.dtype.is_floating_point or lengths.dtype.name == "bool":
            raise TypeError(f"[{op}] lengths must be integers, got a {lengths.dtype} tensor")
        lengths = lengths.long().cpu()
    else:
        arr = np.asarray(lengths)
        if arr.dtype.kind not in "iu":
            raise TypeError(f"[{op}] lengths must be integers, got {arr.dtype} values")
        lengths = tensor(arr.astype(np.int64))
    if lengths.ndim != 1 or lengths.shape[0] != batch:
        raise ValueError(f"[{op}] expected one length per batch element, shape ({batch},), got "
                         f"{tuple(lengths.shape)}")
    return lengths.contiguous()


def rnn(mode, input, hx, weights, *, num_layers, bias, dropout, training, bidirectional, lengths=None,
        proj=False):
    """Stacked recurrent layers over a time-major input (T, B, I).

    hx: None, h0 (L·D, B, P), or for LSTM a pair (h0, c0 (L·D, B, H)).
    weights: torch's flat order, per layer and direction (w_ih, w_hh[, b_ih,
    b_hh][, w_hr] — w_hr when proj). Returns output (T, B, D·P) and h_n (or
    (h_n, c_n)); P = H without a projection."""
    from ..._ops.index import cat

    D = 2 if bidirectional else 1
    per_dir = 2 + 2 * bool(bias) + bool(proj)
    h0_all, c0_all = (hx if hx is not None else (None, None)) if mode == "LSTM" else (hx, None)
    x = input
    h_ns, c_ns = [], []
    for layer in range(num_layers):
        ws = weights[layer * D * per_dir:(layer + 1) * D * per_dir]
        h0 = None if h0_all is None else (h0_all if num_layers == 1 else h0_all[layer * D:(layer + 1) * D])
        c0 = None if c0_all is None else (c0_all if num_layers == 1 else c0_all[layer * D:(layer + 1) * D])
        outs = RNNLayer.apply(mode, (bool(bias), bool(proj)), lengths, x, h0, c0, *ws)
        x = outs[0]
        h_ns.append(outs[1])
        if mode == "LSTM":
            c_ns.append(outs[2])
        if dropout > 0 and training and layer + 1 < num_layers:
            x = _dropout(x, dropout, True)
    h_n = h_ns[0] if num_layers == 1 else cat(h_ns, 0)
    if mode == "LSTM":
        return x, (h_n, c_ns[0] if num_layers == 1 else cat(c_ns, 0))
    return x, h_n
