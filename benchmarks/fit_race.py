"""What bench_rnn.py and bench_transformer.py share: timing one epoch of each
contender (kerasish / Keras 3 ``fit``, a hand-written PyTorch loop), rotating
rounds, and the table of medians and ratios they print."""

from __future__ import annotations

import statistics
import time

import torch


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def torch_fit(model, opt, loss_fn, x, y, batch: int, device: torch.device) -> float:
    """One epoch of the hand-written loop (a permutation, ``index_select`` batches); returns steps/s."""
    model.train()
    n = x.shape[0]
    perm = torch.randperm(n, device=device)
    sync(device)
    start = time.perf_counter()
    for i in range(0, n, batch):
        idx = perm[i : i + batch]
        loss = loss_fn(model(x.index_select(0, idx)), y.index_select(0, idx))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    loss.item()
    return (n // batch) / (time.perf_counter() - start)


def timed_fit(model, x, y, batch: int, device: torch.device) -> float:
    """One epoch of ``model.fit`` (kerasish or Keras); returns steps/s."""
    sync(device)
    start = time.perf_counter()
    model.fit(x, y, batch_size=batch, epochs=1, verbose=0)
    sync(device)
    return (x.shape[0] // batch) / (time.perf_counter() - start)


def race(runs: dict, warm: int, rounds: int) -> dict:
    """Warm each contender (``fn(warm)``: first calls build, allocate, pick kernels), then
    ``rounds`` rounds of ``fn()``, the order rotated so each goes first as often as the
    others. Returns ``{contender: [steps/s per round]}``."""
    for fn in runs.values():
        fn(warm)
    speeds = {k: [] for k in runs}
    names = list(runs)
    for r in range(rounds):
        shift = r % len(names)
        for key in names[shift:] + names[:shift]:
            speeds[key].append(runs[key]())
    return speeds


def report(title: str, speeds: dict) -> None:
    """Print the median steps/s of each contender and kerasish's ratios to the others."""
    print(title)
    med = {k: statistics.median(v) for k, v in speeds.items()}
    for k, v in med.items():
        print(f"  {k:22s} {v:10,.1f}")
    for rival in ("torch", "keras 3"):
        if rival not in med:
            continue
        per_round = [o / t for o, t in zip(speeds["kerasish"], speeds[rival])]
        label = "hand-written torch" if rival == "torch" else rival
        print(f"  kerasish / {label + ':':20s} {med['kerasish'] / med[rival]:.2f}x "
              f"(round by round: median {statistics.median(per_round):.2f}x, range {min(per_round):.2f}x to {max(per_round):.2f}x)")
