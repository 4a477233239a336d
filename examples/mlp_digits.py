"""Train a 64-256-128-10 MLP on scikit-learn's 8x8 digits with a plain
training loop: the same code as in PyTorch, with `gn` for `torch`.

    python examples/mlp_digits.py
"""
import numpy as np
from sklearn.datasets import load_digits

import glassnet as gn
import glassnet.nn as nn
import glassnet.nn.functional as F

gn.manual_seed(0)
digits = load_digits()
x = gn.tensor(digits.data / 16.0, dtype=gn.float32)
y = gn.tensor(digits.target)
order = np.random.default_rng(0).permutation(len(x))
train, test = gn.tensor(order[:1437]), gn.tensor(order[1437:])

model = nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10))
optimizer = gn.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)

for epoch in range(20):
    model.train()
    shuffled = train[gn.randperm(len(train))]
    for start in range(0, len(shuffled), 32):
        batch = shuffled[start:start + 32]
        loss = F.cross_entropy(model(x[batch]), y[batch])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval()
    with gn.no_grad():
        accuracy = (model(x[test]).argmax(1) == y[test]).float().mean().item()
    print(f"epoch {epoch + 1:2d}  loss {loss.item():.4f}  test accuracy {accuracy:.4f}")
