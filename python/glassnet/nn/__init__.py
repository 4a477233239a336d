"""glassnet.nn: layers, losses and the functional API, named as torch.nn."""
from . import functional
from . import init
from .parameter import Parameter
from .modules import *  # noqa: F401,F403
from .modules import (ELU, GELU, SELU, BatchNorm1d, BatchNorm2d, BatchNorm3d, BCELoss, BCEWithLogitsLoss, Bilinear,
                      CrossEntropyLoss, Dropout, Embedding, Flatten, GroupNorm, Hardtanh, HuberLoss, Identity,
                      KLDivLoss, L1Loss, LayerNorm, LeakyReLU, Linear, LogSoftmax, Module, ModuleDict, ModuleList,
                      MSELoss, NLLLoss, ReLU, ReLU6, Sequential, Sigmoid, SiLU, SmoothL1Loss, Softmax, Softplus,
                      Tanh, Unflatten)
from . import utils
