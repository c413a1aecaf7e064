"""Training and prediction speed: kerasish vs hand-written PyTorch vs Keras 3.

    python benchmarks/bench_fit.py [--rounds 5] [--mnist-samples 8192] [--fruit-samples 96]

For the seed 000 MNIST network and the seed 001 fruit network (batch 32,
Adam, sparse categorical crossentropy), each round runs, one after another:
kerasish ``fit`` / ``predict``, a hand-written PyTorch loop (NCHW, and in
channels_last memory format) and, where installed, Keras 3 on its torch
backend. Rounds interleave so machine noise hits every contender alike; the
median samples/s of each and the ratios are printed, plus import times.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

os.environ.setdefault("KERAS_BACKEND", "torch")
sys.path.insert(0, os.path.dirname(__file__))
from bench_forward import TorchFruit, TorchMnist, kerasish_fruit, kerasish_mnist  # noqa: E402


def keras_mnist():
    import keras

    return keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Conv2D(8, 3, use_bias=False), keras.layers.MaxPooling2D(2),
                             keras.layers.Flatten(), keras.layers.Dense(10, activation="softmax")])


def keras_fruit():
    from bench_forward import keras_fruit as make

    return make()


def torch_fit(model, x, y, batch, memory_format):
    """The loop a PyTorch user writes: tensors in memory, a permutation per
    epoch, logits + cross_entropy, Adam."""
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7, foreach=True)
    n = x.shape[0]
    perm = torch.randperm(n)
    start = time.perf_counter()
    for i in range(0, n, batch):
        idx = perm[i : i + batch]
        xb = x.index_select(0, idx)
        if memory_format is not None:
            xb = xb.contiguous(memory_format=memory_format)
        logits = model.logits(xb)
        loss = F.cross_entropy(logits, y.index_select(0, idx))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    loss.item()
    return n / (time.perf_counter() - start)


def torch_predict(model, x, batch, memory_format):
    model.eval()
    start = time.perf_counter()
    with torch.inference_mode():
        outs = []
        for i in range(0, x.shape[0], batch):
            xb = x[i : i + batch]
            if memory_format is not None:
                xb = xb.contiguous(memory_format=memory_format)
            outs.append(model(xb))
        torch.cat(outs).numpy()
    return x.shape[0] / (time.perf_counter() - start)


def timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def bench(name, make_ours, make_torch, make_keras, shape, n, rounds, batch=32, jit=False):
    rng = np.random.default_rng(0)
    x = rng.random((n,) + shape).astype("float32")
    classes = 10 if shape[0] == 28 else 60
    y = rng.integers(0, classes, n)
    xt_nchw = torch.from_numpy(x).permute(0, 3, 1, 2).contiguous()
    yt = torch.from_numpy(y)

    # Like for like: the hand-written loop computes the loss and no metric, so
    # the headline kerasish figure compiles without metrics too; the
    # "kerasish +accuracy" row shows what Keras's usual metrics=["accuracy"] costs.
    ours = make_ours()
    ours.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    ours_acc = make_ours()
    ours_acc.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    hand = make_torch()
    hand_cl = make_torch().to(memory_format=torch.channels_last)
    km = None
    try:
        km = make_keras()
        km.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    except ImportError:
        pass

    fit, pred = {}, {}

    def record(table, key, value):
        table.setdefault(key, []).append(value)

    warm = min(n, batch * 8)
    ours.fit(x[:warm], y[:warm], batch_size=batch, epochs=1, verbose=0)
    ours_acc.fit(x[:warm], y[:warm], batch_size=batch, epochs=1, verbose=0)
    ours_jit = None
    if jit:  # torch.compile's first call compiles (minutes on 2 cores); warm it up here
        ours_jit = make_ours()
        ours_jit.compile(optimizer="adam", loss="sparse_categorical_crossentropy", jit_compile=True)
        ours_jit.fit(x[:warm], y[:warm], batch_size=batch, epochs=1, verbose=0)
    torch_fit(hand, xt_nchw[:warm], yt[:warm], batch, None)
    torch_fit(hand_cl, xt_nchw[:warm], yt[:warm], batch, torch.channels_last)
    if km is not None:
        km.fit(x[:warm], y[:warm], batch_size=batch, epochs=1, verbose=0)
    # Each ratio's two sides run next to each other (hand-written loops, then
    # kerasish eager, then jit_compile), so that both meet the same machine.
    runs = [
        (fit, "torch", lambda: torch_fit(hand, xt_nchw, yt, batch, None)),
        (fit, "torch channels_last", lambda: torch_fit(hand_cl, xt_nchw, yt, batch, torch.channels_last)),
        (fit, "kerasish", lambda: n / timed(lambda: ours.fit(x, y, batch_size=batch, epochs=1, verbose=0))),
    ]
    if ours_jit is not None:
        runs.append((fit, "kerasish jit_compile", lambda: n / timed(lambda: ours_jit.fit(x, y, batch_size=batch, epochs=1, verbose=0))))
    runs += [
        (fit, "kerasish +accuracy", lambda: n / timed(lambda: ours_acc.fit(x, y, batch_size=batch, epochs=1, verbose=0))),
        (pred, "kerasish", lambda: n / timed(lambda: ours.predict(x, batch_size=batch, verbose=0))),
        (pred, "torch", lambda: torch_predict(hand, xt_nchw, batch, None)),
        (pred, "torch channels_last", lambda: torch_predict(hand_cl, xt_nchw, batch, torch.channels_last)),
    ]
    if km is not None:  # Keras compiled with metrics=["accuracy"], as the seed does
        runs.append((fit, "keras 3", lambda: n / timed(lambda: km.fit(x, y, batch_size=batch, epochs=1, verbose=0))))
        runs.append((pred, "keras 3", lambda: n / timed(lambda: km.predict(x, batch_size=batch, verbose=0))))
    for r in range(rounds):
        # Rotate the order every round: on a small shared machine the position
        # in the round matters as much as the contender.
        shift = r % len(runs)
        for table, key, run in runs[shift:] + runs[:shift]:
            record(table, key, run())
    for title, table in (("fit", fit), ("predict", pred)):
        med = {k: statistics.median(v) for k, v in table.items()}
        best = max(med["torch"], med["torch channels_last"])
        # The machine's speed drifts between rounds; within a round the
        # contenders run back to back, so the ratio taken round by round is
        # the steadier figure.
        per_round = [o / max(t, c) for o, t, c in zip(table["kerasish"], table["torch"], table["torch channels_last"])]
        print(f"\n{name} {title}, batch {batch}, {n} samples: median samples/s over {rounds} rounds")
        for k, v in med.items():
            print(f"  {k:22s} {v:10,.1f}")
        print(f"  kerasish / best hand-written torch: {med['kerasish'] / best:.2f}x "
              f"(round by round: median {statistics.median(per_round):.2f}x, range {min(per_round):.2f}x to {max(per_round):.2f}x)")
        if "keras 3" in med:
            ours_key = "kerasish +accuracy" if "kerasish +accuracy" in med else "kerasish"  # Keras runs with accuracy too
            print(f"  {ours_key} / keras 3:{' ' * (16 - len(ours_key))}   {med[ours_key] / med['keras 3']:.2f}x")
        if "kerasish jit_compile" in med:
            jit_rounds = [j / e for j, e in zip(table["kerasish jit_compile"], table["kerasish"])]
            print(f"  kerasish jit_compile / eager:       {med['kerasish jit_compile'] / med['kerasish']:.2f}x "
                  f"(round by round: median {statistics.median(jit_rounds):.2f}x)")


def import_time(module):
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={**os.environ, "KERAS_BACKEND": "torch"})
    return float(out.stdout.strip() or "nan")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--mnist-samples", type=int, default=8192)
    p.add_argument("--fruit-samples", type=int, default=96)
    p.add_argument("--skip-fruit", action="store_true")
    p.add_argument("--skip-mnist", action="store_true")
    p.add_argument("--no-jit", action="store_true", help="skip the jit_compile=True run on the fruit network")
    args = p.parse_args()
    print(f"import torch: {import_time('torch'):.2f} s, kerasish: {import_time('kerasish'):.2f} s, keras: {import_time('keras'):.2f} s (each in a fresh process)")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")

    TorchMnist.logits = lambda self, x: self.fc(torch.flatten(self.pool(self.conv(x)), 1))
    TorchFruit.logits = lambda self, x: self.head[:-1](self.features(x))
    if not args.skip_mnist:
        bench("seed 000 MNIST network", kerasish_mnist, TorchMnist, keras_mnist, (28, 28, 1), args.mnist_samples, args.rounds)
    if not args.skip_fruit:
        bench("seed 001 fruit network", kerasish_fruit, TorchFruit, keras_fruit, (100, 100, 3), args.fruit_samples, args.rounds, jit=not args.no_jit)


if __name__ == "__main__":
    main()
