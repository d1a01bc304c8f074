#!/usr/bin/env python3
"""A real, tiny training run with nothing but the standard library (Python 3.8+).

A 2-16-1 neural network learns to separate two interleaved half circles ("two moons") from a seeded
synthetic dataset, by hand-written backpropagation and mini-batch SGD. It prints one progress line a
epoch, then writes the weights and the metrics under --out, each file atomically so that a download
never sees half a file.
"""

import argparse
import json
import math
import os
import random
import sys
import time

HIDDEN = 16
LEARNING_RATE = 0.3
BATCH = 16
# The math takes milliseconds; a short pause makes the live log visible to a human watching it.
EPOCH_PAUSE_S = 0.4


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--out", default="outputs")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--fail", action="store_true", help="exit with status 3 after epoch 1")
    return parser.parse_args()


def make_moons(count, rng):
    points = []
    for i in range(count):
        label = i % 2
        angle = rng.uniform(0.0, math.pi)
        if label == 0:
            x, y = math.cos(angle), math.sin(angle)
        else:
            x, y = 1.0 - math.cos(angle), 0.5 - math.sin(angle)
        points.append(((x + rng.gauss(0, 0.1), y + rng.gauss(0, 0.1)), label))
    rng.shuffle(points)
    return points


def init_model(rng):
    scale = 1.0 / math.sqrt(2)
    return {
        "w1": [[rng.gauss(0, scale) for _ in range(2)] for _ in range(HIDDEN)],
        "b1": [0.0] * HIDDEN,
        "w2": [rng.gauss(0, 1.0 / math.sqrt(HIDDEN)) for _ in range(HIDDEN)],
        "b2": 0.0,
    }


def sigmoid(z):
    return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))


def forward(model, x):
    hidden = [math.tanh(w[0] * x[0] + w[1] * x[1] + b) for w, b in zip(model["w1"], model["b1"])]
    out = sigmoid(sum(w * h for w, h in zip(model["w2"], hidden)) + model["b2"])
    return hidden, out


def train_batch(model, batch):
    gw1 = [[0.0, 0.0] for _ in range(HIDDEN)]
    gb1 = [0.0] * HIDDEN
    gw2 = [0.0] * HIDDEN
    gb2 = 0.0
    for x, label in batch:
        hidden, out = forward(model, x)
        d_out = out - label  # gradient of binary cross-entropy through the sigmoid
        gb2 += d_out
        for j in range(HIDDEN):
            gw2[j] += d_out * hidden[j]
            d_hidden = d_out * model["w2"][j] * (1.0 - hidden[j] ** 2)
            gb1[j] += d_hidden
            gw1[j][0] += d_hidden * x[0]
            gw1[j][1] += d_hidden * x[1]
    step = LEARNING_RATE / len(batch)
    for j in range(HIDDEN):
        model["w1"][j][0] -= step * gw1[j][0]
        model["w1"][j][1] -= step * gw1[j][1]
        model["b1"][j] -= step * gb1[j]
        model["w2"][j] -= step * gw2[j]
    model["b2"] -= step * gb2


def evaluate(model, data):
    loss = 0.0
    correct = 0
    for x, label in data:
        _, out = forward(model, x)
        out = min(max(out, 1e-12), 1.0 - 1e-12)
        loss -= label * math.log(out) + (1 - label) * math.log(1.0 - out)
        correct += int((out >= 0.5) == bool(label))
    return loss / len(data), correct / len(data)


def write_json_atomically(path, value):
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "w") as handle:
        json.dump(value, handle, indent=2)
        handle.write("\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def main():
    args = parse_args()
    rng = random.Random(args.seed)
    data = make_moons(600, rng)
    train, val = data[:480], data[480:]
    model = init_model(rng)
    history = []
    started = time.time()
    for epoch in range(1, args.epochs + 1):
        rng.shuffle(train)
        for start in range(0, len(train), BATCH):
            train_batch(model, train[start : start + BATCH])
        loss, _ = evaluate(model, train)
        val_loss, accuracy = evaluate(model, val)
        history.append(
            {"epoch": epoch, "loss": loss, "val_loss": val_loss, "accuracy": accuracy}
        )
        print(
            "Epoch %d/%d - loss: %.4f - accuracy: %.4f" % (epoch, args.epochs, loss, accuracy),
            flush=True,
        )
        if args.fail and epoch == 1:
            print("failing on purpose after epoch 1 (--fail)", file=sys.stderr, flush=True)
            return 3
        time.sleep(EPOCH_PAUSE_S)

    os.makedirs(args.out, exist_ok=True)
    write_json_atomically(os.path.join(args.out, "model.json"), model)
    final = history[-1] if history else {}
    write_json_atomically(
        os.path.join(args.out, "metrics.json"),
        {
            "final": final,
            "history": history,
            "epochs": args.epochs,
            "seed": args.seed,
            "seconds": round(time.time() - started, 3),
        },
    )
    print("Saved %s/model.json and %s/metrics.json" % (args.out, args.out), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
