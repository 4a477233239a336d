"""Transfer learning with all-MiniLM-L6-v2 on glassnet: a topic classifier
for short sentences, trained on the few dozen labelled sentences below.

1. frozen:   encoder.requires_grad_(False); only a Linear head on the
             sentence embedding learns (Adam, lr 1e-2).
2. top layer: the encoder's last layer is unfrozen too, and the optimiser gets
             two parameter groups, as in torch:
                 Adam([{"params": head, "lr": 1e-2}, {"params": top_layer, "lr": 1e-5}])

Both report accuracy on held-out sentences that share no sentence with the
training set, and check that frozen parameters never receive a gradient.

    python examples/minilm/finetune.py [--steps N]
"""
import argparse
import copy
import time

import glassnet as gn
import glassnet.nn as nn
import glassnet.nn.functional as F

from sentence import SentenceEncoder, mean_pool

TOPICS = ["sport", "cooking", "weather"]

TRAIN = [
    ("The striker scored twice in the second half.", 0),
    ("Our team lost the final on penalties.", 0),
    ("She ran the marathon in under three hours.", 0),
    ("The goalkeeper saved a brilliant free kick.", 0),
    ("He signed a two-year contract with the club.", 0),
    ("The tennis match went to a fifth set.", 0),
    ("Fans filled the stadium for the derby.", 0),
    ("The coach was sacked after ten defeats in a row.", 0),
    ("She won gold in the hundred metres sprint.", 0),
    ("The referee showed him a red card.", 0),
    ("Our cyclist climbed the final mountain stage alone.", 0),
    ("The basketball game went into overtime.", 0),
    ("He broke the world record in the long jump.", 0),
    ("The league title was decided on the last day of the season.", 0),
    ("Chop the onions finely and fry them in butter.", 1),
    ("Let the dough rise for an hour before baking.", 1),
    ("Season the soup with salt and a little pepper.", 1),
    ("Roast the chicken at two hundred degrees for an hour.", 1),
    ("Whisk the eggs with sugar until pale.", 1),
    ("Simmer the tomato sauce for twenty minutes.", 1),
    ("Add a pinch of cinnamon to the apple pie filling.", 1),
    ("Boil the pasta in plenty of salted water.", 1),
    ("Marinate the beef overnight in soy sauce and garlic.", 1),
    ("Grate the cheese over the warm gratin.", 1),
    ("Stir the risotto constantly while adding stock.", 1),
    ("Knead the bread until it is smooth and elastic.", 1),
    ("Fold the whipped cream gently into the chocolate.", 1),
    ("Slice the cucumbers thinly for the salad.", 1),
    ("Heavy rain is expected across the north tonight.", 2),
    ("Temperatures will drop below freezing by morning.", 2),
    ("A thunderstorm warning was issued for the coast.", 2),
    ("Tomorrow will be sunny with a light breeze.", 2),
    ("Thick fog delayed flights at the airport.", 2),
    ("Snow is forecast for the mountains this weekend.", 2),
    ("The heatwave will last until the end of the week.", 2),
    ("Strong winds brought down trees overnight.", 2),
    ("Humidity will rise ahead of the afternoon showers.", 2),
    ("A hurricane is strengthening over warm ocean waters.", 2),
    ("Clouds will clear by the evening, leaving a cold night.", 2),
    ("Hail damaged cars during the storm.", 2),
    ("The drought has left the rivers unusually low.", 2),
    ("Expect frost on the roads early tomorrow.", 2),
]

HELD_OUT = [
    ("The midfielder was injured during training.", 0),
    ("They celebrated promotion to the first division.", 0),
    ("The swimmer qualified for the Olympic final.", 0),
    ("Both teams fought for a draw in the rain-soaked cup tie.", 0),
    ("The boxer knocked out his opponent in round three.", 0),
    ("Melt the butter and brown the mushrooms.", 1),
    ("Bake the cake until a skewer comes out clean.", 1),
    ("Peel and dice the potatoes for the stew.", 1),
    ("Serve the curry with rice and fresh coriander.", 1),
    ("Sprinkle the sugar over the berries and let them rest.", 1),
    ("Showers will spread from the west this afternoon.", 2),
    ("It will be a mild and cloudy day.", 2),
    ("Gale force winds are expected along the shore.", 2),
    ("The forecast says the cold snap will end on Monday.", 2),
    ("Lightning lit up the sky during last night's storm.", 2),
]


class TopicClassifier(nn.Module):
    """Linear head on the normalised mean-pooled sentence embedding. The
    encoder's weights are copied, so fine-tuning leaves `encoder` as it was."""

    def __init__(self, encoder, num_classes):
        super().__init__()
        self.bert = copy.deepcopy(encoder.bert)  # a registered submodule: named_parameters() lists "bert.*"
        self.head = nn.Linear(encoder.bert.config.hidden_size, num_classes)
        # sentence embeddings have unit length, so their entries are about 1/sqrt(384); a fixed scale gives
        # the head logits of useful size from the first step.
        self.scale = 10.0

    def forward(self, batch):
        hidden = self.bert(batch["input_ids"], batch["attention_mask"], batch["token_type_ids"])
        embedding = F.normalize(mean_pool(hidden, batch["attention_mask"]), p=2.0, dim=1)
        return self.head(embedding * self.scale)


def accuracy(model, batch, labels):
    was_training = model.training
    model.eval()
    with gn.no_grad():
        predicted = model(batch).argmax(1)
    model.train(was_training)
    return float((predicted == labels).to(gn.float32).mean())


def frozen_with_grad(model):
    """Names of parameters that do not require grad yet hold a gradient (must be none)."""
    return [name for name, p in model.named_parameters() if not p.requires_grad and p.grad is not None]


def train(model, optimizer, batch, labels, steps):
    for step in range(steps):
        optimizer.zero_grad()
        loss = F.cross_entropy(model(batch), labels)
        loss.backward()
        optimizer.step()
    return float(loss)


def train_frozen(encoder, data, steps):
    """Variant 1: the encoder frozen, only the head learns. Returns the model and a dict of results."""
    train_batch, train_labels, test_batch, test_labels = data
    model = TopicClassifier(encoder, len(TOPICS))
    model.bert.requires_grad_(False)
    model.train()
    model.bert.eval()  # dropout off in the encoder, so the features it gives the head are fixed
    before = {name: p.detach().numpy().copy() for name, p in model.bert.named_parameters()}
    optimizer = gn.optim.Adam(model.head.parameters(), lr=1e-2)
    start = time.perf_counter()
    loss = train(model, optimizer, train_batch, train_labels, steps)
    return model, {
        "seconds": time.perf_counter() - start,
        "trainable": [name for name, p in model.named_parameters() if p.requires_grad],
        "loss": loss,
        "train_accuracy": accuracy(model, train_batch, train_labels),
        "held_out_accuracy": accuracy(model, test_batch, test_labels),
        "frozen_with_grad": frozen_with_grad(model),
        "encoder_changed": [name for name, p in model.bert.named_parameters()
                            if not (p.detach().numpy() == before[name]).all()],
    }


def train_top_layer(encoder, data, steps, head_lr=1e-2, top_lr=1e-5):
    """Variant 2: the top encoder layer unfrozen, in its own parameter group
    with a much smaller learning rate than the head's."""
    train_batch, train_labels, test_batch, test_labels = data
    model = TopicClassifier(encoder, len(TOPICS))
    model.bert.requires_grad_(False)
    top_layer = model.bert.encoder.layer[-1]
    top_layer.requires_grad_(True)
    model.train()
    model.bert.eval()
    top_layer.train()  # dropout on where parameters learn
    before = {name: p.detach().numpy().copy() for name, p in model.bert.named_parameters()}
    optimizer = gn.optim.Adam([{"params": model.head.parameters(), "lr": head_lr},
                               {"params": top_layer.parameters(), "lr": top_lr}])
    start = time.perf_counter()
    loss = train(model, optimizer, train_batch, train_labels, steps)
    change = {name: float(abs(p.detach().numpy() - before[name]).max()) for name, p in model.bert.named_parameters()}
    top = f"encoder.layer.{len(model.bert.encoder.layer) - 1}."
    return model, {
        "seconds": time.perf_counter() - start,
        "group_lrs": [g["lr"] for g in optimizer.param_groups],
        "loss": loss,
        "train_accuracy": accuracy(model, train_batch, train_labels),
        "held_out_accuracy": accuracy(model, test_batch, test_labels),
        "frozen_with_grad": frozen_with_grad(model),
        # Adam moves a parameter by at most about lr per step, so the top layer stays within steps * top_lr.
        "top_layer_max_change": max(v for k, v in change.items() if k.startswith(top)),
        "lower_changed": [k for k, v in change.items() if v != 0 and not k.startswith(top)],
    }


def make_data(encoder):
    return (encoder.tokenize([s for s, _ in TRAIN]), gn.tensor([y for _, y in TRAIN], dtype=gn.int64),
            encoder.tokenize([s for s, _ in HELD_OUT]), gn.tensor([y for _, y in HELD_OUT], dtype=gn.int64))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=20, help="full-batch Adam steps per variant")
    args = parser.parse_args()

    gn.manual_seed(0)
    encoder = SentenceEncoder()
    data = make_data(encoder)
    print(f"{len(TRAIN)} training and {len(HELD_OUT)} held-out sentences, topics {TOPICS}")

    _, r = train_frozen(encoder, data, args.steps)
    print(f"[frozen encoder] trainable {r['trainable']}; {args.steps} steps in {r['seconds']:.1f}s, "
          f"train loss {r['loss']:.4f}, train accuracy {r['train_accuracy']:.3f}, "
          f"held-out accuracy {r['held_out_accuracy']:.3f}; frozen parameters with a gradient: "
          f"{len(r['frozen_with_grad'])}; encoder parameters changed: {len(r['encoder_changed'])}")

    _, r = train_top_layer(encoder, data, args.steps)
    print(f"[top layer unfrozen] group lrs {r['group_lrs']}; {args.steps} steps in {r['seconds']:.1f}s, "
          f"train loss {r['loss']:.4f}, train accuracy {r['train_accuracy']:.3f}, "
          f"held-out accuracy {r['held_out_accuracy']:.3f}; frozen parameters with a gradient: "
          f"{len(r['frozen_with_grad'])}; lower-layer parameters changed: {len(r['lower_changed'])}; "
          f"largest top-layer change {r['top_layer_max_change']:.2e} (bound {args.steps * 1e-5:.0e})")


if __name__ == "__main__":
    main()
