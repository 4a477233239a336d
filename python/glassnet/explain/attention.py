"""attention_maps: what every attention head of a model looks at for one input.

Each nn.MultiheadAttention in the model gets a forward pre-hook that asks it
for per-head weights (need_weights=True, average_attn_weights=False) and a
forward hook that records them and hands its caller the output it asked for,
so the model computes exactly what it would without the hooks. As every
glassnet.explain function, it runs the model in eval mode (no dropout: the
maps are deterministic); mode, hooks and grad mode are restored even when
the forward raises."""
import inspect

from ..autograd.grad_mode import no_grad
from ..nn.modules.attention import MultiheadAttention
from ..nn.modules.module import Module
from ._common import eval_mode

__all__ = ["attention_maps"]

_PARAMS = list(inspect.signature(MultiheadAttention.forward).parameters)[1:]  # query, key, value, ...


def attention_maps(model, x, **forward_kwargs):
    """Runs model(x, **forward_kwargs) in eval mode without gradients and
    returns {module name: attention weights (N, heads, L, S)} for every
    MultiheadAttention inside it (the model itself included, as name "").
    Each row of a map sums to 1 over the S keys (masked keys get 0). A
    module called more than once in the forward adds "name:1", "name:2", …
    for the later calls. Unbatched inputs give N = 1."""
    if not isinstance(model, Module):
        raise TypeError(f"[attention_maps] expected an nn.Module, got {type(model).__name__}")
    attention = [(name, m) for name, m in model.named_modules() if isinstance(m, MultiheadAttention)]
    if not attention:
        raise ValueError(f"[attention_maps] {type(model).__name__} holds no nn.MultiheadAttention layer")
    maps = {}
    handles = []
    requests = {}  # id(module) -> (need_weights, average_attn_weights) its caller asked for

    def pre_hook(module, args, kwargs):
        # Name every argument, remember what the caller asked for, then ask for per-head weights.
        named = dict(zip(_PARAMS, args))
        named.update(kwargs)
        requests[id(module)] = (named.get("need_weights", True), named.get("average_attn_weights", True))
        named["need_weights"], named["average_attn_weights"] = True, False
        return (), named

    def make_hook(name):
        def hook(module, args, kwargs, output):
            need, average = requests.pop(id(module), (True, True))
            out, weights = output
            w = weights.detach()
            key, i = name, 0
            while key in maps:
                i += 1
                key = f"{name}:{i}"
            maps[key] = w if w.ndim == 4 else w.unsqueeze(0)
            if not need:
                return out, None
            return out, (weights.mean(-3) if average else weights)
        return hook

    try:
        for name, module in attention:
            handles.append(module.register_forward_pre_hook(pre_hook, with_kwargs=True))
            handles.append(module.register_forward_hook(make_hook(name), with_kwargs=True))
        with eval_mode(model), no_grad():
            model(x, **forward_kwargs)
    finally:
        for h in handles:
            h.remove()
    return maps
