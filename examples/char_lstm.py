"""A character-level language model: Embedding → LSTM → Linear, trained on
the opening of Alice's Adventures in Wonderland (examples/data, public
domain) to predict each next character; prints the loss falling and a
sample drawn from the trained model one character at a time, carrying the
LSTM's (h, c) state from step to step.

    python examples/char_lstm.py [--steps 400]
"""
import argparse
from pathlib import Path

import numpy as np

import glassnet as gn
import glassnet.nn as nn
import glassnet.nn.functional as F

parser = argparse.ArgumentParser()
parser.add_argument("--steps", type=int, default=400)
parser.add_argument("--seq", type=int, default=64)
parser.add_argument("--batch", type=int, default=32)
args = parser.parse_args()

text = (Path(__file__).parent / "data" / "alice_ch1.txt").read_text(encoding="utf-8")
chars = sorted(set(text))
index = {c: i for i, c in enumerate(chars)}
data = np.array([index[c] for c in text], dtype=np.int64)
print(f"{len(text)} characters, vocabulary of {len(chars)}")


class CharLSTM(nn.Module):
    def __init__(self, vocab, embed=32, hidden=128, layers=2):
        super().__init__()
        self.embed = nn.Embedding(vocab, embed)
        self.lstm = nn.LSTM(embed, hidden, num_layers=layers, batch_first=True, dropout=0.1)
        self.head = nn.Linear(hidden, vocab)

    def forward(self, x, state=None):
        out, state = self.lstm(self.embed(x), state)
        return self.head(out), state


gn.manual_seed(0)
rng = np.random.default_rng(0)
model = CharLSTM(len(chars))
optimizer = gn.optim.Adam(model.parameters(), lr=3e-3)

first = None
for step in range(1, args.steps + 1):
    starts = rng.integers(0, len(data) - args.seq - 1, args.batch)
    window = np.stack([data[s:s + args.seq + 1] for s in starts])
    x, y = gn.tensor(window[:, :-1]), gn.tensor(window[:, 1:])
    logits, _ = model(x)
    loss = F.cross_entropy(logits.reshape(-1, len(chars)), y.reshape(-1))
    optimizer.zero_grad()
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    first = loss.item() if first is None else first
    if step % 25 == 0 or step == 1:
        print(f"step {step:4d}  loss {loss.item():.4f}  (bits per character {loss.item() / np.log(2):.2f})")
print(f"loss fell from {first:.4f} to {loss.item():.4f}")

# Sampling: feed one character at a time, carrying (h, c).
model.eval()
prompt = "Alice "
out = list(prompt)
with gn.no_grad():
    logits, state = model(gn.tensor([[index[c] for c in prompt]]))
    for _ in range(300):
        p = F.softmax(logits[0, -1] / 0.7, dim=0).numpy().astype(np.float64)
        c = rng.choice(len(chars), p=p / p.sum())
        out.append(chars[c])
        logits, state = model(gn.tensor([[c]]), state)
print("sample:")
print("".join(out))
