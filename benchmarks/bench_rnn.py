"""Recurrent text classifiers: kerasish fit vs a hand-written PyTorch loop vs Keras 3.

    python benchmarks/bench_rnn.py [--rounds 5] [--steps 200] [--only lstm,bigru] [--no-keras]

Two models of issue 18's "Speed" section, each as token ids (vocabulary
5,000, sequences of 80, batch 32) -> Embedding(5000, 128) -> recurrent layer
-> Dense(1, sigmoid), binary crossentropy, Adam (lr 1e-3, eps 1e-7):

* ``lstm``: LSTM(64), the last hidden state;
* ``bigru``: Bidirectional(GRU(64)) (Keras's default ``reset_after=True``
  is torch's GRU), both directions' last states concatenated.

Contenders, each timed over one epoch of ``--steps`` batches: kerasish
``fit`` (numpy arrays in, as a user calls it), a hand-written PyTorch loop on
``nn.Embedding`` + ``nn.LSTM`` / ``nn.GRU`` + ``nn.Linear`` (tensors already
on the device, a permutation per epoch, logits + ``binary_cross_entropy_with_logits``),
and, where installed, Keras 3 on its torch backend (``KERAS_BACKEND=torch``,
imported in this process as bench_fit.py does). Nobody computes a metric.
Every contender is warmed up first; rounds rotate the order so machine noise
hits every contender alike. Printed per model: median steps/s of each, and
kerasish / hand-written and kerasish / Keras 3 (medians, and round by round).
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

VOCAB, MAXLEN, BATCH, EMBED, UNITS = 5000, 80, 32, 128, 64
MODELS = ("lstm", "bigru")


def build(lib, kind: str, vocab: int, maxlen: int, embed: int, units: int):
    """The model in ``lib`` (``kerasish`` or ``keras``), compiled like for like."""
    layers = lib.layers
    rnn = layers.LSTM(units) if kind == "lstm" else layers.Bidirectional(layers.GRU(units))
    model = lib.Sequential([lib.Input((maxlen,), dtype="int32"), layers.Embedding(vocab, embed), rnn,
                            layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=lib.optimizers.Adam(learning_rate=1e-3, epsilon=1e-7), loss="binary_crossentropy")
    return model


class TorchRNN(nn.Module):
    """What a PyTorch user writes for the same model: the classifier returns logits."""

    def __init__(self, kind: str, vocab: int, embed: int, units: int):
        super().__init__()
        self.kind = kind
        self.embedding = nn.Embedding(vocab, embed)
        if kind == "lstm":
            self.rnn = nn.LSTM(embed, units, batch_first=True)
        else:
            self.rnn = nn.GRU(embed, units, batch_first=True, bidirectional=True)
        self.fc = nn.Linear(units * (1 if kind == "lstm" else 2), 1)

    def forward(self, ids):
        _, state = self.rnn(self.embedding(ids))
        h = state[0] if self.kind == "lstm" else state  # (directions, batch, units)
        return self.fc(torch.cat(list(h), dim=-1)).squeeze(-1)


def run(kind: str, steps: int, rounds: int, with_keras: bool = True, vocab: int = VOCAB, maxlen: int = MAXLEN,
        embed: int = EMBED, units: int = UNITS, batch: int = BATCH) -> dict:
    """Benchmark one model; prints the table and returns {contender: [steps/s per round]}."""
    device = kerasish.config.get_device()
    n = steps * batch
    rng = np.random.default_rng(0)
    x = rng.integers(1, vocab, (n, maxlen)).astype("int32")
    y = rng.integers(0, 2, (n, 1)).astype("float32")
    xt, yt = torch.from_numpy(x).long().to(device), torch.from_numpy(y[:, 0]).to(device)

    torch.manual_seed(0)
    ours = build(kerasish, kind, vocab, maxlen, embed, units)
    hand = TorchRNN(kind, vocab, embed, units).to(device)
    hand_opt = torch.optim.Adam(hand.parameters(), lr=1e-3, eps=1e-7, foreach=True)
    theirs = None
    if with_keras:
        try:
            import keras  # the rival, never imported by kerasish itself
        except ImportError:
            print("keras not installed: Keras 3 skipped")
        else:
            theirs = build(keras, kind, vocab, maxlen, embed, units)

    warm = min(n, batch * 8)
    runs = {
        "torch": lambda w=n: torch_fit(hand, hand_opt, F.binary_cross_entropy_with_logits, xt[:w], yt[:w], batch, device),
        "kerasish": lambda w=n: timed_fit(ours, x[:w], y[:w], batch, device),
    }
    if theirs is not None:
        runs["keras 3"] = lambda w=n: timed_fit(theirs, x[:w], y[:w], batch, device)
    speeds = race(runs, warm, rounds)

    title = {"lstm": "Embedding -> LSTM(64) -> Dense", "bigru": "Embedding -> Bidirectional(GRU(64)) -> Dense"}[kind]
    report(f"\n{title}: vocabulary {vocab}, sequences of {maxlen}, batch {batch}, {steps} steps per epoch, "
           f"{device.type}: median steps/s over {rounds} rounds", speeds)
    return speeds


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--steps", type=int, default=200, help="batches per timed epoch")
    p.add_argument("--only", default=",".join(MODELS), help=f"comma-separated, of: {', '.join(MODELS)}")
    p.add_argument("--no-keras", action="store_true", help="skip Keras 3")
    p.add_argument("--maxlen", type=int, default=MAXLEN, help="sequence length (the issue's figure: 80)")
    args = p.parse_args(argv)
    kinds = [k.strip() for k in args.only.split(",") if k.strip()]
    unknown = [k for k in kinds if k not in MODELS]
    if unknown:
        p.error(f"--only: unknown model(s) {unknown}; known: {', '.join(MODELS)}")
    if args.steps < 1 or args.rounds < 1:
        p.error("--steps and --rounds must be at least 1")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, kerasish on {kerasish.config.get_device()}")
    for kind in kinds:
        run(kind, args.steps, args.rounds, with_keras=not args.no_keras, maxlen=args.maxlen)


if __name__ == "__main__":
    main(sys.argv[1:])
