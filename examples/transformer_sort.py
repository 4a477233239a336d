"""A small Transformer encoder learns to sort sequences of digits.

    python examples/transformer_sort.py [--steps 1500] [--length 10] [--threads 2]

Input: LENGTH random digits 0-9; target: the same digits in ascending order,
one prediction per position. The model is token embedding + sinusoidal
positional encoding (Vaswani et al., 2017, section 3.5) → a 2-layer
nn.TransformerEncoder (batch_first, pre-norm) → a linear read-out per
position, trained with Adam on fresh random batches. Held-out sequences are
drawn first and kept out of every training batch; the script prints their
token accuracy as it trains and stops once it is at least 99%.

Why an encoder can sort: attending uniformly to all positions gives each
token the histogram of the digits; the position's encoding then says which
rank to read off it (the i-th smallest digit is the first d with more than i
digits ≤ d), a function the feed-forward blocks learn."""
import argparse
import math
import time

import numpy as np

import glassnet as gn
import glassnet.nn as nn
import glassnet.nn.functional as F

VOCAB = 10


class PositionalEncoding(nn.Module):
    """Adds PE[pos, 2i] = sin(pos / 10000^(2i/d)), PE[pos, 2i+1] = cos(...) to (N, L, d) inputs."""

    def __init__(self, d_model, max_len=512):
        super().__init__()
        pos = np.arange(max_len)[:, None]
        freq = np.exp(-math.log(10000.0) * np.arange(0, d_model, 2) / d_model)
        pe = np.zeros((max_len, d_model), dtype=np.float32)
        pe[:, 0::2] = np.sin(pos * freq)
        pe[:, 1::2] = np.cos(pos * freq)
        self.register_buffer("pe", gn.tensor(pe))

    def forward(self, x):
        return x + self.pe[: x.shape[1]]


class Sorter(nn.Module):
    def __init__(self, d_model=64, nhead=4, layers=2, dim_feedforward=256):
        super().__init__()
        self.embed = nn.Embedding(VOCAB, d_model)
        self.pos = PositionalEncoding(d_model)
        layer = nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout=0.0, batch_first=True,
                                           norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers, norm=nn.LayerNorm(d_model))
        self.out = nn.Linear(d_model, VOCAB)
        self.scale = math.sqrt(d_model)

    def forward(self, tokens):  # (N, L) int64 -> (N, L, VOCAB) logits
        return self.out(self.encoder(self.pos(self.embed(tokens) * self.scale)))


def accuracy(model, x, y):
    model.eval()
    with gn.no_grad():
        pred = model(gn.tensor(x)).argmax(-1).numpy()
    model.train()
    return float((pred == y).mean()), float((pred == y).all(1).mean())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=3000, help="most training steps")
    parser.add_argument("--length", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--target", type=float, default=0.99, help="stop once held-out token accuracy reaches it")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.threads:
        gn.set_num_threads(args.threads)
    gn.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)

    x_test = rng.integers(0, VOCAB, (2000, args.length))
    y_test = np.sort(x_test, axis=1)
    held_out = {row.tobytes() for row in x_test}

    model = Sorter()
    print(f"{sum(p.numel() for p in model.parameters()):,} parameters; sorting {args.length} digits")
    opt = gn.optim.Adam(model.parameters(), lr=args.lr)
    sched = gn.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=args.steps, pct_start=0.1)
    start = time.perf_counter()
    tok_acc = seq_acc = 0.0
    for step in range(1, args.steps + 1):
        x = rng.integers(0, VOCAB, (args.batch_size, args.length))
        x = x[[row.tobytes() not in held_out for row in x]]  # never train on a held-out sequence
        logits = model(gn.tensor(x))
        loss = F.cross_entropy(logits.reshape(-1, VOCAB), gn.tensor(np.sort(x, axis=1).reshape(-1)))
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if step % 100 == 0 or step == args.steps:
            tok_acc, seq_acc = accuracy(model, x_test, y_test)
            print(f"step {step:5d}  loss {loss.item():.4f}  held-out token accuracy {tok_acc:.4f}  "
                  f"whole sequences {seq_acc:.4f}  ({time.perf_counter() - start:.0f} s)", flush=True)
            if tok_acc >= args.target:
                break
    print(f"held-out token accuracy {tok_acc:.4f} after {step} steps, {time.perf_counter() - start:.1f} s on "
          f"{gn.get_num_threads()} thread(s)")
    sample = x_test[:1]
    with gn.no_grad():
        model.eval()
        print("input ", sample[0].tolist())
        print("output", model(gn.tensor(sample)).argmax(-1).numpy()[0].tolist())
    return tok_acc


if __name__ == "__main__":
    main()
