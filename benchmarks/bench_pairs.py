"""Is kerasish faster, or was the machine? Paired measurements of one target at a time.

    python benchmarks/bench_pairs.py [--rounds 21] [--only mnist-predict,fruit-jit]

bench_fit.py runs every contender of both networks in each round, so a round
takes half a minute and this small shared machine changes speed within it.
Here each target's contenders run back to back, in a rotating order, many
times; each round gives one ratio (kerasish against the faster hand-written
loop of that round, or compiled against eager). Printed per target: the
median ratio, how many rounds kerasish won, and the sign test's p-value: the
chance of winning at least that many rounds if the two were equally fast.
A small p-value says the lead is not the machine's noise.

Targets (the seed 000 MNIST network at 8,192 samples, the seed 001 fruit
network at 96, batch 32, Adam, as in bench_fit.py): mnist-fit, mnist-predict,
fruit-fit, fruit-predict, fruit-jit (``jit_compile=True`` against eager),
mnist-override (a Model subclass whose ``train_step`` calls
``super().train_step(data)``, against the same network without the override:
the public step costs nothing).
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time

import numpy as np
import torch

import kerasish

os.environ.setdefault("KERAS_BACKEND", "torch")
sys.path.insert(0, os.path.dirname(__file__))
from bench_fit import torch_fit, torch_predict  # noqa: E402
from bench_forward import TorchFruit, TorchMnist, kerasish_fruit, kerasish_mnist  # noqa: E402

TorchMnist.logits = lambda self, x: self.fc(torch.flatten(self.pool(self.conv(x)), 1))
TorchFruit.logits = lambda self, x: self.head[:-1](self.features(x))

NETWORKS = {"mnist": (kerasish_mnist, TorchMnist, (28, 28, 1), 10, 8192), "fruit": (kerasish_fruit, TorchFruit, (100, 100, 3), 60, 96)}


def sign_test(wins: int, n: int) -> float:
    """P(at least ``wins`` of ``n`` fair coin flips): one-sided sign test."""
    return sum(math.comb(n, k) for k in range(wins, n + 1)) / 2**n


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def contenders(target: str, batch: int = 32):
    """(ours, [rivals]) as callables returning samples/s; ``ours`` is
    compared with the fastest rival of each round."""
    net, what = target.split("-")
    make_ours, make_torch, shape, classes, n = NETWORKS[net]
    rng = np.random.default_rng(0)
    x = rng.random((n,) + shape).astype("float32")
    y = rng.integers(0, classes, n)
    xt, yt = torch.from_numpy(x).permute(0, 3, 1, 2).contiguous(), torch.from_numpy(y)

    def kerasish_model(jit=False):
        model = make_ours()
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", jit_compile=jit)
        model.fit(x[: batch * 4], y[: batch * 4], batch_size=batch, verbose=0)  # warm (and compile)
        return model

    ours = kerasish_model()
    fit = lambda m: (lambda: n / timed(lambda: m.fit(x, y, batch_size=batch, epochs=1, verbose=0)))
    if what == "jit":
        return fit(kerasish_model(jit=True)), [fit(ours)]
    if what == "override":
        class Overridden(kerasish.Model):
            def train_step(self, data):
                return super().train_step(data)

        plain = make_ours()
        overridden = Overridden(plain.inputs, plain.outputs)
        overridden.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        overridden.fit(x[: batch * 4], y[: batch * 4], batch_size=batch, verbose=0)
        return fit(overridden), [fit(ours)]
    hand, hand_cl = make_torch(), make_torch().to(memory_format=torch.channels_last)
    if what == "fit":
        return fit(ours), [lambda: torch_fit(hand, xt, yt, batch, None), lambda: torch_fit(hand_cl, xt, yt, batch, torch.channels_last)]
    return (lambda: n / timed(lambda: ours.predict(x, batch_size=batch, verbose=0)),
            [lambda: torch_predict(hand, xt, batch, None), lambda: torch_predict(hand_cl, xt, batch, torch.channels_last)])


def run(target: str, rounds: int) -> None:
    ours, rivals = contenders(target)
    runs = [ours] + rivals
    for fn in runs:  # warm every contender once more, untimed
        fn()
    ratios = []
    for r in range(rounds):
        shift = r % len(runs)  # rotate: each contender goes first as often as the others
        speeds = {}
        for i in list(range(len(runs)))[shift:] + list(range(len(runs)))[:shift]:
            speeds[i] = runs[i]()
        ratios.append(speeds[0] / max(speeds[i] for i in range(1, len(runs))))
    wins = sum(q > 1 for q in ratios)
    against = {"jit": "eager", "override": "no override"}.get(target.split("-")[1], "the faster hand-written loop")
    print(f"{target:14s} kerasish / {against}: median {statistics.median(ratios):.2f}x, geometric mean "
          f"{math.exp(statistics.fmean(math.log(q) for q in ratios)):.2f}x, range {min(ratios):.2f}x to {max(ratios):.2f}x; "
          f"won {wins} of {rounds} rounds (sign test p = {sign_test(wins, rounds):.3g})", flush=True)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=21)
    p.add_argument("--only", default="mnist-fit,mnist-predict,fruit-fit,fruit-predict,fruit-jit")
    args = p.parse_args()
    targets = [t.strip() for t in args.only.split(",")]
    known = [f"{net}-{what}" for net in NETWORKS for what in ("fit", "predict")] + ["fruit-jit", "mnist-override"]
    unknown = [t for t in targets if t not in known]
    if unknown:
        p.error(f"--only: unknown target(s) {unknown}; known: {', '.join(known)}")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {args.rounds} rounds per target")
    for target in targets:
        run(target, args.rounds)


if __name__ == "__main__":
    main()
