"""A BERT encoder (Devlin et al. 2019, "BERT: Pre-training of Deep
Bidirectional Transformers") built from glassnet.nn, shaped so that its
state_dict names are those of Hugging Face's ``BertModel``:

    embeddings.{word,position,token_type}_embeddings.weight, embeddings.LayerNorm.*
    encoder.layer.N.attention.self.{query,key,value}.*
    encoder.layer.N.attention.output.{dense,LayerNorm}.*
    encoder.layer.N.intermediate.dense.*, encoder.layer.N.output.{dense,LayerNorm}.*
    pooler.dense.*

so a checkpoint written by PyTorch (all-MiniLM-L6-v2's model.safetensors)
loads with ``model.load_state_dict(gn.load(path))`` and strict key checking.

Each layer is post-norm: x = LayerNorm(x + Attention(x)), then
x = LayerNorm(x + W2 GELU(W1 x)). Attention is glassnet's fused
F.scaled_dot_product_attention (or, when the weights are asked for, matmul and
softmax); padded keys get the most negative float added to their scores, as
BertModel does, so they receive exactly zero weight.
"""
import json
import math
import os
from dataclasses import dataclass, fields

import numpy as np

import glassnet as gn
import glassnet.nn as nn
import glassnet.nn.functional as F


@dataclass
class BertConfig:
    """The fields of a Hugging Face config.json that the encoder reads."""

    vocab_size: int = 30522
    hidden_size: int = 384
    num_hidden_layers: int = 6
    num_attention_heads: int = 12
    intermediate_size: int = 1536
    hidden_act: str = "gelu"
    hidden_dropout_prob: float = 0.1
    attention_probs_dropout_prob: float = 0.1
    max_position_embeddings: int = 512
    type_vocab_size: int = 2
    layer_norm_eps: float = 1e-12
    pad_token_id: int = 0
    position_embedding_type: str = "absolute"

    @classmethod
    def from_json(cls, path):
        with open(path) as f:
            raw = json.load(f)
        config = cls(**{f.name: raw[f.name] for f in fields(cls) if f.name in raw})
        # Refuse what this encoder does not implement instead of computing something else.
        if config.hidden_act != "gelu":
            raise ValueError(f"[BertConfig] hidden_act {config.hidden_act!r} is not supported (only exact 'gelu')")
        if config.position_embedding_type != "absolute":
            raise ValueError(f"[BertConfig] position_embedding_type {config.position_embedding_type!r} is not "
                             "supported (only 'absolute')")
        return config


class BertEmbeddings(nn.Module):
    """word + position + token type embeddings, then LayerNorm and dropout."""

    def __init__(self, config):
        super().__init__()
        self.word_embeddings = nn.Embedding(config.vocab_size, config.hidden_size, padding_idx=config.pad_token_id)
        self.position_embeddings = nn.Embedding(config.max_position_embeddings, config.hidden_size)
        self.token_type_embeddings = nn.Embedding(config.type_vocab_size, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)
        # Persistent, as in the BertModel that wrote all-MiniLM-L6-v2: the file holds it, so strict loading
        # checks it instead of skipping it.
        self.register_buffer("position_ids", gn.arange(config.max_position_embeddings).unsqueeze(0))

    def forward(self, input_ids, token_type_ids=None):
        batch, length = input_ids.shape
        if length > self.position_ids.shape[1]:
            raise ValueError(f"[BertEmbeddings] sequence length {length} exceeds max_position_embeddings "
                             f"{self.position_ids.shape[1]}")
        if token_type_ids is None:
            token_type_ids = gn.zeros((batch, length), dtype=gn.int64)
        x = (self.word_embeddings(input_ids) + self.position_embeddings(self.position_ids[:, :length])
             + self.token_type_embeddings(token_type_ids))
        return self.dropout(self.LayerNorm(x))


class BertSelfAttention(nn.Module):
    """Multi-head scaled dot-product attention over the sequence; returns the
    heads' outputs concatenated (batch, length, hidden) and, on request, the
    attention weights (batch, heads, length, length)."""

    def __init__(self, config):
        super().__init__()
        if config.hidden_size % config.num_attention_heads != 0:
            raise ValueError(f"[BertSelfAttention] hidden_size {config.hidden_size} is not a multiple of "
                             f"num_attention_heads {config.num_attention_heads}")
        self.num_heads = config.num_attention_heads
        self.head_dim = config.hidden_size // config.num_attention_heads
        self.query = nn.Linear(config.hidden_size, config.hidden_size)
        self.key = nn.Linear(config.hidden_size, config.hidden_size)
        self.value = nn.Linear(config.hidden_size, config.hidden_size)
        self.dropout = nn.Dropout(config.attention_probs_dropout_prob)

    def _heads(self, x):
        # (B, L, H) -> (B, heads, L, head_dim)
        batch, length, _ = x.shape
        return x.view(batch, length, self.num_heads, self.head_dim).transpose(1, 2)

    def forward(self, hidden, additive_mask, need_weights=False):
        batch, length, hidden_size = hidden.shape
        q, k, v = (self._heads(proj(hidden)) for proj in (self.query, self.key, self.value))
        if need_weights:  # the weights are asked for: the (L x L) scores must exist
            scores = (q * (1.0 / math.sqrt(self.head_dim))) @ k.transpose(-1, -2) + additive_mask
            weights = F.softmax(scores, dim=-1)
            context = self.dropout(weights) @ v
        else:  # one fused kernel, a block of scores at a time; mask (B, 1, 1, L) broadcasts
            dropout_p = self.dropout.p if self.training else 0.0
            context, weights = F.scaled_dot_product_attention(q, k, v, attn_mask=additive_mask, dropout_p=dropout_p), None
        # (B, heads, L, head_dim) -> (B, L, H)
        return context.transpose(1, 2).reshape(batch, length, hidden_size), weights


class BertSelfOutput(nn.Module):
    """Projection of the attention output, residual, LayerNorm."""

    def __init__(self, config):
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(self, context, residual):
        return self.LayerNorm(self.dropout(self.dense(context)) + residual)


class BertAttention(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.self = BertSelfAttention(config)
        self.output = BertSelfOutput(config)

    def forward(self, hidden, additive_mask, need_weights=False):
        context, weights = self.self(hidden, additive_mask, need_weights)
        return self.output(context, hidden), weights


class BertIntermediate(nn.Module):
    """The feed-forward block's widening half: Linear then exact (erf) GELU."""

    def __init__(self, config):
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.intermediate_size)
        self.intermediate_act_fn = nn.GELU()

    def forward(self, hidden):
        return self.intermediate_act_fn(self.dense(hidden))


class BertOutput(nn.Module):
    """The feed-forward block's narrowing half, residual, LayerNorm."""

    def __init__(self, config):
        super().__init__()
        self.dense = nn.Linear(config.intermediate_size, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(self, intermediate, residual):
        return self.LayerNorm(self.dropout(self.dense(intermediate)) + residual)


class BertLayer(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.attention = BertAttention(config)
        self.intermediate = BertIntermediate(config)
        self.output = BertOutput(config)

    def forward(self, hidden, additive_mask, need_weights=False):
        attended, weights = self.attention(hidden, additive_mask, need_weights)
        return self.output(self.intermediate(attended), attended), weights


class BertEncoder(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.layer = nn.ModuleList([BertLayer(config) for _ in range(config.num_hidden_layers)])

    def forward(self, hidden, additive_mask, need_weights=False):
        all_weights = []
        for layer in self.layer:
            hidden, weights = layer(hidden, additive_mask, need_weights)
            all_weights.append(weights)
        return hidden, (all_weights if need_weights else None)


class BertPooler(nn.Module):
    """tanh(Linear(hidden state of [CLS])): part of the checkpoint, used by
    BERT's next-sentence head; sentence-transformers' mean pooling ignores it."""

    def __init__(self, config):
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)
        self.activation = nn.Tanh()

    def forward(self, hidden):
        return self.activation(self.dense(hidden[:, 0]))


def additive_attention_mask(attention_mask, dtype=gn.float32):
    """(B, L) mask of 1 (token) / 0 (padding) -> (B, 1, 1, L) to add to the
    attention scores: 0 for tokens, the most negative finite float for padding,
    so exp() sends padded keys' weights to exactly 0 without the NaN that -inf
    would give a row with every key masked."""
    if attention_mask.ndim != 2:
        raise ValueError(f"[BertModel] attention_mask must be (batch, length), got {tuple(attention_mask.shape)}")
    lowest = float(np.finfo(np.float32 if dtype is gn.float32 else np.float64).min)
    blocked = (attention_mask == 0).to(dtype)
    return (blocked * lowest).unsqueeze(1).unsqueeze(1)


class BertModel(nn.Module):
    """Embeddings, encoder layers and pooler; forward returns the last hidden
    states (batch, length, hidden), plus every layer's attention weights when
    need_weights is set."""

    def __init__(self, config):
        super().__init__()
        self.config = config
        self.embeddings = BertEmbeddings(config)
        self.encoder = BertEncoder(config)
        self.pooler = BertPooler(config)

    def forward(self, input_ids, attention_mask=None, token_type_ids=None, need_weights=False):
        if input_ids.ndim != 2 or input_ids.dtype is not gn.int64:
            raise ValueError(f"[BertModel] input_ids must be an int64 (batch, length) tensor, got "
                             f"{input_ids.dtype} of shape {tuple(input_ids.shape)}")
        if input_ids.shape[1] == 0:
            raise ValueError("[BertModel] input_ids has length 0; every sequence needs at least one token")
        if attention_mask is None:
            attention_mask = gn.ones(tuple(input_ids.shape), dtype=gn.int64)
        elif tuple(attention_mask.shape) != tuple(input_ids.shape):
            raise ValueError(f"[BertModel] attention_mask shape {tuple(attention_mask.shape)} differs from "
                             f"input_ids shape {tuple(input_ids.shape)}")
        hidden = self.embeddings(input_ids, token_type_ids)
        hidden, weights = self.encoder(hidden, additive_attention_mask(attention_mask, hidden.dtype), need_weights)
        return (hidden, weights) if need_weights else hidden


def strip_prefix(state_dict, prefix):
    """state_dict with `prefix` removed from every key; raises if a key lacks it,
    so a checkpoint of another architecture ("bert." for BertForX heads,
    "0.auto_model." for a whole SentenceTransformer) is never half-loaded."""
    stray = [k for k in state_dict if not k.startswith(prefix)]
    if stray:
        raise KeyError(f"[strip_prefix] {len(stray)} key(s) do not start with {prefix!r}, e.g. {stray[:3]}")
    return {k[len(prefix):]: v for k, v in state_dict.items()}


def from_hf_state_dict(state, config):
    """A Hugging Face BERT state_dict (or safetensors file's dict) in this
    module's naming, changed only in two explicit ways: a prefix that every key
    shares ("bert." of BertForX heads, "0.auto_model." of a whole
    SentenceTransformer) is removed, and "embeddings.position_ids", which
    transformers >= 4.31 no longer saves (a non-persistent buffer there), is
    filled with 0..max_position_embeddings-1 when absent. Everything else must
    then match exactly under load_state_dict's strict check."""
    state = dict(state)
    for prefix in ("bert.", "0.auto_model."):
        if state and all(k.startswith(prefix) for k in state):
            state = strip_prefix(state, prefix)
    if "embeddings.position_ids" not in state:
        state["embeddings.position_ids"] = gn.arange(config.max_position_embeddings).unsqueeze(0)
    return state


def load_bert(model_dir):
    """A BertModel from a folder holding config.json and model.safetensors,
    loaded strictly (every key of the file used, every parameter filled), in
    eval mode."""
    config = BertConfig.from_json(os.path.join(model_dir, "config.json"))
    model = BertModel(config)
    model.load_state_dict(from_hf_state_dict(gn.load(os.path.join(model_dir, "model.safetensors")), config))
    return model.eval()
