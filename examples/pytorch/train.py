"""Train a small MLP on synthetic data with PyTorch (CPU or CUDA), printing per-epoch progress.

Writes outputs/model.pt (state_dict) and outputs/metrics.json, each atomically (temp file + rename), so
a download never sees half a file. Works with Debian's python3-torch 1.13 on CPU.
"""
import argparse
import json
import os
import sys
import time

import torch
from torch import nn


def write_atomic(path, write):
    tmp = "%s.tmp.%d" % (path, os.getpid())
    write(tmp)
    os.replace(tmp, path)


def write_json(path, value):
    with open(path, "w") as handle:
        json.dump(value, handle, indent=2)
        handle.write("\n")


def make_data(n, w, generator):
    x = torch.randn(n, 16, generator=generator)
    y = ((x @ w).squeeze(1) + 0.1 * torch.randn(n, generator=generator) > 0).long()
    return x, y


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--out", default="outputs")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--fail", action="store_true", help="exit with status 3 after epoch 1")
    args = parser.parse_args()

    device = "cuda" if torch.cuda.is_available() else "cpu"
    name = torch.cuda.get_device_name(0) if device == "cuda" else "cpu"
    print(f"torch {torch.__version__} on {device} ({name})", flush=True)
    torch.manual_seed(args.seed)
    generator = torch.Generator().manual_seed(args.seed)
    w = torch.randn(16, 1, generator=generator)
    x_train, y_train = make_data(2048, w, generator)
    x_val, y_val = make_data(512, w, generator)
    x_train, y_train, x_val, y_val = (t.to(device) for t in (x_train, y_train, x_val, y_val))

    model = nn.Sequential(nn.Linear(16, 64), nn.ReLU(), nn.Linear(64, 2)).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    loss_fn = nn.CrossEntropyLoss()
    history = []
    for epoch in range(1, args.epochs + 1):
        model.train()
        for i in range(0, len(x_train), 128):
            optimizer.zero_grad()
            loss = loss_fn(model(x_train[i : i + 128]), y_train[i : i + 128])
            loss.backward()
            optimizer.step()
        model.eval()
        with torch.no_grad():
            train_loss = loss_fn(model(x_train), y_train).item()
            logits = model(x_val)
            val_loss = loss_fn(logits, y_val).item()
            acc = (logits.argmax(1) == y_val).float().mean().item()
        history.append({"epoch": epoch, "loss": train_loss, "val_loss": val_loss, "acc": acc})
        print(f"Epoch {epoch}/{args.epochs} loss={train_loss:.4f} val_loss={val_loss:.4f} acc={acc:.4f}", flush=True)
        if args.fail and epoch == 1:
            print("failing on purpose after epoch 1 (--fail)", file=sys.stderr, flush=True)
            sys.exit(3)
        time.sleep(0.2)  # a human should see the log stream

    os.makedirs(args.out, exist_ok=True)
    write_atomic(os.path.join(args.out, "model.pt"), lambda p: torch.save(model.state_dict(), p))
    metrics = {"final": history[-1] if history else {}, "history": history, "device": device}
    write_atomic(os.path.join(args.out, "metrics.json"), lambda p: write_json(p, metrics))
    print(f"Saved {args.out}/model.pt and {args.out}/metrics.json", flush=True)


if __name__ == "__main__":
    main()
