"""Callbacks for glassnet.train.fit, one per file, Keras-style."""
from .base import Callback
from .csv_logger import CSVLogger
from .early_stopping import EarlyStopping
from .health import HealthMonitor
from .lr_scheduler import LRSchedulerCallback
from .model_checkpoint import ModelCheckpoint
from .progress import ProgressBar
from .terminate_on_nan import TerminateOnNaN

__all__ = ["CSVLogger", "Callback", "EarlyStopping", "LRSchedulerCallback", "ModelCheckpoint", "ProgressBar",
           "TerminateOnNaN"]
