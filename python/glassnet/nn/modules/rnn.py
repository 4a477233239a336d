"""Recurrent layers as torch.nn: RNN (tanh/relu), LSTM, GRU and their cells,
with torch's parameter names, shapes, initialisation and gate order.

Each layer runs as one autograd node whose forward and backward loop over
time in C++ (nn/_functional/rnn.py, src/ops/rnn.cpp). glassnet adds a
keyword-only `lengths` argument to RNN/LSTM/GRU.forward: variable-length
batches without packing, giving what torch gives on a PackedSequence."""
import math
import numbers
import warnings

from ..._creation import empty
from ..._tensor import Tensor
from .. import init
from .._functional.rnn import _as_lengths, rnn as _rnn
from ..parameter import Parameter
from .module import Module

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _check_sizes(input_size, hidden_size, dropout=0.0, num_layers=1):
    if not isinstance(dropout, numbers.Number) or isinstance(dropout, bool) or not 0 <= dropout <= 1:
        raise ValueError("dropout should be a number in range [0, 1] representing the probability of an element "
                         "being zeroed")
    for name, value in (("input_size", input_size), ("hidden_size", hidden_size), ("num_layers", num_layers)):
        if not isinstance(value, int) or isinstance(value, bool):
            raise TypeError(f"{name} should be of type int, got: {type(value).__name__}")
    if hidden_size <= 0:
        raise ValueError("hidden_size must be greater than zero")
    if num_layers <= 0:
        raise ValueError("num_layers must be greater than zero")
    if input_size < 0:
        raise ValueError("input_size must be non-negative")


def _shape(t):
    return tuple(t.shape)


class RNNBase(Module):
    """The stacked, optionally bidirectional recurrent layer behind RNN, LSTM
    and GRU. Parameters per layer k and direction (suffix '_reverse' for the
    second): weight_ih_l{k} (G·H, in), weight_hh_l{k} (G·H, H), bias_ih_l{k},
    bias_hh_l{k} (G·H), G = 1, 4, 3 gates; all ~ U(-1/√H, 1/√H) as torch."""

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__()
        if mode not in _GATES:
            raise ValueError(f"Unrecognized RNN mode: {mode}")
        _check_sizes(input_size, hidden_size, dropout, num_layers)
        if not isinstance(proj_size, int) or isinstance(proj_size, bool) or proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if proj_size and mode != "LSTM":
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if dropout > 0 and num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so non-zero dropout "
                          f"expects num_layers greater than 1, but got dropout={dropout} and "
                          f"num_layers={num_layers}")
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        num_directions = 2 if bidirectional else 1
        gate_size = _GATES[mode] * hidden_size
        real_hidden_size = proj_size if proj_size > 0 else hidden_size
        self._flat_weights_names = []
        self._all_weights = []
        for layer in range(num_layers):
            for direction in range(num_directions):
                layer_input = input_size if layer == 0 else real_hidden_size * num_directions
                suffix = f"_l{layer}" + ("_reverse" if direction == 1 else "")
                shapes = [("weight_ih", (gate_size, layer_input)), ("weight_hh", (gate_size, real_hidden_size))]
                if bias:
                    shapes += [("bias_ih", (gate_size,)), ("bias_hh", (gate_size,))]
                if proj_size > 0:
                    shapes += [("weight_hr", (proj_size, hidden_size))]
                names = []
                for stem, shape in shapes:
                    setattr(self, stem + suffix, Parameter(empty(shape, dtype=dtype, device=device)))
                    names.append(stem + suffix)
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    @property
    def _flat_weights(self):
        return [getattr(self, name) for name in self._flat_weights_names]

    @property
    def all_weights(self):
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    def flatten_parameters(self):
        """Kept for torch compatibility: glassnet's weights are always usable as they are."""

    def _check_hidden(self, h, expected, what):
        if not isinstance(h, Tensor):
            raise TypeError(f"[{self.mode}] expected {what} to be a Tensor, got {type(h).__name__}")
        if _shape(h) != expected:
            raise ValueError(f"[{self.mode}] Expected hidden size {expected} for {what}, got {_shape(h)}")

    def forward(self, input, hx=None, *, lengths=None):
        """input (T, B, in) or (B, T, in) with batch_first, or unbatched (T, in).

        hx: h0 (num_layers·D, B, H) — for LSTM a pair (h0, c0) — or None
        for zeros. lengths (glassnet's own, keyword-only): one int per batch
        element; steps at or past a sequence's length leave its state alone
        and give zero output, so h_n is each sequence's state after its own
        last step and the reverse direction starts there: the numbers torch
        gives on pack_padded_sequence input (output padded to T, not to
        max(lengths)). Returns (output, h_n) or for LSTM (output, (h_n, c_n))."""
        mode = self.mode
        if not isinstance(input, Tensor):
            raise TypeError(f"[{mode}] expected input to be a Tensor, got {type(input).__name__}")
        if input.dim() not in (2, 3):
            raise ValueError(f"[{mode}] Expected input to be 2D or 3D, got {input.dim()}D tensor instead "
                             f"(shape {_shape(input)})")
        batched = input.dim() == 3
        params = self._flat_weights
        if input.dtype != params[0].dtype:
            raise ValueError(f"[{mode}] input must have the type {params[0].dtype}, got type {input.dtype}")
        if input.shape[-1] != self.input_size:
            raise ValueError(f"[{mode}] input.size(-1) must be equal to input_size. Expected {self.input_size}, "
                             f"got {input.shape[-1]} (input shape {_shape(input)})")
        x = input if not self.batch_first or not batched else input.transpose(0, 1)
        if not batched:
            x = x.unsqueeze(1)
        T, B = x.shape[0], x.shape[1]
        if T == 0:
            raise ValueError(f"[{mode}] input of shape {_shape(input)} has sequence length 0")
        D = 2 if self.bidirectional else 1
        batch = (B,) if batched else ()
        sizes = (self.proj_size or self.hidden_size, self.hidden_size)
        if hx is not None:
            states = hx if mode == "LSTM" else (hx,)
            if mode == "LSTM" and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
                raise TypeError(f"[{mode}] expected hx to be a tuple (h0, c0), got {type(hx).__name__}")
            for s, what, size in zip(states, ("h0", "c0"), sizes):
                self._check_hidden(s, (self.num_layers * D, *batch, size), what)
                if s.dtype != input.dtype:
                    raise ValueError(f"[{mode}] {what} must have the type {input.dtype}, got type {s.dtype}")
            if not batched:
                states = tuple(s.unsqueeze(1) for s in states)
            hx = states if mode == "LSTM" else states[0]
        if lengths is not None:
            lengths = _as_lengths(lengths, B, mode)
        output, h = _rnn(mode, x, hx, params, num_layers=self.num_layers, bias=self.bias, dropout=self.dropout,
                         training=self.training, bidirectional=self.bidirectional, lengths=lengths,
                         proj=self.proj_size > 0)
        if not batched:
            output = output.squeeze(1)
            h = tuple(s.squeeze(1) for s in h) if mode == "LSTM" else h.squeeze(1)
        elif self.batch_first:
            output = output.transpose(0, 1)
        return output, h

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s


class RNN(RNNBase):
    """Elman RNN: h_t = tanh(x_t W_ihᵀ + b_ih + h_{t-1} W_hhᵀ + b_hh), or relu."""

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, device=None, dtype=None):
        if nonlinearity == "tanh":
            mode = "RNN_TANH"
        elif nonlinearity == "relu":
            mode = "RNN_RELU"
        else:
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")
        super().__init__(mode, input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         device=device, dtype=dtype)
        self.nonlinearity = nonlinearity

    def extra_repr(self):
        s = super().extra_repr()
        return s + (f", nonlinearity={self.nonlinearity}" if self.nonlinearity != "tanh" else "")


class LSTM(RNNBase):
    """Long short-term memory, gates (i, f, g, o) in the rows of each weight:
    c_t = f·c_{t-1} + i·g, h_t = o·tanh(c_t). forward returns (output, (h_n, c_n)).
    proj_size > 0 projects h_t = W_hr·(o·tanh(c_t)) to proj_size units
    (weight_hr_l{k}, shape (proj_size, hidden_size)), as torch."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         proj_size, device=device, dtype=dtype)


class GRU(RNNBase):
    """Gated recurrent unit, gates (r, z, n): n = tanh(W_in x + b_in + r·(W_hn h + b_hn)),
    h_t = (1 - z)·n + z·h_{t-1}."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, device=None, dtype=None):
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         device=device, dtype=dtype)


class RNNCellBase(Module):
    """One time step: weight_ih (G·H, in), weight_hh (G·H, H), bias_ih, bias_hh,
    all ~ U(-1/√H, 1/√H). It runs through the same C++ kernels as the layers,
    as a sequence of length 1."""

    _mode = None

    def __init__(self, input_size, hidden_size, bias, num_chunks, device=None, dtype=None):
        super().__init__()
        _check_sizes(input_size, hidden_size)
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        self.weight_ih = Parameter(empty((num_chunks * hidden_size, input_size), dtype=dtype, device=device))
        self.weight_hh = Parameter(empty((num_chunks * hidden_size, hidden_size), dtype=dtype, device=device))
        if bias:
            self.bias_ih = Parameter(empty(num_chunks * hidden_size, dtype=dtype, device=device))
            self.bias_hh = Parameter(empty(num_chunks * hidden_size, dtype=dtype, device=device))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s

    def _step(self, input, states):
        name = type(self).__name__
        if not isinstance(input, Tensor):
            raise TypeError(f"[{name}] expected input to be a Tensor, got {type(input).__name__}")
        if input.dim() not in (1, 2):
            raise ValueError(f"[{name}] Expected input to be 1D or 2D, got {input.dim()}D instead "
                             f"(shape {_shape(input)})")
        if input.shape[-1] != self.input_size:
            raise ValueError(f"[{name}] input has inconsistent input_size: got {input.shape[-1]} expected "
                             f"{self.input_size} (input shape {_shape(input)})")
        if input.dtype != self.weight_ih.dtype:
            raise ValueError(f"[{name}] input must have the type {self.weight_ih.dtype}, got type {input.dtype}")
        batched = input.dim() == 2
        x = input.unsqueeze(0) if batched else input.reshape(1, 1, -1)
        B = x.shape[1]
        expected = (B, self.hidden_size) if batched else (self.hidden_size,)
        h0 = []
        for s, what in zip(states, ("h", "c")):
            if s is None:
                h0.append(None)
                continue
            if not isinstance(s, Tensor):
                raise TypeError(f"[{name}] expected the {what} state to be a Tensor, got {type(s).__name__}")
            if _shape(s) != expected:
                raise ValueError(f"[{name}] Expected hidden size {expected} for {what}, got {_shape(s)} "
                                 f"(input shape {_shape(input)})")
            if s.dtype != input.dtype:
                raise ValueError(f"[{name}] {what} must have the type {input.dtype}, got type {s.dtype}")
            h0.append(s.reshape(1, B, self.hidden_size))
        params = [self.weight_ih, self.weight_hh] + ([self.bias_ih, self.bias_hh] if self.bias else [])
        hx = tuple(h0) if self._mode == "LSTM" else h0[0]
        _, h = _rnn(self._mode, x, hx, params, num_layers=1, bias=self.bias, dropout=0.0, training=False,
                    bidirectional=False)
        shape = (B, self.hidden_size) if batched else (self.hidden_size,)
        if self._mode == "LSTM":
            return h[0].reshape(shape), h[1].reshape(shape)
        return h.reshape(shape)


class RNNCell(RNNCellBase):
    """h' = tanh(x W_ihᵀ + b_ih + h W_hhᵀ + b_hh), or relu."""

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None, dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity: {nonlinearity}")
        super().__init__(input_size, hidden_size, bias, num_chunks=1, device=device, dtype=dtype)
        self.nonlinearity = nonlinearity
        self._mode = "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"

    def forward(self, input, hx=None):
        return self._step(input, (hx,))


class LSTMCell(RNNCellBase):
    """(h', c') from input and hx = (h, c) (zeros when None); gates (i, f, g, o)."""

    _mode = "LSTM"

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=4, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        if hx is not None and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
            raise TypeError(f"[LSTMCell] expected hx to be a tuple (h, c), got {type(hx).__name__}")
        return self._step(input, (None, None) if hx is None else tuple(hx))


class GRUCell(RNNCellBase):
    """h' from input and h (zeros when None); gates (r, z, n)."""

    _mode = "GRU"

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=3, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        return self._step(input, (hx,))
