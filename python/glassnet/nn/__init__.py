"""glassnet.nn: layers, losses and the functional API, named as torch.nn."""
from . import functional
from . import init
from .parameter import Parameter
from .modules import *  # noqa: F401,F403  Module, Linear, ReLU, ... (modules.__all__)
from . import utils
