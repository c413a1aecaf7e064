"""``BackupAndRestore``: resume an interrupted ``fit`` where it stopped.

Args:
    backup_dir: folder for the backup (it must not be shared with other
        runs or callbacks).
    save_freq: ``"epoch"`` (back up at each epoch end) or an integer (also
        every that many batches; the interrupted epoch is then run again from
        its start on the weights saved mid-epoch, as in Keras).
    double_checkpoint: keep the previous backup too (``*.bkp``) and fall
        back to it when the latest one cannot be read.
    delete_checkpoint: delete the backup when ``fit`` ends normally.

A backup is three files in ``backup_dir``:

* ``latest.weights.h5``: ``model.save_weights`` (the optimizer state with it);
* ``training_rng_state.npz``: the trainer's random state
  (``model._get_training_rng_state()``, a dict of uint8 arrays, saved without
  pickle), so shuffling and dropout continue exactly as in an uninterrupted run;
* ``training_metadata.json``: ``{"epoch": E, "batch": B}`` as Keras 3
  writes it, ``E`` being the number of epochs completed (the next epoch to
  run), plus ``"world_size"``: how many processes trained.

Data-parallel (under torchrun): every process runs this callback; rank 0
writes the files, holding every process's random state (``rank1.torch``...),
and each process restores its own. A backup made with a different number of
processes is refused with a ValueError naming both numbers.

At ``on_train_begin`` an existing backup is loaded (weights, random state)
and ``model._initial_epoch`` is set to ``E``; the trainer starts its epoch
loop there. A training interrupted by an exception keeps its backup; one that
ends normally deletes it (``delete_checkpoint``; only this callback's files
are removed, and the folder when it is left empty).

Example:

    >>> callback = BackupAndRestore(backup_dir="/tmp/backup")
    >>> # model.fit(x, y, epochs=10, callbacks=[callback])  # killed at epoch 4
    >>> # model.fit(x, y, epochs=10, callbacks=[callback])  # resumes at epoch 4
"""

from __future__ import annotations

import json
import os
import shutil

import numpy as np

from kerasish.callbacks.callback import Callback
from kerasish.distribution.data_parallel import active

__all__ = ["BackupAndRestore"]

_WEIGHTS = "latest.weights.h5"
_METADATA = "training_metadata.json"
_RNG = "training_rng_state.npz"


class BackupAndRestore(Callback):
    """Callback to back up and restore the training state (see module doc)."""

    def __init__(self, backup_dir, save_freq="epoch", double_checkpoint=False, delete_checkpoint=True):
        super().__init__()
        if not backup_dir:
            raise ValueError("Empty `backup_dir` argument passed")
        if save_freq != "epoch" and (not isinstance(save_freq, int) or isinstance(save_freq, bool) or save_freq <= 0):
            raise ValueError(f"Invalid value for argument `save_freq`. Received: save_freq={save_freq}. Expected either 'epoch' or an integer value.")
        self.save_freq = save_freq
        self.double_checkpoint = double_checkpoint
        self.delete_checkpoint = delete_checkpoint
        self.backup_dir = os.fspath(backup_dir)
        self._batches_seen_since_last_saving = 0
        self._last_batch_seen = 0
        self._current_epoch = 0
        self._weights_path = os.path.join(self.backup_dir, _WEIGHTS)
        self._training_metadata_path = os.path.join(self.backup_dir, _METADATA)
        self._rng_path = os.path.join(self.backup_dir, _RNG)
        self._prev_weights_path = f"{self._weights_path}.bkp"
        self._prev_training_metadata_path = f"{self._training_metadata_path}.bkp"
        self._prev_rng_path = f"{self._rng_path}.bkp"

    # Restoring -------------------------------------------------------
    def on_train_begin(self, logs=None):
        self._current_epoch = 0
        self._last_batch_seen = 0
        self._batches_seen_since_last_saving = 0
        try:
            self._load_model()
        except (OSError, ValueError, KeyError) as e:
            if not os.path.exists(self._prev_weights_path):
                raise e
            for prev, cur in ((self._prev_weights_path, self._weights_path), (self._prev_training_metadata_path, self._training_metadata_path), (self._prev_rng_path, self._rng_path)):
                if os.path.exists(prev):
                    shutil.copyfile(prev, cur)
                elif os.path.exists(cur) and cur != self._weights_path:
                    os.remove(cur)
            self._load_model()

    def _load_model(self):
        model = self.model
        if not getattr(model, "built", True):
            raise ValueError(
                "To use the BackupAndRestore callback, you model must be built before you call `fit()`. "
                f"Model {model} is unbuilt. You can build it beforehand by calling it on a batch of data."
            )
        if os.path.exists(self._weights_path):
            optimizer = getattr(model, "optimizer", None)
            if optimizer is not None and getattr(optimizer, "built", True) is False and hasattr(optimizer, "build"):
                optimizer.build(model.trainable_variables if hasattr(model, "trainable_variables") else model.trainable_weights)
            model.load_weights(self._weights_path)
        metadata = None
        if os.path.exists(self._training_metadata_path):
            with open(self._training_metadata_path) as f:
                metadata = json.loads(f.read())
            saved_world = metadata.get("world_size")
            world, rank = _world()
            if saved_world is not None and int(saved_world) != world:
                raise ValueError(
                    f"BackupAndRestore: the backup in {self.backup_dir!r} was written by a run with {int(saved_world)} "
                    f"process(es), but this run has {world}. Resume with {int(saved_world)} process(es), or delete the backup "
                    "to start over.")
        if os.path.exists(self._rng_path) and hasattr(model, "_set_training_rng_state"):
            with np.load(self._rng_path, allow_pickle=False) as f:
                state = {k: np.array(f[k]) for k in f.files}
            world, rank = _world()
            if rank:  # this process's own random state, saved by rank 0
                prefix = f"rank{rank}."
                state = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
            else:
                state = {k: v for k, v in state.items() if not k.startswith("rank")}
            model._set_training_rng_state(state)
        if metadata is not None:
            epoch = int(metadata["epoch"])
            self._current_epoch = epoch
            model._initial_epoch = epoch

    # Saving ----------------------------------------------------------
    def on_epoch_end(self, epoch, logs=None):
        self._current_epoch = epoch + 1
        self._last_batch_seen = 0
        if self.save_freq == "epoch":
            self._save_model()

    def on_train_batch_end(self, batch, logs=None):
        if self._should_save_on_batch(batch):
            self._save_model()

    def _should_save_on_batch(self, batch):
        if self.save_freq == "epoch":
            return False
        if batch <= self._last_batch_seen:  # a new epoch
            add_batches = batch + 1
        else:
            add_batches = batch - self._last_batch_seen
        self._batches_seen_since_last_saving += add_batches
        self._last_batch_seen = batch
        if self._batches_seen_since_last_saving >= self.save_freq:
            self._batches_seen_since_last_saving = 0
            return True
        return False

    def _save_model(self):
        state = self._gather_rng_state()
        dp = active()
        if dp is None:
            self._write_backup(state)
        else:  # rank 0 writes; every process waits until the backup is whole
            dp.chief_does(lambda: self._write_backup(state), f"BackupAndRestore writing {self.backup_dir!r}")

    def _gather_rng_state(self):
        """The trainer's random state; data-parallel: every process's, keyed
        ``rank1.torch``... for ranks above 0 (a collective: all processes call it)."""
        if not hasattr(self.model, "_get_training_rng_state"):
            return None
        state = self.model._get_training_rng_state()
        dp = active()
        if dp is None:
            return state
        import torch

        merged = {}
        for key in sorted(state):
            local = torch.from_numpy(np.asarray(state[key]).astype(np.int64))
            for r, values in enumerate(dp.all_gather(local, what="gathering random states for BackupAndRestore")):
                merged[key if r == 0 else f"rank{r}.{key}"] = values.numpy().astype(np.uint8)
        return merged

    def _write_backup(self, state):
        os.makedirs(self.backup_dir, exist_ok=True)
        if self.double_checkpoint:
            for cur, prev in ((self._weights_path, self._prev_weights_path), (self._training_metadata_path, self._prev_training_metadata_path), (self._rng_path, self._prev_rng_path)):
                if os.path.exists(cur):
                    shutil.copyfile(cur, prev)
        # Everything is written under temporary names first, then moved in
        # place, metadata last: a run killed while saving keeps a whole backup.
        tmp_weights = os.path.join(self.backup_dir, "partial.weights.h5")
        self.model.save_weights(tmp_weights, overwrite=True)
        tmp_rng = None
        if state is not None:
            tmp_rng = os.path.join(self.backup_dir, "partial_rng_state.npz")
            with open(tmp_rng, "wb") as f:
                np.savez(f, **{k: np.asarray(v) for k, v in state.items()})
        tmp_meta = os.path.join(self.backup_dir, "partial_metadata.json")
        with open(tmp_meta, "w") as f:
            f.write(json.dumps({"epoch": self._current_epoch, "batch": self._last_batch_seen, "world_size": _world()[0]}))
        os.replace(tmp_weights, self._weights_path)
        if tmp_rng is not None:
            os.replace(tmp_rng, self._rng_path)
        os.replace(tmp_meta, self._training_metadata_path)

    def on_train_end(self, logs=None):
        if not self.delete_checkpoint:
            return
        dp = active()
        if dp is None:
            self._delete_backup()
        else:  # rank 0 deletes; every process returns once the backup is gone
            dp.chief_does(self._delete_backup, f"BackupAndRestore deleting {self.backup_dir!r}")

    def _delete_backup(self):
        if not os.path.isdir(self.backup_dir):
            return
        for path in (self._weights_path, self._training_metadata_path, self._rng_path, self._prev_weights_path, self._prev_training_metadata_path, self._prev_rng_path):
            if os.path.exists(path):
                os.remove(path)
        try:
            os.rmdir(self.backup_dir)
        except OSError:
            pass  # the folder holds other files: leave them


def _world():
    """(number of processes, this process's rank) of the run."""
    dp = active()
    return (1, 0) if dp is None else (dp.world_size, dp.rank)
