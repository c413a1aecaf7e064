"""Data-parallel training speed: kerasish ``fit`` under torchrun vs a
hand-written PyTorch DistributedDataParallel loop, with 1, 2, ... processes.

    python benchmarks/bench_ddp.py [--nprocs 1 2] [--net mnist|fruit] [--rounds 3]
                                   [--samples N] [--batch 64] [--device cpu|cuda]
                                   [--channels-last]

For each process count N the parent launches this file once with
``python -m torch.distributed.run --standalone --nproc_per_node=N bench_ddp.py
--worker ...``. Every worker builds the same data (fixed numpy seed) and, per
round, times in turn (order alternating between rounds, so machine noise hits
both alike):

* kerasish ``fit(x, y, epochs=1, batch_size=<global batch>, shuffle=True,
  verbose=0)``: kerasish sees the torchrun environment, starts the process
  group and trains data-parallel (``batch_size`` is the global batch);
* the loop a PyTorch user writes: the same network in ``torch.nn``
  (bench_forward's TorchMnist / TorchFruit, logits + ``F.cross_entropy``,
  Adam), wrapped in ``DistributedDataParallel`` when N > 1 (a plain loop at
  N = 1, as kerasish is then), every rank drawing the same permutation per
  epoch and taking its ``tensor_split`` piece of each global batch; NCHW,
  or channels_last with ``--channels-last``.

Rank 0 writes the samples/s of every round (global samples / wall time) to a
JSON file; the parent prints the medians, kerasish / hand-written at each N,
and the scaling (samples/s at N / samples/s at 1) of each.

Environment of each launch: ``CUDA_VISIBLE_DEVICES=""`` unless ``--device
cuda`` (then process r uses cuda:r, nccl), and ``OMP_NUM_THREADS`` = cores //
N (at least 1), so the N processes share the cores instead of each starting
one thread per core and oversubscribing them. On a machine with few cores
(e.g. 2) the processes share the same cores the 1-process run uses as
threads, so scaling above 1x is not expected from added hardware there (a
ratio above 1x on such a machine only says that N single-threaded processes
keep the cores busier than one process's N threads, which is common for small
networks); data parallelism speeds training up when each process has its own
device (or its own set of cores) to work on. Multi-threaded runs suffer
most from anything else using the cores (a busy core stalls every intra-op
thread), so the load average is printed first, and the samples/s of every
round after the table.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

os.environ.setdefault("KERAS_BACKEND", "torch")
HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from bench_forward import TorchFruit, TorchMnist, kerasish_fruit, kerasish_mnist  # noqa: E402

NETS = {
    # name: (title, kerasish builder, torch module, input shape NHWC, classes, default samples)
    "mnist": ("seed 000 MNIST network", kerasish_mnist, TorchMnist, (28, 28, 1), 10, 16384),
    "fruit": ("seed 001 fruit network", kerasish_fruit, TorchFruit, (100, 100, 3), 60, 128),
}


class Logits(nn.Module):
    """The hand-written network without its final softmax (cross_entropy
    takes logits), as the module DDP wraps."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        net = self.net
        if isinstance(net, TorchMnist):
            return net.fc(torch.flatten(net.pool(net.conv(x)), 1))
        return net.head[:-1](net.features(x))


# ----------------------------------------------------------------------
# Worker (one per process, started by torchrun)
# ----------------------------------------------------------------------
def torch_ddp_fit(model, opt, x, y, batch, rank, world, device, epoch, memory_format=None):
    """One epoch of the hand-written data-parallel loop: the same permutation
    on every rank (seeded alike), each rank its piece of every global batch."""
    model.train()
    g = torch.Generator()
    g.manual_seed(1234 + epoch)
    perm = torch.randperm(x.shape[0], generator=g)
    loss = None
    for i in range(0, x.shape[0], batch):
        idx = torch.tensor_split(perm[i:i + batch], world)[rank]
        xb = x.index_select(0, idx).to(device, non_blocking=True)
        if memory_format is not None:
            xb = xb.contiguous(memory_format=memory_format)
        yb = y.index_select(0, idx).to(device, non_blocking=True)
        loss = F.cross_entropy(model(xb), yb)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    loss.item()  # wait for the device


def worker(args):
    import torch.distributed as dist

    import kerasish
    from kerasish import distribution

    rank, world = distribution.process_index(), distribution.num_processes()
    local = int(os.environ.get("LOCAL_RANK", "0"))
    device = torch.device("cuda", local) if args.device == "cuda" else torch.device("cpu")
    _, make_ours, make_torch, shape, classes, _ = NETS[args.net]
    n, batch = args.samples, args.batch

    rng = np.random.default_rng(0)
    x = rng.random((n,) + shape).astype("float32")
    y = rng.integers(0, classes, n)
    xt = torch.from_numpy(x).permute(0, 3, 1, 2).contiguous()  # NCHW for torch.nn
    yt = torch.from_numpy(y)
    if device.type == "cuda":
        xt, yt = xt.pin_memory(), yt.pin_memory()

    kerasish.utils.set_random_seed(0)
    ours = make_ours()
    ours.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    warm = min(n, batch * 8, max(batch, n // 4))  # one short fit
    ours.fit(x[:warm], y[:warm], batch_size=batch, epochs=1, verbose=0)  # starts the process group when world > 1

    torch.manual_seed(0)
    hand = Logits(make_torch()).to(device)
    fmt = torch.channels_last if args.channels_last else None
    if fmt is not None:
        hand = hand.to(memory_format=fmt)
    if world > 1:
        if not dist.is_initialized():  # (kerasish has started it already)
            dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
        from torch.nn.parallel import DistributedDataParallel

        hand = DistributedDataParallel(hand, device_ids=[local] if device.type == "cuda" else None)
    opt = torch.optim.Adam(hand.parameters(), lr=1e-3, eps=1e-7, foreach=True)
    torch_ddp_fit(hand, opt, xt[:warm], yt[:warm], batch, rank, world, device, 0, fmt)

    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        if world > 1:
            dist.barrier()  # every process starts the clock together

    def run_ours():
        sync()
        t = time.perf_counter()
        ours.fit(x, y, batch_size=batch, epochs=1, shuffle=True, verbose=0)
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        return n / (time.perf_counter() - t)

    def run_torch(epoch):
        sync()
        t = time.perf_counter()
        torch_ddp_fit(hand, opt, xt, yt, batch, rank, world, device, epoch, fmt)
        return n / (time.perf_counter() - t)

    results = {"kerasish": [], "torch": [], "threads": torch.get_num_threads(), "world": world}
    for r in range(args.rounds):
        runs = [("kerasish", run_ours), ("torch", lambda: run_torch(r + 1))]
        if r % 2:
            runs.reverse()
        for key, run in runs:
            results[key].append(run())
    if rank == 0:
        with open(args.result, "w") as f:
            json.dump(results, f)
    if world > 1 and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


# ----------------------------------------------------------------------
# Parent
# ----------------------------------------------------------------------
def launch(args, nproc, result):
    cores = os.cpu_count() or 1
    env = dict(os.environ)
    for key in ("WORLD_SIZE", "RANK", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(key, None)
    env["OMP_NUM_THREADS"] = str(max(1, cores // nproc))
    env["PYTHONPATH"] = REPO + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    if args.device == "cpu":
        env["CUDA_VISIBLE_DEVICES"] = ""
        env["KERASISH_DEVICE"] = "cpu"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}", os.path.abspath(__file__),
           "--worker", "--result", result, "--net", args.net, "--samples", str(args.samples), "--batch", str(args.batch),
           "--rounds", str(args.rounds), "--device", args.device] + (["--channels-last"] if args.channels_last else [])
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=args.timeout, cwd=REPO)
    wall = time.perf_counter() - start
    if proc.returncode != 0 or not os.path.exists(result):
        sys.stderr.write(f"launch with {nproc} processes failed (exit {proc.returncode}):\n$ {' '.join(cmd)}\n"
                         f"{proc.stdout[-4000:]}{proc.stderr[-8000:]}\n")
        sys.exit(1)
    with open(result) as f:
        return json.load(f), wall


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--nprocs", type=int, nargs="+", default=[1, 2], help="process counts to measure (default: 1 2)")
    p.add_argument("--net", choices=sorted(NETS), default="mnist")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--samples", type=int, default=None, help="samples per epoch (default: 16384 for mnist, 128 for fruit)")
    p.add_argument("--batch", type=int, default=64, help="global batch size (split across the processes)")
    p.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    p.add_argument("--channels-last", action="store_true", help="run the hand-written network in channels_last memory format")
    p.add_argument("--timeout", type=float, default=1800, help="seconds one launch may take")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--result", help=argparse.SUPPRESS)
    args = p.parse_args()
    title, *_, default_samples = NETS[args.net]
    if args.samples is None:
        args.samples = default_samples
    if args.worker:
        return worker(args)

    for nproc in args.nprocs:
        if nproc < 1 or args.batch % nproc:
            p.error(f"--batch {args.batch} must split evenly over {nproc} processes")
    cores = os.cpu_count() or 1
    if args.device == "cuda":
        if not torch.cuda.is_available():
            p.error("--device cuda: CUDA is not available on this machine")
        gpus = torch.cuda.device_count()
        if max(args.nprocs) > gpus:
            p.error(f"--device cuda: {max(args.nprocs)} processes need as many GPUs, this machine has {gpus} (nccl runs one process per GPU)")
        device = f"cuda ({gpus} x {torch.cuda.get_device_name(0)})"
    else:
        device = "cpu (CUDA_VISIBLE_DEVICES='')"
    load = f", load average {os.getloadavg()[0]:.2f} (the runs want the cores to themselves)" if hasattr(os, "getloadavg") else ""
    print(f"machine: {cores} cores, torch {torch.__version__}, device {device}{load}")
    print("OMP_NUM_THREADS per process = cores // N: " + ", ".join(f"N={k}: {max(1, cores // k)}" for k in args.nprocs))
    if args.device == "cpu" and max(args.nprocs) > 1:
        print(f"note: on CPU the processes share these same {cores} cores (the 1-process run uses them as {cores} threads), so no "
              f"scaling above 1x is expected from added hardware here; a ratio above 1x only shows processes keeping the cores "
              f"busier than one process's threads do. Real scaling needs one device (or core set) per process.")

    med, raw, walls = {}, {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        for nproc in args.nprocs:
            res, walls[nproc] = launch(args, nproc, os.path.join(tmp, f"n{nproc}.json"))
            raw[nproc] = res
            med[nproc] = {k: statistics.median(res[k]) for k in ("kerasish", "torch")}

    base = med.get(1)
    hand_name = "channels_last" if args.channels_last else "NCHW"
    print(f"\n{title} fit, global batch {args.batch}, {args.samples} samples/epoch, {args.device}, torch DDP in {hand_name}: median samples/s over {args.rounds} rounds")
    print(f"  {'procs':>5} {'threads':>7} {'kerasish':>10} {'torch DDP':>10} {'kerasish/torch':>14} {'kerasish scaling':>16} {'torch scaling':>13} {'launch s':>8}")
    for nproc in args.nprocs:
        m = med[nproc]
        ks = f"{m['kerasish'] / base['kerasish']:.2f}x" if base else "-"
        ts = f"{m['torch'] / base['torch']:.2f}x" if base else "-"
        print(f"  {nproc:>5} {raw[nproc]['threads']:>7} {m['kerasish']:>10,.1f} {m['torch']:>10,.1f} {m['kerasish'] / m['torch']:>13.2f}x "
              f"{ks:>16} {ts:>13} {walls[nproc]:>8.1f}")
    print("  (scaling: samples/s at N / samples/s with 1 process; 'torch DDP' is a plain loop at N=1; launch s: wall time of the whole "
          "torchrun launch, imports and warm-up included)")
    for nproc in args.nprocs:  # the spread, to judge the medians by
        print(f"  per round, {nproc} process(es): kerasish " + ", ".join(f"{v:,.0f}" for v in raw[nproc]["kerasish"])
              + "; torch " + ", ".join(f"{v:,.0f}" for v in raw[nproc]["torch"]))


if __name__ == "__main__":
    main()
