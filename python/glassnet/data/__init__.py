"""glassnet.data: datasets, the DataLoader and augmentation transforms."""
from . import transforms
from .dataloader import DataLoader, default_collate
from .dataset import ConcatDataset, Dataset, Subset, TensorDataset, random_split
from .datasets import MNIST, FashionMNIST, load_digits, read_idx

__all__ = ["ConcatDataset", "DataLoader", "Dataset", "FashionMNIST", "MNIST", "Subset", "TensorDataset",
           "default_collate", "load_digits", "random_split", "read_idx", "transforms"]
