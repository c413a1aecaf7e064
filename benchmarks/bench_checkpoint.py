"""Checkpoint cost during fit: seconds per ModelCheckpoint save of the fruit network.

    python benchmarks/bench_checkpoint.py [--epochs 8] [--samples 16] [--folder DIR]

The fruit network (bench_forward.kerasish_fruit, 10.6 M parameters, Adam) is
fit on a few random samples (one batch per epoch) with a ModelCheckpoint
writing every epoch: once with ``save_weights_only=True`` (``.weights.h5``)
and once saving the whole model (``.keras``). The time spent inside the
checkpoint callback is measured directly and printed per save (median and
min over the epochs), with the epoch time beside it. Saves are atomic since
issue 17 (a temporary file, fsync, rename); to compare with older code, run
the same script with ``PYTHONPATH=<old checkout>`` (the kerasish it imports
is printed first).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from bench_forward import kerasish_fruit  # noqa: E402

import kerasish  # noqa: E402


class _Timed(kerasish.callbacks.Callback):
    """Runs ``inner``'s on_epoch_end and records how long it took."""

    def __init__(self, inner):
        super().__init__()
        self.inner = inner
        self.seconds = []

    def set_model(self, model):
        super().set_model(model)
        self.inner.set_model(model)

    def on_train_begin(self, logs=None):
        self.inner.on_train_begin(logs)

    def on_epoch_end(self, epoch, logs=None):
        start = time.perf_counter()
        self.inner.on_epoch_end(epoch, logs)
        self.seconds.append(time.perf_counter() - start)


class _EpochTimes(kerasish.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.seconds, self._start = [], None

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self._start)


def run(epochs=8, samples=16, folder=None):
    """Fit with each kind of checkpoint; returns {kind: (median s/save, min s/save, median s/epoch)}."""
    folder = folder or tempfile.mkdtemp(prefix="bench_checkpoint_")
    rng = np.random.default_rng(0)
    x = rng.random((samples, 100, 100, 3), dtype=np.float32)
    y = rng.integers(0, 60, samples)
    results = {}
    for kind, name, weights_only in (("save_weights_only", "ckpt.weights.h5", True), ("whole model", "ckpt.keras", False)):
        kerasish.utils.set_random_seed(0)
        model = kerasish_fruit()
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        timed = _Timed(kerasish.callbacks.ModelCheckpoint(os.path.join(folder, name), save_weights_only=weights_only))
        epochs_cb = _EpochTimes()
        model.fit(x, y, batch_size=samples, epochs=epochs, verbose=0, callbacks=[timed, epochs_cb])
        per_save = timed.seconds[1:] or timed.seconds  # the first save also creates the file
        results[kind] = (statistics.median(per_save), min(per_save), statistics.median(epochs_cb.seconds[1:] or epochs_cb.seconds))
        size = os.path.getsize(os.path.join(folder, name)) / 2**20
        print(f"{kind:18s} {size:7.1f} MiB  {results[kind][0]:.3f} s/checkpoint (median; min {results[kind][1]:.3f})  "
              f"epoch {results[kind][2]:.3f} s", flush=True)
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--samples", type=int, default=16)
    parser.add_argument("--folder", default=None, help="where checkpoints go (a temporary folder by default)")
    args = parser.parse_args()
    print(f"kerasish from {os.path.dirname(kerasish.__file__)}", flush=True)
    run(args.epochs, args.samples, args.folder)


if __name__ == "__main__":
    main()
