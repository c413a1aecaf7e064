"""A transformer-block classifier: kerasish fit vs a hand-written PyTorch loop vs Keras 3.

    python benchmarks/bench_transformer.py [--rounds 5] [--steps 100] [--no-keras] [--seq 128]

The model of issue 19's "Speed" section: float sequences (batch 32, 128
steps of 128 features) -> one transformer block as keras.io's text
classifier writes it (MultiHeadAttention with 4 heads of key_dim 32, residual
+ LayerNormalization, a ReLU MLP of 256 back to 128, residual +
LayerNormalization; epsilon 1e-6, no dropout) -> GlobalAveragePooling1D ->
Dense(10) logits, sparse categorical crossentropy from logits, Adam (lr 1e-3,
eps 1e-7).

Contenders, each timed over one epoch of ``--steps`` batches: kerasish
``fit`` (numpy arrays in, as a user calls it), a hand-written PyTorch loop on
``nn.Linear`` projections + ``F.scaled_dot_product_attention`` +
``nn.LayerNorm`` (tensors already on the device, a permutation per epoch,
``F.cross_entropy``), and, where installed, Keras 3 on its torch backend
(``KERAS_BACKEND=torch``, imported in this process as bench_fit.py does).
Nobody computes a metric. Every contender is warmed up first; rounds rotate
the order so machine noise hits every contender alike. Printed: median
steps/s of each, and kerasish / hand-written and kerasish / Keras 3 (medians,
and round by round).
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

import kerasish
from fit_race import race, report, timed_fit, torch_fit

os.environ.setdefault("KERAS_BACKEND", "torch")

SEQ, DIM, HEADS, KEY_DIM, MLP, BATCH, CLASSES = 128, 128, 4, 32, 256, 32, 10
EPSILON = 1e-6


def build(lib, seq: int, dim: int, heads: int, key_dim: int, mlp: int, classes: int):
    """The model in ``lib`` (``kerasish`` or ``keras``), compiled like for like."""
    layers = lib.layers
    inputs = lib.Input((seq, dim))
    attn = layers.MultiHeadAttention(num_heads=heads, key_dim=key_dim)(inputs, inputs)
    x = layers.LayerNormalization(epsilon=EPSILON)(layers.Add()([inputs, attn]))
    ffn = layers.Dense(dim)(layers.Dense(mlp, activation="relu")(x))
    x = layers.LayerNormalization(epsilon=EPSILON)(layers.Add()([x, ffn]))
    outputs = layers.Dense(classes)(layers.GlobalAveragePooling1D()(x))
    model = lib.Model(inputs, outputs)
    model.compile(optimizer=lib.optimizers.Adam(learning_rate=1e-3, epsilon=1e-7),
                  loss=lib.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


class TorchBlock(nn.Module):
    """What a PyTorch user writes for the same model: separate q / k / v
    projections (as Keras's), fused attention, logits out."""

    def __init__(self, dim: int, heads: int, key_dim: int, mlp: int, classes: int):
        super().__init__()
        self.heads, self.key_dim = heads, key_dim
        self.q, self.k, self.v = (nn.Linear(dim, heads * key_dim) for _ in range(3))
        self.o = nn.Linear(heads * key_dim, dim)
        self.norm1, self.norm2 = nn.LayerNorm(dim, eps=EPSILON), nn.LayerNorm(dim, eps=EPSILON)
        self.mlp = nn.Sequential(nn.Linear(dim, mlp), nn.ReLU(), nn.Linear(mlp, dim))
        self.fc = nn.Linear(dim, classes)

    def forward(self, x):
        b, t, _ = x.shape

        def heads(proj):  # (b, t, h * d) -> (b, h, t, d)
            return proj(x).view(b, t, self.heads, self.key_dim).transpose(1, 2)

        attn = F.scaled_dot_product_attention(heads(self.q), heads(self.k), heads(self.v))
        x = self.norm1(x + self.o(attn.transpose(1, 2).reshape(b, t, -1)))
        x = self.norm2(x + self.mlp(x))
        return self.fc(x.mean(dim=1))


def run(steps: int, rounds: int, with_keras: bool = True, seq: int = SEQ, dim: int = DIM, heads: int = HEADS,
        key_dim: int = KEY_DIM, mlp: int = MLP, batch: int = BATCH, classes: int = CLASSES) -> dict:
    """Benchmark the model; prints the table and returns {contender: [steps/s per round]}."""
    device = kerasish.config.get_device()
    n = steps * batch
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, seq, dim)).astype("float32")
    y = rng.integers(0, classes, (n,)).astype("int64")
    xt, yt = torch.from_numpy(x).to(device), torch.from_numpy(y).to(device)

    torch.manual_seed(0)
    ours = build(kerasish, seq, dim, heads, key_dim, mlp, classes)
    hand = TorchBlock(dim, heads, key_dim, mlp, classes).to(device)
    hand_opt = torch.optim.Adam(hand.parameters(), lr=1e-3, eps=1e-7, foreach=True)
    theirs = None
    if with_keras:
        try:
            import keras  # the rival, never imported by kerasish itself
        except ImportError:
            print("keras not installed: Keras 3 skipped")
        else:
            theirs = build(keras, seq, dim, heads, key_dim, mlp, classes)

    warm = min(n, batch * 8)
    runs = {
        "torch": lambda w=n: torch_fit(hand, hand_opt, F.cross_entropy, xt[:w], yt[:w], batch, device),
        "kerasish": lambda w=n: timed_fit(ours, x[:w], y[:w], batch, device),
    }
    if theirs is not None:
        runs["keras 3"] = lambda w=n: timed_fit(theirs, x[:w], y[:w], batch, device)
    speeds = race(runs, warm, rounds)

    report(f"\nTransformer block (MultiHeadAttention {heads}x{key_dim}, dim {dim}, MLP {mlp}) -> Dense({classes}): "
           f"sequences of {seq}, batch {batch}, {steps} steps per epoch, "
           f"{device.type}: median steps/s over {rounds} rounds", speeds)
    return speeds


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--steps", type=int, default=100, help="batches per timed epoch")
    p.add_argument("--no-keras", action="store_true", help="skip Keras 3")
    p.add_argument("--seq", type=int, default=SEQ, help="sequence length (the issue's figure: 128)")
    args = p.parse_args(argv)
    if args.steps < 1 or args.rounds < 1 or args.seq < 1:
        p.error("--steps, --rounds and --seq must be at least 1")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, kerasish on {kerasish.config.get_device()}")
    run(args.steps, args.rounds, with_keras=not args.no_keras, seq=args.seq)


if __name__ == "__main__":
    main(sys.argv[1:])
