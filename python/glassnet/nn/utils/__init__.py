"""glassnet.nn.utils: gradient clipping and flat parameter vectors, as torch.nn.utils, and
L1/L2 penalties for a loss."""
from .clip_grad import clip_grad_norm_, clip_grad_value_, clip_grads_with_norm_, get_total_norm
from .convert_parameters import parameters_to_vector, vector_to_parameters
from .penalty import l1_penalty, l2_penalty

__all__ = ["clip_grad_norm_", "clip_grad_value_", "clip_grads_with_norm_", "get_total_norm",
           "parameters_to_vector", "vector_to_parameters", "l1_penalty", "l2_penalty"]
