"""What a `glassnet train` run leaves for `glassnet explain` to rebuild its model.

``model_config.json`` (written when training starts, so a killed run has it
too) and the ``glassnet.model`` metadata entry of ``model.safetensors`` hold
the same JSON: the model's name and build arguments, the dataset, and the
input standardisation. `find_run` resolves what a user points `glassnet
explain` at (a run folder, model.safetensors or checkpoint.safetensors) and
`load_model` rebuilds the model with its trained weights.
"""
import json
import math
import os

CONFIG_FILE = "model_config.json"
METADATA_KEY = "glassnet.model"


def model_config(name, in_features, num_classes, dataset, mean=None, std=None):
    """The JSON-able description of a model built by glassnet.models.build."""
    if isinstance(in_features, tuple):
        in_features = list(in_features)
    config = {"model": name, "in_features": in_features, "num_classes": int(num_classes), "dataset": dataset}
    if mean is not None:
        config["input_mean"] = [float(v) for v in mean.reshape(-1)]
        config["input_std"] = [float(v) for v in std.reshape(-1)]
    return config


def find_run(path):
    """(weights file, run folder) for a run folder, a model.safetensors or a checkpoint.safetensors."""
    path = os.fspath(path)
    if os.path.isdir(path):
        for name in ("model.safetensors", "checkpoint.safetensors"):
            if os.path.isfile(os.path.join(path, name)):
                return os.path.join(path, name), path
        raise FileNotFoundError(f"{path!r} holds no model.safetensors or checkpoint.safetensors")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"no such file: {path!r}")
    return path, os.path.dirname(os.path.abspath(path))


def read_config(weights_path, folder):
    """The model config from the file's metadata, else from model_config.json beside it."""
    from ..serialization import load_metadata

    meta = load_metadata(weights_path)
    if METADATA_KEY in meta:
        return json.loads(meta[METADATA_KEY])
    side = os.path.join(folder, CONFIG_FILE)
    if os.path.isfile(side):
        with open(side) as f:
            return json.load(f)
    raise ValueError(f"{weights_path!r} does not say which model it holds (no {METADATA_KEY!r} metadata and no "
                     f"{CONFIG_FILE} beside it): explain works on the files `glassnet train` writes")


def load_model(weights_path, config, device="cpu"):
    """The model named in `config`, built and filled with the weights of `weights_path`."""
    from ..checkpoint import load_checkpoint
    from ..models import build
    from ..serialization import load, load_metadata

    in_features = config["in_features"]
    model = build(config["model"], in_features=tuple(in_features) if isinstance(in_features, list) else in_features,
                  num_classes=config["num_classes"])
    model.to(device)
    if "glassnet.checkpoint" in load_metadata(weights_path):
        load_checkpoint(weights_path, model=model, restore_rng=False, device=device)
    else:
        model.load_state_dict(load(weights_path, device=device))
    model.eval()
    return model


def read_history(weights_path, folder):
    """The run's per-epoch history: summary.json's, else the full checkpoint's; None when neither has one."""
    from ..checkpoint import checkpoint_info, load_checkpoint
    from ..serialization import load_metadata

    summary = os.path.join(folder, "summary.json")
    if os.path.isfile(summary):
        with open(summary) as f:
            history = json.load(f).get("history")
        if history:
            return history
    ckpt = weights_path if "glassnet.checkpoint" in load_metadata(weights_path) else os.path.join(
        folder, "checkpoint.safetensors")
    if os.path.isfile(ckpt):
        checkpoint_info(ckpt)
        extra = load_checkpoint(ckpt, restore_rng=False).get("extra") or {}
        return extra.get("history")
    return None


HEALTH_FILE = "health.json"


def save_health(series, folder):
    """The per-layer statistics ({statistic: {layer: [per epoch]}}) as strict JSON (NaN -> null)."""
    clean = {k: {layer: [None if not math.isfinite(v) else v for v in values] for layer, values in per.items()}
             for k, per in series.items()}
    path = os.path.join(folder, HEALTH_FILE)
    with open(path, "w") as f:
        json.dump(clean, f)
    return path


def read_health(folder):
    path = os.path.join(folder, HEALTH_FILE)
    if not os.path.isfile(path):
        return None
    with open(path) as f:
        raw = json.load(f)
    return {k: {layer: [float("nan") if v is None else float(v) for v in values] for layer, values in per.items()}
            for k, per in raw.items()}
