"""A training that resumes from its last checkpoint when offload runs it again (retry:, OFFLOAD_RESUME=1).

offload.yaml beside it fetches ckpt/last.pt home every few seconds while it trains, and on a retry puts
the last one back before the job starts. Deterministic (seeded, full batch, one thread), so a resumed run
ends with the same weights and loss as one that was never interrupted.
"""
import os
import time

import torch

EPOCHS = int(os.environ.get("EPOCHS", "8"))
PAUSE = float(os.environ.get("EPOCH_PAUSE", "0"))  # seconds per epoch, to watch it happen
torch.manual_seed(0)
torch.set_num_threads(1)
x = torch.randn(256, 8)
y = x @ torch.arange(1.0, 9.0) + 0.5
model = torch.nn.Linear(8, 1)
opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)

# --- the resume pattern -------------------------------------------------------------------------
CKPT = "ckpt/last.pt"
start = 1
if os.environ.get("OFFLOAD_RESUME") == "1" and os.path.exists(CKPT):
    state = torch.load(CKPT)
    model.load_state_dict(state["model"])
    opt.load_state_dict(state["opt"])
    start = state["epoch"] + 1
    print(f"resumed from epoch {state['epoch']} (attempt {os.environ.get('OFFLOAD_ATTEMPT')})", flush=True)

def save_checkpoint(epoch):
    os.makedirs("ckpt", exist_ok=True)
    torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "epoch": epoch}, CKPT + ".tmp")
    os.replace(CKPT + ".tmp", CKPT)  # a reader never sees half a checkpoint
# -------------------------------------------------------------------------------------------------

for epoch in range(start, EPOCHS + 1):
    opt.zero_grad()
    loss = torch.nn.functional.mse_loss(model(x).squeeze(1), y)
    loss.backward()
    opt.step()
    print(f"Epoch {epoch}/{EPOCHS} loss={loss.item():.6f}", flush=True)
    save_checkpoint(epoch)
    time.sleep(PAUSE)

print(f"final epochs={EPOCHS} weight_sum={model.weight.sum().item():.6f} bias={model.bias.item():.6f}")
