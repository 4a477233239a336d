"""Sequence classification with a bidirectional GRU on a synthetic task made
here: each sequence is 10 to 40 tokens from a vocabulary of 10, and its class
is which of the tokens 1, 2 and 3 occurs most often in it (ties are never
generated). The model has to count over the whole sequence; the padded
batch goes through the GRU with `lengths=`, so padding never reaches the
state. It reaches ≥ 95% test accuracy (printed per epoch).

    python examples/gru_classify.py [--epochs 6]
"""
import argparse

import numpy as np

import glassnet as gn
import glassnet.nn as nn
import glassnet.nn.functional as F

parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int, default=6)
args = parser.parse_args()

VOCAB, MIN_LEN, MAX_LEN = 10, 10, 40


def make_data(n, rng):
    """Padded tokens (n, MAX_LEN), lengths (n,), labels (n,) in {0, 1, 2}."""
    tokens = np.zeros((n, MAX_LEN), dtype=np.int64)
    lengths = rng.integers(MIN_LEN, MAX_LEN + 1, n)
    labels = np.zeros(n, dtype=np.int64)
    for i in range(n):
        while True:
            seq = rng.integers(0, VOCAB, lengths[i])
            counts = np.array([(seq == k).sum() for k in (1, 2, 3)])
            if (counts == counts.max()).sum() == 1:  # a unique winner
                break
        tokens[i, :lengths[i]] = seq
        labels[i] = counts.argmax()
    return tokens, lengths, labels


class Classifier(nn.Module):
    def __init__(self, hidden=64):
        super().__init__()
        self.embed = nn.Embedding(VOCAB, 16)
        self.gru = nn.GRU(16, hidden, batch_first=True, bidirectional=True)
        self.head = nn.Linear(2 * hidden, 3)

    def forward(self, tokens, lengths):
        _, h_n = self.gru(self.embed(tokens), lengths=lengths)  # h_n (2, B, hidden): each direction's last state
        return self.head(gn.cat([h_n[0], h_n[1]], dim=1))


gn.manual_seed(0)
rng = np.random.default_rng(0)
train_x, train_len, train_y = make_data(4000, rng)
test_x, test_len, test_y = make_data(1000, rng)
model = Classifier()
optimizer = gn.optim.Adam(model.parameters(), lr=3e-3)

for epoch in range(1, args.epochs + 1):
    model.train()
    order = rng.permutation(len(train_x))
    for start in range(0, len(order), 50):
        idx = order[start:start + 50]
        loss = F.cross_entropy(model(gn.tensor(train_x[idx]), train_len[idx]), gn.tensor(train_y[idx]))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval()
    with gn.no_grad():
        predicted = model(gn.tensor(test_x), test_len).argmax(1).numpy()
    accuracy = (predicted == test_y).mean()
    print(f"epoch {epoch:2d}  loss {loss.item():.4f}  test accuracy {accuracy:.4f}")
