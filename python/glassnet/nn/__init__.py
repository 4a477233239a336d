"""glassnet.nn: layers, losses and the functional API, named as torch.nn."""
from . import functional
