"""Inference speed of the seed networks: kerasish vs a hand-written PyTorch
module vs Keras 3 (torch backend, when installed), interleaved in one run.

    python benchmarks/bench_forward.py [--rounds 5] [--batch 32]

Prints the median samples/s of each and the ratios. Training speed (fit) is
measured by bench_fit.py, which arrives with the training issue.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np
import torch
from torch import nn

os.environ.setdefault("KERAS_BACKEND", "torch")


def kerasish_mnist():
    from kerasish import Sequential
    from kerasish.layers import Conv2D, Dense, Flatten, MaxPooling2D

    return Sequential([Conv2D(8, 3, input_shape=(28, 28, 1), use_bias=False), MaxPooling2D(pool_size=2), Flatten(), Dense(10, activation="softmax")])


class TorchMnist(nn.Module):
    """The same network written by hand, as a PyTorch user would (NCHW input)."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 8, 3, bias=False)
        self.pool = nn.MaxPool2d(2)
        self.fc = nn.Linear(8 * 13 * 13, 10)

    def forward(self, x):
        return torch.softmax(self.fc(torch.flatten(self.pool(self.conv(x)), 1)), dim=1)


def keras_mnist():
    import keras

    return keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Conv2D(8, 3, use_bias=False), keras.layers.MaxPooling2D(2), keras.layers.Flatten(), keras.layers.Dense(10, activation="softmax")])


def kerasish_fruit():
    from kerasish import Input, Model
    from kerasish.layers import Conv2D, Dense, Flatten, MaxPool2D

    x0 = Input([100, 100, 3])
    x = x0
    for f in [32, 32, 32, "p", 64, 64, 64, "p", 128, 128, 128, "p", 256, 256, "p"]:
        x = MaxPool2D()(x) if f == "p" else Conv2D(f, (3, 3), padding="same", activation="relu")(x)
    x = Dense(1024, activation="relu")(Flatten()(x))
    return Model(x0, Dense(60, activation="softmax")(x))


class TorchFruit(nn.Module):
    def __init__(self):
        super().__init__()
        layers, c = [], 3
        for f in [32, 32, 32, "p", 64, 64, 64, "p", 128, 128, 128, "p", 256, 256, "p"]:
            if f == "p":
                layers.append(nn.MaxPool2d(2))
            else:
                layers += [nn.Conv2d(c, f, 3, padding=1), nn.ReLU()]
                c = f
        self.features = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(9216, 1024), nn.ReLU(), nn.Linear(1024, 60), nn.Softmax(1))

    def forward(self, x):
        return self.head(self.features(x))


def keras_fruit():
    import keras

    x0 = keras.Input([100, 100, 3])
    x = x0
    for f in [32, 32, 32, "p", 64, 64, 64, "p", 128, 128, 128, "p", 256, 256, "p"]:
        x = keras.layers.MaxPool2D()(x) if f == "p" else keras.layers.Conv2D(f, (3, 3), padding="same", activation="relu")(x)
    x = keras.layers.Dense(1024, activation="relu")(keras.layers.Flatten()(x))
    return keras.Model(x0, keras.layers.Dense(60, activation="softmax")(x))


def time_it(fn, x, steps):
    with torch.inference_mode():
        for _ in range(max(3, steps // 10)):  # warm up (oneDNN picks its kernels on first calls)
            fn(x)
        start = time.perf_counter()
        for _ in range(steps):
            fn(x)
        return steps * x.shape[0] / (time.perf_counter() - start)


def bench(name, make_k, make_t, make_keras, shape, batch, steps, rounds):
    nhwc = torch.rand((batch,) + shape)
    nchw = nhwc.permute(0, 3, 1, 2).contiguous()
    nchw_cl = nchw.to(memory_format=torch.channels_last)
    ours = make_k()
    hand = make_t().eval()
    hand_cl = make_t().eval().to(memory_format=torch.channels_last)
    contenders = {"kerasish": (ours, nhwc), "torch": (hand, nchw), "torch channels_last": (hand_cl, nchw_cl)}
    try:
        km = make_keras()
        contenders["keras 3"] = (lambda x: km(x, training=False), nhwc)
    except ImportError:
        pass
    results = {k: [] for k in contenders}
    for _ in range(rounds):  # interleaved, so machine noise hits everyone alike
        for key, (fn, x) in contenders.items():
            results[key].append(time_it(fn, x, steps))
    med = {k: statistics.median(v) for k, v in results.items()}
    best_torch = max(med["torch"], med["torch channels_last"])
    print(f"\n{name} forward, batch {batch}: median samples/s over {rounds} rounds")
    for k, v in med.items():
        print(f"  {k:22s} {v:12,.0f}")
    print(f"  kerasish / best hand-written torch: {med['kerasish'] / best_torch:.2f}x")
    if "keras 3" in med:
        print(f"  kerasish / keras 3:                 {med['kerasish'] / med['keras 3']:.2f}x")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--batch", type=int, default=32)
    args = p.parse_args()
    t = time.perf_counter()
    import kerasish  # noqa: F401

    print(f"import kerasish: {time.perf_counter() - t:.2f} s")
    bench("seed 000 MNIST network", kerasish_mnist, TorchMnist, keras_mnist, (28, 28, 1), args.batch, 200, args.rounds)
    bench("seed 001 fruit network", kerasish_fruit, TorchFruit, keras_fruit, (100, 100, 3), args.batch, 3, args.rounds)


if __name__ == "__main__":
    main()
