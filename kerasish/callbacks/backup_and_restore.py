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

A backup is committed as one unit, so a run killed at any instant (``kill
-9``, a power cut) resumes from a whole backup, the new one or the previous
one, never from weights of one save and random state of another. Each save
writes the three files under temporary names (``partial.weights.h5``,
``partial_rng_state.npz``, ``partial_metadata.json``) and fsyncs them, then
commits with one rename: a small ``backup_commit.json`` listing the moves
appears, the temporary files are renamed over the three, and the commit file
is removed. A save killed before the commit leaves only temporary files (the
previous backup is whole; they are removed by the next save or restore); one
killed after it is finished (the remaining renames done) when the backup is
next restored or saved. At rest the folder holds Keras 3's three files, so
Keras 3's ``BackupAndRestore`` can resume from them too.

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
from kerasish.saving.file_io import fsync_directory, fsync_file

__all__ = ["BackupAndRestore"]

_WEIGHTS = "latest.weights.h5"
_METADATA = "training_metadata.json"
_RNG = "training_rng_state.npz"
# The temporary names a save writes first, and the commit record (see module doc).
_PARTIAL_WEIGHTS = "partial.weights.h5"
_PARTIAL_RNG = "partial_rng_state.npz"
_PARTIAL_METADATA = "partial_metadata.json"
_COMMIT = "backup_commit.json"
_PARTIAL_COMMIT = "partial_commit.json"


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
        dp = active()
        if dp is None:
            self._recover()
        else:  # rank 0 finishes an interrupted save; every process then reads the same backup
            dp.chief_does(self._recover, f"BackupAndRestore recovering {self.backup_dir!r}")
        try:
            self._load_model()
        except (OSError, ValueError, KeyError) as e:
            if not os.path.exists(self._prev_weights_path):
                raise e
            for prev, cur in ((self._prev_weights_path, self._weights_path), (self._prev_training_metadata_path, self._training_metadata_path), (self._prev_rng_path, self._rng_path)):
                if os.path.exists(prev):
                    _copy_file(prev, cur)
                elif os.path.exists(cur) and cur != self._weights_path:
                    os.remove(cur)
            self._load_model()

    def _path(self, name):
        return os.path.join(self.backup_dir, name)

    def _recover(self):
        """Finish a save that was killed after its commit, and remove what a save
        killed before its commit left (the previous backup is then whole)."""
        if not os.path.isdir(self.backup_dir):
            return
        commit = self._path(_COMMIT)
        if os.path.exists(commit):
            try:
                with open(commit) as f:
                    moves = json.load(f)["moves"]
            except (OSError, ValueError, KeyError, TypeError):
                moves = None  # cannot happen after a whole rename; be safe: drop it
            if moves is not None:
                self._apply(moves)
            os.remove(commit)
            fsync_directory(self.backup_dir)
        copies = [f"{p}.partial" for p in (self._prev_weights_path, self._prev_training_metadata_path, self._prev_rng_path, self._weights_path, self._training_metadata_path, self._rng_path)]
        for path in [self._path(n) for n in (_PARTIAL_WEIGHTS, _PARTIAL_RNG, _PARTIAL_METADATA, _PARTIAL_COMMIT)] + copies:
            if os.path.exists(path):
                os.remove(path)

    def _apply(self, moves):
        """Rename each temporary file that is still there over its target
        (again after a kill: a move already made has no source left)."""
        for src, dst in moves:
            if src not in (_PARTIAL_WEIGHTS, _PARTIAL_RNG, _PARTIAL_METADATA) or dst not in (_WEIGHTS, _RNG, _METADATA):
                continue  # only this callback's own names
            if os.path.exists(self._path(src)):
                os.replace(self._path(src), self._path(dst))
        fsync_directory(self.backup_dir)

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
        self._recover()  # a previous save's leftovers go first
        if self.double_checkpoint:
            for cur, prev in ((self._weights_path, self._prev_weights_path), (self._training_metadata_path, self._prev_training_metadata_path), (self._rng_path, self._prev_rng_path)):
                if os.path.exists(cur):
                    _copy_file(cur, prev)
        # 1. The new backup under temporary names, each on disk (fsync).
        moves = [(_PARTIAL_WEIGHTS, _WEIGHTS)]
        self.model.save_weights(self._path(_PARTIAL_WEIGHTS), overwrite=True)
        fsync_file(self._path(_PARTIAL_WEIGHTS))
        if state is not None:
            with open(self._path(_PARTIAL_RNG), "wb") as f:
                np.savez(f, **{k: np.asarray(v) for k, v in state.items()})
                _flush(f)
            moves.append((_PARTIAL_RNG, _RNG))
        metadata = {"epoch": self._current_epoch, "batch": self._last_batch_seen, "world_size": _world()[0]}
        with open(self._path(_PARTIAL_METADATA), "w") as f:
            f.write(json.dumps(metadata))
            _flush(f)
        moves.append((_PARTIAL_METADATA, _METADATA))
        # 2. The commit: one rename makes the record of the moves appear. From
        # here on a restore completes this backup; before it, the old one stands.
        with open(self._path(_PARTIAL_COMMIT), "w") as f:
            f.write(json.dumps({"moves": moves}))
            _flush(f)
        os.replace(self._path(_PARTIAL_COMMIT), self._path(_COMMIT))
        fsync_directory(self.backup_dir)
        # 3. The moves (fsynced with the folder), then the record goes.
        self._apply(moves)
        os.remove(self._path(_COMMIT))

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
        self._recover()  # temporary files and an unfinished commit go too
        for path in (self._weights_path, self._training_metadata_path, self._rng_path, self._prev_weights_path, self._prev_training_metadata_path, self._prev_rng_path):
            if os.path.exists(path):
                os.remove(path)
        try:
            os.rmdir(self.backup_dir)
        except OSError:
            pass  # the folder holds other files: leave them


def _flush(f):
    """Flush an open file to disk (before the rename that publishes it)."""
    f.flush()
    os.fsync(f.fileno())


def _copy_file(src, dst):
    """Copy through a temporary name and one rename: ``dst`` is whole or the old one."""
    tmp = f"{dst}.partial"
    shutil.copyfile(src, tmp)
    fsync_file(tmp)
    os.replace(tmp, dst)


def _world():
    """(number of processes, this process's rank) of the run."""
    dp = active()
    return (1, 0) if dp is None else (dp.world_size, dp.rank)
