"""glassnet.train: a Keras-style training loop (fit / evaluate / predict),
callbacks, metrics and History."""
from .callbacks import (CSVLogger, Callback, EarlyStopping, LRSchedulerCallback, ModelCheckpoint, ProgressBar,
                        TerminateOnNaN)
from .fit import Trainer, evaluate, fit, predict
from .history import History
from .metrics import Accuracy, ConfusionMatrix, Metric, TopKAccuracy, confusion_matrix, get_metric

__all__ = ["Accuracy", "CSVLogger", "Callback", "ConfusionMatrix", "EarlyStopping", "History",
           "LRSchedulerCallback", "Metric", "ModelCheckpoint", "ProgressBar", "TerminateOnNaN", "TopKAccuracy",
           "Trainer", "confusion_matrix", "evaluate", "fit", "get_metric", "predict"]
