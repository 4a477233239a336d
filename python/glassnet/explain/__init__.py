"""glassnet.explain: see inside a network.

- record(model, layers): capture layers' outputs and their gradients by name
  (and running statistics of them, cheaply enough to leave on while training).
- Attributions: saliency, integrated_gradients, grad_cam, occlusion.
- Feature visualisation: activation_maximization, top_k_inputs, filters.
- Network health: weight_stats, activation_stats, dead_relu_fraction.

Every function runs the model in eval mode and restores its mode; none of
them touches the parameters' ``.grad``. Images and maps come back as numpy
arrays; attributions as glassnet tensors (``np.asarray`` converts them).
"""
from .grad_cam import GradCAM, grad_cam
from .integrated_gradients import Attribution, integrated_gradients
from .record import LayerStats, Recording, record
from .running import RunningStats, histogram
from .saliency import saliency

__all__ = ["Attribution", "GradCAM", "LayerStats", "Recording", "RunningStats", "grad_cam", "histogram",
           "integrated_gradients", "record", "saliency"]
