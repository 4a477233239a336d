"""glassnet.explain: see inside a network.

- record(model, layers): capture layers' outputs and their gradients by name
  (and running statistics of them, cheaply enough to leave on while training).
- Attributions: saliency, integrated_gradients, grad_cam, occlusion.
- Feature visualisation: activation_maximization, top_k_inputs,
  unit_activations, filters.
- Attention: attention_maps, every head's weights by layer name.
- Network health: weight_stats, tensor_stats, activation_stats,
  dead_relu_fraction (and glassnet.train.callbacks.HealthMonitor during fit).

Every function runs the model in eval mode and restores its mode; none of
them touches the parameters' ``.grad``. Images and maps come back as numpy
arrays; attributions as glassnet tensors (``np.asarray`` converts them).
"""
from .attention import attention_maps
from .features import Visualisation, activation_maximization, filters
from .grad_cam import GradCAM, grad_cam
from .integrated_gradients import Attribution, integrated_gradients
from .occlusion import occlusion
from .record import LayerStats, Recording, record
from .resize import resize_bilinear
from .running import RunningStats, histogram
from .saliency import saliency
from .stats import activation_stats, dead_relu_fraction, tensor_stats, weight_stats
from .units import top_k_inputs, unit_activations

__all__ = ["Attribution", "GradCAM", "LayerStats", "Recording", "RunningStats", "Visualisation",
           "activation_maximization", "activation_stats", "attention_maps", "dead_relu_fraction", "filters", "grad_cam",
           "histogram", "integrated_gradients", "occlusion", "record", "resize_bilinear", "saliency",
           "tensor_stats", "top_k_inputs", "unit_activations", "weight_stats"]
