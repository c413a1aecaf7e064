"""Callbacks: each one driven by hand on a small fake model and compared with
Keras 3's callback driven by the same sequence of logs; the progress bar's
text against Keras's ``Progbar`` for the same numbers and clock; then a few
``fit`` runs on a tiny real model (early stopping, checkpoints, learning-rate
changes, CSV, NaN termination, backup and exact resume)."""

import collections.abc
import csv
import io
import json
import os
import re
import sys
import types

import numpy as np
import pytest
import rich.console
import torch

from kerasish import callbacks as C
from kerasish.callbacks import progbar_logger as ours_pb


# ----------------------------------------------------------------------
# Fakes
# ----------------------------------------------------------------------
class FakeOptimizer:
    def __init__(self, learning_rate=0.01):
        self.learning_rate = learning_rate
        self.iterations = 0
        self.name = "fake_opt"


class FakeModel:
    """What a callback touches: stop_training, an optimizer with a float
    learning_rate, get/set_weights, save/save_weights/load_weights writing
    real files, and the trainer's random-state hooks."""

    def __init__(self, lr=0.01):
        self.stop_training = False
        self.optimizer = FakeOptimizer(lr)
        self.weights_value = [np.zeros((2,), "float32")]
        self.saved = []
        self.metrics = []
        self.built = True
        self.rng = {"torch": np.arange(7, dtype=np.uint8), "shuffle": np.arange(3, dtype=np.uint8) + 100}
        self.rng_set = None
        self.loaded = None

    def get_weights(self):
        return [w.copy() for w in self.weights_value]

    def set_weights(self, weights):
        self.weights_value = [np.array(w) for w in weights]

    def save(self, filepath, overwrite=True):
        with open(filepath, "w") as f:
            f.write("model")
        self.saved.append(filepath)

    def save_weights(self, filepath, overwrite=True):
        np.save(filepath + ".npy", self.weights_value[0])
        os.replace(filepath + ".npy", filepath)
        self.saved.append(filepath)

    def load_weights(self, filepath):
        with open(filepath, "rb") as f:
            self.weights_value = [np.load(f)]
        self.loaded = filepath

    def _get_training_rng_state(self):
        return {k: v.copy() for k, v in self.rng.items()}

    def _set_training_rng_state(self, state):
        self.rng_set = state


class CountingLogs(collections.abc.Mapping):
    """Batch logs as the trainer passes them: 0-d tensors, counting reads."""

    def __init__(self, values):
        self._values = {k: torch.tensor(float(v)) for k, v in values.items()}
        self.reads = 0

    def __getitem__(self, key):
        self.reads += 1
        return self._values[key]

    def __iter__(self):
        return iter(self._values)

    def __len__(self):
        return len(self._values)


def _run_epochs(cb, model, values, key="val_loss", weights_per_epoch=True):
    """Drive on_train_begin / on_epoch_end / on_train_end as fit does; the
    model's weights are [epoch, epoch] during epoch ``epoch``. Returns the
    number of epochs run."""
    cb.set_model(model)
    cb.on_train_begin()
    ran = 0
    for epoch, v in enumerate(values):
        if weights_per_epoch:
            model.weights_value = [np.full((2,), epoch, "float32")]
        cb.on_epoch_begin(epoch)
        cb.on_epoch_end(epoch, {key: v, "loss": 1.0})
        ran += 1
        if model.stop_training:
            break
    cb.on_train_end()
    return ran


# ----------------------------------------------------------------------
# Callback base, CallbackList, History
# ----------------------------------------------------------------------
class Recorder(C.Callback):
    def __init__(self, name, events):
        super().__init__()
        self.name, self.events = name, events

    def on_epoch_end(self, epoch, logs=None):
        self.events.append((self.name, "epoch_end", epoch, logs))

    def on_train_batch_end(self, batch, logs=None):
        self.events.append((self.name, "train_batch_end", batch, logs))


class OldStyle(C.Callback):
    def __init__(self):
        super().__init__()
        self.calls = []

    def on_batch_begin(self, batch, logs=None):
        self.calls.append(("begin", batch))

    def on_batch_end(self, batch, logs=None):
        self.calls.append(("end", batch))


def test_callback_list_dispatch_order_and_logs():
    events = []
    a, b = Recorder("a", events), Recorder("b", events)
    model = FakeModel()
    cbs = C.CallbackList([a, [b]], add_history=True, add_progbar=False, model=model, verbose=0, epochs=2, steps=3)
    assert [type(c) for c in cbs.callbacks] == [Recorder, Recorder, C.History]
    assert a.model is model and a.params == {"verbose": 0, "epochs": 2, "steps": 3}
    assert model.history is cbs.callbacks[-1]
    batch_logs = CountingLogs({"loss": 0.5})
    cbs.on_train_begin()
    cbs.on_train_batch_end(0, batch_logs)
    # batch logs go through untouched and unread
    assert events[-1] == ("b", "train_batch_end", 0, batch_logs) and batch_logs.reads == 0
    cbs.on_epoch_end(0, {"loss": torch.tensor(0.25), "accuracy": np.float32(0.5), "val_loss": 0.75})
    name, _, _, logs = events[-1]
    assert list(logs) == ["accuracy", "loss", "val_loss"]  # sorted, as Keras
    assert all(type(v) is float for v in logs.values())
    assert [e[0] for e in events if e[1] == "epoch_end"] == ["a", "b"]
    cbs.on_train_end()
    assert model.history.history == {"accuracy": [0.5], "loss": [0.25], "val_loss": [0.75]}
    assert model.history.epoch == [0]
    assert model.history.params == {"verbose": 0, "epochs": 2, "steps": 3}


def test_callback_list_defaults_not_duplicated_and_aliases():
    h, p = C.History(), C.ProgbarLogger()
    cbs = C.CallbackList([h, p], add_history=True, add_progbar=True, model=FakeModel(), verbose=1, epochs=1, steps=1)
    assert cbs.callbacks == [h, p]
    cbs = C.CallbackList(None, add_history=True, add_progbar=True)
    assert [type(c) for c in cbs.callbacks] == [C.History, C.ProgbarLogger]
    old = OldStyle()
    cbs = C.CallbackList([old], model=FakeModel())
    cbs.on_train_batch_begin(3)
    cbs.on_train_batch_end(3, {})
    cbs.on_test_batch_end(3, {})  # not an alias of the test hooks
    assert old.calls == [("begin", 3), ("end", 3)]
    with pytest.raises(ValueError, match="without corresponding"):
        C.CallbackList([]).on_test_end()
    with pytest.raises(TypeError, match="callbacks"):
        C.CallbackList("early_stopping")


def test_logs_to_python_one_transfer_per_device_and_dtype(monkeypatch):
    from kerasish.callbacks._utils import items_to_python, pythonify_logs

    items = [("a", torch.tensor(0.5)), ("b", torch.tensor(2.0, dtype=torch.float64)), ("c", torch.tensor(1.5)),
             ("d", 3), ("e", "text"), ("f", np.float32(0.25)), ("g", torch.tensor([1.0, 2.0])), ("h", torch.tensor(7))]
    stacks = []
    real_stack = torch.stack
    monkeypatch.setattr(torch, "stack", lambda ts, *a, **k: stacks.append(len(ts)) or real_stack(ts, *a, **k))
    out = items_to_python(items)
    assert [k for k, _ in out] == list("abcdefgh")
    assert out[0][1] == 0.5 and out[1][1] == 2.0 and out[2][1] == 1.5 and out[3][1] == 3.0 and out[4][1] == "text"
    assert out[5][1] == 0.25 and out[6][1] is items[6][1] and out[7][1] == 7.0
    assert all(type(v) is float for k, v in out if k not in "eg")
    assert stacks == [2]  # the two float32 scalars went over together
    assert pythonify_logs({"z": torch.tensor(1.0), "nested": {"y": torch.tensor(2.0)}}) == {"y": 2.0, "z": 1.0}


def test_callback_base_has_every_hook(keras):
    hooks = [n for n in dir(keras.callbacks.Callback) if n.startswith("on_")]
    cb = C.Callback()
    for name in hooks:
        assert hasattr(cb, name), name
    # every hook runs with its Keras signature
    cb.on_epoch_begin(0, logs={})
    cb.on_train_batch_end(0, logs={})
    cb.on_predict_end(logs=None)
    assert cb.model is None and cb.params is None


def test_callback_model_unwraps_ddp(monkeypatch):
    from torch.nn.parallel import DistributedDataParallel

    inner = torch.nn.Linear(2, 2)
    wrapper = DistributedDataParallel.__new__(DistributedDataParallel)
    torch.nn.Module.__init__(wrapper)
    wrapper.module = inner
    cb = C.Callback()
    cb.set_model(wrapper)
    assert cb.model is inner


# ----------------------------------------------------------------------
# EarlyStopping vs Keras
# ----------------------------------------------------------------------
ES_CASES = [
    dict(patience=0),
    dict(patience=2),
    dict(patience=2, min_delta=0.05),
    dict(patience=1, restore_best_weights=True),
    dict(patience=3, restore_best_weights=True, start_from_epoch=2),
    dict(patience=2, baseline=0.3),
    dict(patience=2, baseline=0.3, restore_best_weights=True),
    dict(patience=2, mode="max", monitor="val_accuracy"),
    dict(patience=2, mode="max", monitor="val_accuracy", baseline=0.9, restore_best_weights=True),
    dict(patience=4, min_delta=-0.01, mode="min"),
]

ES_SEQUENCES = [
    [0.9, 0.8, 0.85, 0.82, 0.7, 0.71, 0.72, 0.73, 0.74, 0.6],
    [0.5, 0.5, 0.5, 0.49, 0.45, 0.46, 0.2, 0.3, 0.3, 0.3],
    [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95],
    list(np.random.default_rng(3).uniform(0, 1, 12)),
]


@pytest.mark.parametrize("case", ES_CASES, ids=lambda c: "-".join(f"{k}={v}" for k, v in c.items()))
def test_early_stopping_matches_keras(keras, case):
    for seq in ES_SEQUENCES:
        key = case.get("monitor", "val_loss")
        results = []
        for lib in (C, keras.callbacks):
            model = FakeModel()
            cb = lib.EarlyStopping(**case)
            ran = _run_epochs(cb, model, [float(v) for v in seq], key=key)
            results.append((ran, cb.stopped_epoch, cb.wait, None if cb.best is None else float(cb.best), cb.best_epoch, model.weights_value[0].tolist(), model.stop_training))
        assert results[0] == results[1], (case, seq)


def test_early_stopping_messages_and_missing_monitor(capsys):
    model = FakeModel()
    cb = C.EarlyStopping(monitor="loss", patience=1, verbose=1, restore_best_weights=True)
    cb.set_model(model)
    cb.on_train_begin()
    for epoch, v in enumerate([1.0, 0.5, 0.6, 0.7]):
        model.weights_value = [np.full((2,), epoch, "float32")]
        cb.on_epoch_end(epoch, {"loss": v})
        if model.stop_training:
            break
    cb.on_train_end()
    out = capsys.readouterr().out
    assert out == "Epoch 3: early stopping\nRestoring model weights from the end of the best epoch: 2.\n"
    assert model.weights_value[0].tolist() == [1.0, 1.0]
    cb = C.EarlyStopping(monitor="val_auc")
    cb.set_model(model)
    cb.on_train_begin()
    with pytest.warns(UserWarning, match="Early stopping conditioned on metric `val_auc` which is not available. Available metrics are: loss"):
        cb.on_epoch_end(0, {"loss": 1.0})


def test_early_stopping_argument_errors():
    with pytest.raises(ValueError, match="patience"):
        C.EarlyStopping(patience=-1)
    with pytest.raises(ValueError, match="start_from_epoch"):
        C.EarlyStopping(start_from_epoch=1.5)
    with pytest.raises(TypeError, match="monitor"):
        C.EarlyStopping(monitor=3)
    with pytest.warns(UserWarning, match="mode 'sideways' is unknown"):
        assert C.EarlyStopping(mode="sideways").mode == "auto"


def test_monitor_direction_auto():
    class Acc:
        name = "accuracy"
        _direction = "up"

    class Container:
        name = "compile_metrics"
        metrics = [Acc()]

    model = FakeModel()
    model.metrics = [Container()]
    cb = C.EarlyStopping(monitor="val_accuracy", min_delta=0.1)
    cb.set_model(model)
    cb._set_monitor_op()
    assert cb._is_improvement(0.9, 0.7) and not cb._is_improvement(0.75, 0.7)
    for monitor, up in [("val_loss", False), ("loss", False), ("val_categorical_accuracy", True), ("auc", True), ("val_mean_absolute_error", False)]:
        cb = C.EarlyStopping(monitor=monitor)
        cb.set_model(FakeModel())
        cb._set_monitor_op()
        assert cb._is_improvement(2.0, 1.0) is up, monitor
    cb = C.EarlyStopping(monitor="val_wobble")
    cb.set_model(FakeModel())
    with pytest.raises(ValueError, match="monitor=val_wobble.*mode='max'"):
        cb._set_monitor_op()


# ----------------------------------------------------------------------
# ReduceLROnPlateau / LearningRateScheduler vs Keras
# ----------------------------------------------------------------------
RLR_CASES = [
    dict(patience=0),
    dict(patience=2, factor=0.5),
    dict(patience=1, factor=0.5, cooldown=2),
    dict(patience=1, factor=0.2, min_lr=0.001),
    dict(patience=2, min_delta=0.05, factor=0.5),
    dict(patience=1, mode="max", monitor="val_accuracy", factor=0.5),
]


@pytest.mark.parametrize("case", RLR_CASES, ids=lambda c: "-".join(f"{k}={v}" for k, v in c.items()))
def test_reduce_lr_on_plateau_matches_keras(keras, case):
    for seq in ES_SEQUENCES:
        key = case.get("monitor", "val_loss")
        traces = []
        for lib in (C, keras.callbacks):
            model = FakeModel(lr=0.01)
            cb = lib.ReduceLROnPlateau(**case)
            cb.set_model(model)
            cb.on_train_begin()
            trace = []
            for epoch, v in enumerate(seq):
                logs = {key: float(v)}
                cb.on_epoch_end(epoch, logs)
                trace.append((float(model.optimizer.learning_rate), cb.wait, cb.cooldown_counter, logs["learning_rate"]))
            traces.append(trace)
        for (lr, wait, cool, logged), (klr, kwait, kcool, klogged) in zip(*traces):
            assert (wait, cool) == (kwait, kcool)
            np.testing.assert_allclose([lr, logged], [klr, klogged], rtol=1e-6)


def test_reduce_lr_messages_and_errors(capsys):
    model = FakeModel(lr=0.5)
    cb = C.ReduceLROnPlateau(monitor="loss", patience=0, factor=0.5, verbose=1)
    cb.set_model(model)
    cb.on_train_begin()
    cb.on_epoch_end(0, {"loss": 1.0})
    cb.on_epoch_end(1, {"loss": 1.0})
    assert capsys.readouterr().out == "\nEpoch 2: ReduceLROnPlateau reducing learning rate to 0.25.\n"
    with pytest.raises(ValueError, match="factor >= 1.0. Received factor=2"):
        C.ReduceLROnPlateau(factor=2)
    with pytest.raises(TypeError, match="epsilon"):
        C.ReduceLROnPlateau(epsilon=1e-3)
    with pytest.warns(UserWarning, match="conditioned on metric `val_loss`"):
        cb = C.ReduceLROnPlateau()
        cb.set_model(FakeModel())
        cb.on_epoch_end(0, {"loss": 1.0})


def test_learning_rate_scheduler_matches_keras(keras):
    def schedule(epoch, lr):
        return lr if epoch < 2 else lr * 0.5

    def old_schedule(epoch):
        return 0.1 / (epoch + 1)

    for fn in (schedule, old_schedule, lambda epoch, lr: np.float32(lr * 0.9)):
        traces = []
        for lib in (C, keras.callbacks):
            model = FakeModel(lr=0.1)
            cb = lib.LearningRateScheduler(fn)
            cb.set_model(model)
            trace = []
            for epoch in range(5):
                cb.on_epoch_begin(epoch)
                logs = {"loss": 1.0}
                cb.on_epoch_end(epoch, logs)
                trace.append((float(model.optimizer.learning_rate), logs["learning_rate"]))
            traces.append(trace)
        np.testing.assert_allclose(traces[0], traces[1], rtol=1e-6)


def test_learning_rate_scheduler_errors_and_verbose(capsys):
    cb = C.LearningRateScheduler(lambda epoch, lr: "fast")
    cb.set_model(FakeModel())
    with pytest.raises(ValueError, match="should be a float. Got: fast"):
        cb.on_epoch_begin(0)
    with pytest.raises(TypeError, match="schedule"):
        C.LearningRateScheduler(0.1)
    model = FakeModel()
    model.optimizer = object()
    cb = C.LearningRateScheduler(lambda e, lr: lr)
    cb.set_model(model)
    with pytest.raises(ValueError, match='must have a "learning_rate"'):
        cb.on_epoch_begin(0)
    cb = C.LearningRateScheduler(lambda e, lr: torch.tensor(0.5), verbose=1)
    model = FakeModel()
    cb.set_model(model)
    cb.on_epoch_begin(2)
    assert model.optimizer.learning_rate == 0.5
    assert capsys.readouterr().out == "\nEpoch 3: LearningRateScheduler setting learning rate to 0.5.\n"


# ----------------------------------------------------------------------
# ModelCheckpoint
# ----------------------------------------------------------------------
MC_CASES = [
    dict(filepath="m-{epoch:02d}.keras"),
    dict(filepath="m-{epoch:02d}-{val_loss:.2f}.keras", save_best_only=True),
    dict(filepath="w-{epoch:02d}.weights.h5", save_weights_only=True, save_best_only=True, mode="max", monitor="val_accuracy"),
    dict(filepath="best.keras", save_best_only=True, initial_value_threshold=0.75),
    dict(filepath="sub/dir/m-{epoch}.h5"),
]


@pytest.mark.parametrize("case", MC_CASES, ids=lambda c: c["filepath"])
def test_model_checkpoint_matches_keras(keras, tmp_path, case):
    seq = ES_SEQUENCES[0]
    saved = []
    for i, lib in enumerate((C, keras.callbacks)):
        base = tmp_path / str(i)
        base.mkdir()
        kwargs = dict(case, filepath=str(base / case["filepath"]))
        model = FakeModel()
        cb = lib.ModelCheckpoint(**kwargs)
        cb.set_model(model)
        cb.on_train_begin()
        for epoch, v in enumerate(seq):
            cb.on_epoch_begin(epoch)
            cb.on_epoch_end(epoch, {"val_loss": v, "val_accuracy": 1 - v, "loss": 1.0})
        saved.append([os.path.relpath(p, base) for p in model.saved])
        for p in model.saved:
            assert os.path.exists(p)
    assert saved[0] == saved[1]
    assert saved[0]


def test_model_checkpoint_batch_frequency_matches_keras(keras, tmp_path):
    saved = []
    for i, lib in enumerate((C, keras.callbacks)):
        model = FakeModel()
        cb = lib.ModelCheckpoint(str(tmp_path / f"{i}-{{epoch}}-{{batch}}-{{loss:.3f}}.keras"), save_freq=3)
        cb.set_model(model)
        cb.on_train_begin()
        for epoch in range(3):
            cb.on_epoch_begin(epoch)
            for batch in range(4):
                logs = CountingLogs({"loss": 0.1 * (batch + 1)}) if lib is C else {"loss": 0.1 * (batch + 1)}
                cb.on_train_batch_end(batch, logs)
                if lib is C and len(model.saved) == 0:
                    assert logs.reads == 0  # no read before a save is due
            cb.on_epoch_end(epoch, {"loss": 1.0})
        saved.append([os.path.basename(p)[2:] for p in model.saved])
    assert saved[0] == saved[1] == ["1-3-0.300.keras", "2-2-0.200.keras", "3-1-0.100.keras", "3-4-0.400.keras"]


def test_model_checkpoint_verbose_and_errors(tmp_path, capsys):
    model = FakeModel()
    path = str(tmp_path / "best.keras")
    cb = C.ModelCheckpoint(path, save_best_only=True, verbose=1)
    cb.set_model(model)
    cb.on_epoch_end(0, {"val_loss": 0.5})
    cb.on_epoch_end(1, {"val_loss": 0.7})
    out = capsys.readouterr().out
    assert out == (
        f"\nEpoch 1: val_loss improved from None to 0.50000, saving model to {path}\n"
        f"\nEpoch 1: finished saving model to {path}\n"
        "\nEpoch 2: val_loss did not improve from 0.50000\n"
    )
    with pytest.raises(ValueError, match=r"must end in `.keras`"):
        C.ModelCheckpoint("model.pt")
    with pytest.raises(ValueError, match=r"must end in `.weights.h5`"):
        C.ModelCheckpoint("model.keras", save_weights_only=True)
    with pytest.raises(ValueError, match="Unrecognized save_freq: sometimes"):
        C.ModelCheckpoint("m.keras", save_freq="sometimes")
    cb = C.ModelCheckpoint(str(tmp_path / "{val_acc}.keras"))
    cb.set_model(model)
    with pytest.raises(KeyError, match="Failed to format this callback filepath"):
        cb.on_epoch_end(0, {"val_loss": 1.0})
    (tmp_path / "adir.keras").mkdir()
    cb = C.ModelCheckpoint(str(tmp_path / "adir.keras"))
    cb.set_model(model)
    with pytest.raises(IOError, match="non-directory filepath"):
        cb.on_epoch_end(0, {"val_loss": 1.0})
    with pytest.warns(UserWarning, match="Can save best model only with val_loss available"):
        cb = C.ModelCheckpoint(str(tmp_path / "x.keras"), save_best_only=True)
        cb.set_model(model)
        cb.on_epoch_end(0, {"loss": 1.0})


# ----------------------------------------------------------------------
# CSVLogger, LambdaCallback, TerminateOnNaN, RemoteMonitor
# ----------------------------------------------------------------------
def _csv_run(lib, path, epochs_logs, **kwargs):
    cb = lib.CSVLogger(str(path), **kwargs)
    cb.set_model(FakeModel())
    cb.on_train_begin()
    for epoch, logs in enumerate(epochs_logs):
        cb.on_epoch_end(epoch, dict(logs))
    cb.on_train_end()
    return path.read_bytes()


@pytest.mark.parametrize("kwargs", [{}, {"separator": ";"}, {"append": True}])
def test_csv_logger_matches_keras(keras, tmp_path, kwargs):
    runs = [
        [{"loss": 0.5, "accuracy": 0.25}, {"loss": 0.25, "accuracy": 0.5}],
        [{"loss": 0.125, "accuracy": 0.75, "val_loss": 0.2, "val_accuracy": 0.8, "note": "x,y", "vec": np.array([1.0, 2.0])}],
    ]
    for logs in runs:
        a, b = tmp_path / "ours.csv", tmp_path / "keras.csv"
        for p in (a, b):
            if p.exists() and not kwargs.get("append"):
                p.unlink()
        ours = _csv_run(C, a, logs, **kwargs)
        theirs = _csv_run(keras.callbacks, b, logs, **kwargs)
        assert ours == theirs
    text = a.read_text()
    assert text.splitlines()[0].startswith("epoch")


def test_csv_logger_content(tmp_path):
    path = tmp_path / "log.csv"
    _csv_run(C, path, [{"loss": 0.5, "val_loss": 0.75}, {"loss": 0.25, "val_loss": 0.5}])
    assert path.read_bytes() == b"epoch,loss,val_loss\r\n0,0.5,0.75\r\n1,0.25,0.5\r\n"
    _csv_run(C, path, [{"loss": 0.5}])  # no val keys: NA twins, as Keras
    assert path.read_bytes() == b"epoch,loss,val_loss\r\n0,0.5,NA\r\n"
    _csv_run(C, path, [{"loss": 0.125}], append=True)
    assert path.read_bytes() == b"epoch,loss,val_loss\r\n0,0.5,NA\r\n0,0.125,NA\r\n"
    with pytest.raises(ValueError, match="separator"):
        C.CSVLogger("x.csv", separator=";;")


def test_lambda_callback():
    calls = []
    cb = C.LambdaCallback(
        on_epoch_begin=lambda epoch, logs: calls.append(("eb", epoch)),
        on_epoch_end=lambda epoch, logs: calls.append(("ee", epoch, logs["loss"])),
        on_train_begin=lambda logs: calls.append(("tb",)),
        on_train_end=lambda logs: calls.append(("te",)),
        on_train_batch_end=lambda batch, logs: calls.append(("be", batch)),
        on_test_end=lambda logs: calls.append(("test_end", logs)),
    )
    cbs = C.CallbackList([cb], model=FakeModel())
    cbs.on_train_begin()
    cbs.on_epoch_begin(0)
    cbs.on_train_batch_begin(0)
    cbs.on_train_batch_end(0, {})
    cbs.on_epoch_end(0, {"loss": 0.5})
    cbs.on_test_begin()
    cbs.on_test_end({"loss": 1.0})
    cbs.on_train_end()
    assert calls == [("tb",), ("eb", 0), ("be", 0), ("ee", 0, 0.5), ("test_end", {"loss": 1.0}), ("te",)]
    with pytest.raises(ValueError, match="unknown hook `on_lunch`"):
        C.LambdaCallback(on_lunch=print)
    with pytest.raises(TypeError, match="on_epoch_end"):
        C.LambdaCallback(on_epoch_end=3)


def test_terminate_on_nan(capsys):
    model = FakeModel()
    cb = C.TerminateOnNaN()
    cbs = C.CallbackList([cb], model=model)
    for batch, v in enumerate([0.5, 0.4, float("inf"), 0.3]):
        cbs.on_train_batch_end(batch, CountingLogs({"loss": v}))
        if model.stop_training:
            break
    assert batch == 2
    assert capsys.readouterr().out == "Batch 2: Invalid loss, terminating training\n"
    cb = C.TerminateOnNaN(raise_error=True)
    cb.set_model(FakeModel())
    with pytest.raises(RuntimeError, match="NaN or Inf loss encountered at batch 4. Loss value: nan"):
        cb.on_train_batch_end(4, {"loss": torch.tensor(float("nan"))})
    cb.on_train_batch_end(5, {"accuracy": torch.tensor(float("nan"))})  # no loss: nothing to check


def test_remote_monitor(monkeypatch):
    sent = []
    cb = C.RemoteMonitor(root="http://example.invalid", headers={"X-Run": "1"})
    monkeypatch.setattr(cb, "_post", lambda url, body, headers: sent.append((url, body, headers)))
    cb.on_epoch_end(2, {"loss": 0.5, "acc": np.float32(0.25)})
    url, body, headers = sent[0]
    assert url == "http://example.invalid/publish/epoch/end/"
    import urllib.parse

    assert json.loads(urllib.parse.parse_qs(body.decode())["data"][0]) == {"epoch": 2, "loss": 0.5, "acc": 0.25}
    assert headers["X-Run"] == "1"
    cb = C.RemoteMonitor(root="http://127.0.0.1:9", send_as_json=True)
    with pytest.warns(UserWarning, match="Could not reach RemoteMonitor root server"):
        cb.on_epoch_end(0, {"loss": 1.0})


# ----------------------------------------------------------------------
# TensorBoard (through a stand-in SummaryWriter)
# ----------------------------------------------------------------------
class FakeWriter:
    instances = []

    def __init__(self, log_dir):
        self.log_dir = log_dir
        self.events = []
        self.closed = False
        FakeWriter.instances.append(self)

    def add_scalar(self, tag, value, step):
        self.events.append(("scalar", tag, value, step))

    def add_histogram(self, tag, value, step):
        self.events.append(("histogram", tag, np.asarray(value).shape, step))

    def add_images(self, tag, value, step, dataformats):
        self.events.append(("images", tag, value.shape, step))

    def flush(self):
        pass

    def close(self):
        self.closed = True


@pytest.fixture
def fake_tensorboard(monkeypatch):
    FakeWriter.instances = []
    module = types.ModuleType("torch.utils.tensorboard")
    module.SummaryWriter = FakeWriter
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", module)
    return FakeWriter


def test_tensorboard_missing_package(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)
    with pytest.raises(ImportError, match=r"TensorBoard logging needs the `tensorboard` package: pip install tensorboard"):
        C.TensorBoard(log_dir="logs")


def test_tensorboard_scalars_and_histograms(fake_tensorboard, tmp_path):
    layer_w = types.SimpleNamespace(path="dense/kernel", name="kernel", numpy=lambda: np.ones((3, 2), "float32"))
    layer_b = types.SimpleNamespace(path="dense/bias", name="bias", numpy=lambda: np.ones((2,), "float32"))
    model = FakeModel(lr=0.125)
    model.layers = [types.SimpleNamespace(name="dense", weights=[layer_w, layer_b])]
    model.optimizer.iterations = 8
    cb = C.TensorBoard(log_dir=str(tmp_path), histogram_freq=2, write_images=True, update_freq=2)
    cbs = C.CallbackList([cb], model=model, verbose=0, epochs=3, steps=4)
    cbs.on_train_begin()
    all_logs = []
    for epoch in range(3):
        cbs.on_epoch_begin(epoch)
        for b in range(4):
            cbs.on_train_batch_begin(b)
            logs = CountingLogs({"loss": 1.0 / (b + 1)})
            all_logs.append(logs)
            cbs.on_train_batch_end(b, logs)
        cbs.on_test_begin()
        cbs.on_test_end({"loss": 0.5})
        cbs.on_epoch_end(epoch, {"loss": 0.25 * epoch, "val_loss": 0.5})
    cbs.on_train_end()
    # batch values read only every update_freq batches
    assert [l.reads > 0 for l in all_logs[:4]] == [False, True, False, True]
    train, val = fake_tensorboard.instances
    assert train.log_dir == os.path.join(str(tmp_path), "train") and val.log_dir == os.path.join(str(tmp_path), "validation")
    scalars = [(t, v, s) for kind, t, v, s in train.events if kind == "scalar"]
    assert ("epoch_loss", 0.5, 2) in scalars and ("epoch_learning_rate", 0.125, 0) in scalars
    assert ("batch_loss", 0.5, 2) in scalars and ("batch_loss", 0.25, 4) in scalars
    assert not any(t == "batch_loss" and s % 2 for t, _, s in scalars)
    assert ("scalar", "epoch_loss", 0.5, 1) in val.events
    assert ("scalar", "evaluation_loss_vs_iterations", 0.5, 8) in val.events
    hist = [(t, s) for kind, t, _, s in train.events if kind == "histogram"]
    assert hist == [("dense/kernel/histogram", 0), ("dense/bias/histogram", 0), ("dense/kernel/histogram", 2), ("dense/bias/histogram", 2)]
    assert ("images", "dense/kernel/image", (1, 2, 3, 1), 0) in train.events
    assert train.closed and val.closed


def test_tensorboard_argument_errors(fake_tensorboard):
    with pytest.raises(ValueError, match="profile_batch=5"):
        C.TensorBoard(profile_batch=5)
    with pytest.raises(ValueError, match="update_freq"):
        C.TensorBoard(update_freq="sometimes")
    with pytest.raises(ValueError, match="embeddings_freq"):
        C.TensorBoard(embeddings_freq=1)


# ----------------------------------------------------------------------
# BackupAndRestore on the fake
# ----------------------------------------------------------------------
def test_backup_and_restore_files(tmp_path):
    backup = tmp_path / "backup"
    model = FakeModel()
    cb = C.BackupAndRestore(str(backup))
    cb.set_model(model)
    cb.on_train_begin()
    assert not hasattr(model, "_initial_epoch")  # nothing to restore
    for epoch in range(3):
        model.weights_value = [np.full((2,), epoch + 1.0, "float32")]
        cb.on_epoch_end(epoch, {"loss": 1.0})
    assert sorted(os.listdir(backup)) == ["latest.weights.h5", "training_metadata.json", "training_rng_state.npz"]
    assert json.loads((backup / "training_metadata.json").read_text()) == {"epoch": 3, "batch": 0, "world_size": 1}
    with np.load(backup / "training_rng_state.npz", allow_pickle=False) as f:
        assert sorted(f.files) == ["shuffle", "torch"] and f["torch"].dtype == np.uint8
    # a new run finds the backup
    fresh = FakeModel()
    cb2 = C.BackupAndRestore(str(backup))
    cb2.set_model(fresh)
    cb2.on_train_begin()
    assert fresh._initial_epoch == 3
    assert fresh.weights_value[0].tolist() == [3.0, 3.0]
    assert fresh.rng_set["shuffle"].tolist() == [100, 101, 102]
    cb2.on_train_end()
    assert not backup.exists()


def test_backup_and_restore_options(tmp_path):
    backup = tmp_path / "b"
    backup.mkdir()
    (backup / "mine.txt").write_text("keep")
    model = FakeModel()
    cb = C.BackupAndRestore(str(backup), save_freq=2, double_checkpoint=True)
    cb.set_model(model)
    cb.on_train_begin()
    for batch in range(5):
        model.weights_value = [np.full((2,), batch, "float32")]
        cb.on_train_batch_end(batch, {})
    assert json.loads((backup / "training_metadata.json").read_text()) == {"epoch": 0, "batch": 3, "world_size": 1}
    assert (backup / "latest.weights.h5.bkp").exists()
    # a broken latest file falls back to the previous backup
    (backup / "latest.weights.h5").write_bytes(b"broken")
    fresh = FakeModel()
    cb2 = C.BackupAndRestore(str(backup), double_checkpoint=True)
    cb2.set_model(fresh)
    cb2.on_train_begin()
    assert fresh.weights_value[0].tolist() == [1.0, 1.0]
    cb2.on_train_end()
    assert sorted(os.listdir(backup)) == ["mine.txt"]  # only our files go
    with pytest.raises(ValueError, match="Empty `backup_dir`"):
        C.BackupAndRestore("")
    with pytest.raises(ValueError, match="save_freq=often"):
        C.BackupAndRestore(str(backup), save_freq="often")
    unbuilt = FakeModel()
    unbuilt.built = False
    cb3 = C.BackupAndRestore(str(backup))
    cb3.set_model(unbuilt)
    with pytest.raises(ValueError, match="must be built"):
        cb3.on_train_begin()


# ----------------------------------------------------------------------
# The progress bar against Keras's
# ----------------------------------------------------------------------
class Clock:
    def __init__(self):
        self.t = 1000.0

    def time(self):
        return self.t


_ANSI = re.compile(r"\x1b\[[0-9;]*[mK]")


def _frames(text):
    """Every drawn line, in order, ANSI styles, erases, backspaces and
    trailing padding removed."""
    text = _ANSI.sub("", text).replace("\b", "")
    return [f.rstrip() for f in re.split(r"[\r\n]", text) if f.strip()]


def _styled_frames(text):
    """Every drawn line with its ANSI styles (bold count, green / white bar)."""
    text = text.replace("\b", "").replace("\x1b[0K", "")
    text = re.sub(r"\x1b\[\d+m\x1b\[0m", "", text)  # Keras's empty white span on a full bar
    return [f.rstrip() for f in re.split(r"[\r\n]", text) if f.strip()]


def _screen(text):
    """What a terminal shows once ``text`` is written."""
    lines, col = [""], 0
    i = 0
    while i < len(text):
        m = re.match(r"\x1b\[([0-9;]*)([mK])", text[i:])
        if m:
            if m.group(2) == "K":
                lines[-1] = lines[-1][:col]
            i += len(m.group(0))
            continue
        ch = text[i]
        if ch == "\r":
            col = 0
        elif ch == "\b":
            col = max(col - 1, 0)
        elif ch == "\n":
            lines.append("")
            col = 0
        else:
            line = lines[-1].ljust(col)
            lines[-1] = line[:col] + ch + line[col + 1:]
            col += 1
        i += 1
    return [l.rstrip() for l in lines]


def _drive_progbar(cb, clock, verbose, epochs=2, steps=6, dt=0.37, unknown=False, lazy=False, mode="fit"):
    def batch_logs(b):
        values = {"loss": 0.5 / (b + 1), "accuracy": 0.1 * b, "mae": 2e-4 * (b + 1)}
        return CountingLogs(values) if lazy else dict(sorted(values.items()))

    cb.set_params({"verbose": verbose, "epochs": epochs, "steps": None if unknown else steps})
    if mode == "fit":
        cb.on_train_begin()
        for e in range(epochs):
            cb.on_epoch_begin(e)
            for b in range(steps):
                clock.t += dt
                cb.on_train_batch_begin(b)
                cb.on_train_batch_end(b, batch_logs(b))
            clock.t += dt
            cb.on_test_begin()  # validation inside fit is silent
            cb.on_test_batch_end(0, batch_logs(0))
            cb.on_test_end({"loss": 1.0})
            cb.on_epoch_end(e, {"accuracy": 0.5, "loss": 0.0833, "mae": 2e-4, "val_accuracy": 0.25, "val_loss": -0.125})
        cb.on_train_end()
    elif mode == "evaluate":
        cb.on_test_begin()
        for b in range(steps):
            clock.t += dt
            cb.on_test_batch_end(b, batch_logs(b))
        cb.on_test_end({"accuracy": 0.5, "loss": 0.0833, "mae": 2e-4})
    else:
        cb.on_predict_begin()
        for b in range(steps):
            clock.t += dt
            cb.on_predict_batch_end(b, {"outputs": torch.zeros(2)})
        cb.on_predict_end()


def _keras_progbar_output(keras, monkeypatch, capsys, verbose, **kw):
    import keras.src.utils.progbar as kpb

    clock = Clock()
    monkeypatch.setattr(kpb, "time", clock)
    capsys.readouterr()
    _drive_progbar(keras.callbacks.ProgbarLogger(), clock, verbose, **kw)
    return capsys.readouterr().out


def _our_progbar_output(monkeypatch, verbose, terminal, width=200, **kw):
    clock = Clock()
    monkeypatch.setattr(ours_pb, "time", clock)
    buf = io.StringIO()
    console = rich.console.Console(file=buf, force_terminal=terminal, width=width, color_system="standard" if terminal else None)
    _drive_progbar(C.ProgbarLogger(console=console), clock, verbose, **kw)
    return buf.getvalue()


@pytest.mark.parametrize("kw", [{}, {"unknown": True}, {"mode": "evaluate"}, {"mode": "predict"}, {"epochs": 1, "steps": 12, "dt": 0.0004}, {"steps": 1, "dt": 75.0}, {"steps": 3, "dt": 1900.0}], ids=str)
def test_progbar_verbose1_matches_keras(keras, monkeypatch, capsys, kw):
    theirs = _keras_progbar_output(keras, monkeypatch, capsys, 1, **kw)
    # Keras always redraws in place on Linux; its final screen is the reference
    expected = _screen(theirs)
    # terminal: the same frames, drawn in place, then the same screen
    ours_tty = _our_progbar_output(monkeypatch, 1, True, **kw)
    assert _screen(ours_tty) == expected
    assert _frames(ours_tty) == _frames(theirs)
    # byte for byte the same styled frames (Keras pads with spaces where we erase)
    assert _styled_frames(ours_tty) == _styled_frames(theirs)
    assert "\x1b[1m" in ours_tty and "\x1b[32m" in ours_tty
    # a log file: only the finished lines, no escapes, no carriage returns
    ours_file = _our_progbar_output(monkeypatch, 1, False, **kw)
    assert "\x1b" not in ours_file and "\r" not in ours_file and "\b" not in ours_file
    assert ours_file.splitlines() == [line for line in expected if line]
    assert ours_file.endswith("\n")


@pytest.mark.parametrize("kw", [{}, {"unknown": True}, {"mode": "evaluate"}, {"steps": 1, "dt": 75.0}], ids=str)
def test_progbar_verbose2_matches_keras(keras, monkeypatch, capsys, kw):
    theirs = _keras_progbar_output(keras, monkeypatch, capsys, 2, **kw)
    for terminal in (False, True):
        assert _our_progbar_output(monkeypatch, 2, terminal, **kw) == theirs


def test_progbar_text_layout(monkeypatch):
    out = _our_progbar_output(monkeypatch, 1, False)
    assert out.splitlines() == [
        "Epoch 1/2",
        "6/6 ━━━━━━━━━━━━━━━━━━━━ 3s 444ms/step - accuracy: 0.5000 - loss: 0.0833 - mae: 2.0000e-04 - val_accuracy: 0.2500 - val_loss: -0.1250",
        "Epoch 2/2",
        "6/6 ━━━━━━━━━━━━━━━━━━━━ 3s 444ms/step - accuracy: 0.5000 - loss: 0.0833 - mae: 2.0000e-04 - val_accuracy: 0.2500 - val_loss: -0.1250",
    ]
    out = _our_progbar_output(monkeypatch, 2, False)
    assert out.splitlines()[1] == "6/6 - 3s - 432ms/step - accuracy: 0.5000 - loss: 0.0833 - mae: 2.0000e-04 - val_accuracy: 0.2500 - val_loss: -1.2500e-01"
    out = _our_progbar_output(monkeypatch, 1, True, unknown=True, epochs=1)
    assert _frames(out)[0] == "      1/Unknown 0s 370ms/step - accuracy: 0.0000e+00 - loss: 0.5000 - mae: 2.0000e-04"


def test_progbar_reads_batch_logs_only_when_redrawing(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(ours_pb, "time", clock)
    reads = []

    class Logs(CountingLogs):
        def __getitem__(self, key):
            reads.append(clock.t)
            return super().__getitem__(key)

    for terminal, verbose in [(False, 1), (True, 2), (False, 2)]:
        reads.clear()
        console = rich.console.Console(file=io.StringIO(), force_terminal=terminal)
        cb = C.ProgbarLogger(console=console)
        cb.set_params({"verbose": verbose, "epochs": 1, "steps": 200})
        cb.on_epoch_begin(0)
        for b in range(200):
            clock.t += 0.01
            cb.on_train_batch_end(b, Logs({"loss": 1.0}))
        cb.on_epoch_end(0, {"loss": 1.0})
        assert reads == [], (terminal, verbose)
    # in a terminal: at most one read (one redraw) per 0.1 s
    buf = io.StringIO()
    cb = C.ProgbarLogger(console=rich.console.Console(file=buf, force_terminal=True))
    cb.set_params({"verbose": 1, "epochs": 1, "steps": 200})
    cb.on_epoch_begin(0)
    for b in range(200):
        clock.t += 0.01
        cb.on_train_batch_end(b, Logs({"loss": 1.0}))
    cb.on_epoch_end(0, {"loss": 1.0})
    assert 15 <= len(reads) <= 21
    assert all(b - a >= 0.1 - 1e-9 for a, b in zip(reads, reads[1:]))
    assert buf.getvalue().count("\r") == len(reads) + 1


def test_progbar_terminal_crops_live_line_to_width(monkeypatch):
    out = _our_progbar_output(monkeypatch, 1, True, width=40, epochs=1)
    frames = _frames(out)
    assert all(len(f) <= 39 for f in frames[:-1])
    assert len(frames[-1]) > 40  # the finished line is printed whole


def test_progbar_dumb_terminal_and_notebook(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(ours_pb, "time", clock)
    monkeypatch.setenv("TERM", "dumb")
    buf = io.StringIO()
    _drive_progbar(C.ProgbarLogger(console=rich.console.Console(file=buf, force_terminal=True)), clock, 1, epochs=2)
    lines = buf.getvalue().splitlines()
    assert "\r" not in buf.getvalue() and len(lines) == 4 and lines[1].startswith("6/6 ━━━━")
    monkeypatch.delenv("TERM")
    # a notebook: rich renders each print as an output block; only whole lines, no control codes
    console = rich.console.Console(file=io.StringIO(), force_jupyter=True)
    printed, controls = [], []
    monkeypatch.setattr(console, "print", lambda *a, **k: printed.append(str(a[0]) if a else ""))
    monkeypatch.setattr(console, "control", lambda *a: controls.append(a))
    _drive_progbar(C.ProgbarLogger(console=console), clock, 1, epochs=2)
    assert controls == []
    assert [p.split(" ")[0] for p in printed] == ["Epoch", "6/6", "Epoch", "6/6"]
    assert printed[1].startswith("6/6 ━━━━━━━━━━━━━━━━━━━━ 3s 444ms/step - accuracy: 0.5000")


def test_progbar_default_console_follows_stdout(monkeypatch, capsys):
    clock = Clock()
    monkeypatch.setattr(ours_pb, "time", clock)
    _drive_progbar(C.ProgbarLogger(), clock, 1, epochs=1, steps=2)
    out = capsys.readouterr().out
    assert out == "2/2 ━━━━━━━━━━━━━━━━━━━━ 1s 740ms/step - accuracy: 0.5000 - loss: 0.0833 - mae: 2.0000e-04 - val_accuracy: 0.2500 - val_loss: -0.1250\n"


# ----------------------------------------------------------------------
# With a real model and fit
# ----------------------------------------------------------------------
def needs_fit(fn):  # kept as a marker of the tests that run a real fit
    return fn


def _data(n=96, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)).astype("float32")
    y = (x @ rng.normal(size=(4, 1))).astype("float32")
    return x, y


def _tiny(seed=7, optimizer=None, dropout=0.0, metrics=("mae",)):
    import kerasish.optimizers

    kerasish.utils.set_random_seed(seed)
    layers = [kerasish.Input((4,)), kerasish.layers.Dense(16, activation="relu")]
    if dropout:
        layers.append(kerasish.layers.Dropout(dropout))
    layers.append(kerasish.layers.Dense(1))
    model = kerasish.Sequential(layers)
    model.compile(optimizer=optimizer or kerasish.optimizers.Adam(0.01), loss="mse", metrics=list(metrics))
    return model


def _max_diff(a, b):
    return max(float(np.abs(u - v).max()) for u, v in zip(a, b))


@needs_fit
def test_fit_early_stopping_stops_and_restores():
    x, y = _data()
    model = _tiny()
    snapshots = []
    keep = C.LambdaCallback(on_epoch_end=lambda epoch, logs: snapshots.append(model.get_weights()))
    # no epoch improves by 100: the first one stays the best, patience 2 stops after epoch 3
    stop = C.EarlyStopping(monitor="loss", min_delta=100.0, patience=2, restore_best_weights=True)
    history = model.fit(x, y, epochs=20, batch_size=16, verbose=0, callbacks=[keep, stop])
    assert history.epoch == [0, 1, 2] and stop.stopped_epoch == 2 and stop.best_epoch == 0
    assert len(history.history["loss"]) == 3 and model.history is history
    assert _max_diff(model.get_weights(), snapshots[0]) == 0.0
    assert _max_diff(snapshots[2], snapshots[0]) > 0  # it did train on
    # val_loss by default, from validation_split
    model = _tiny()
    history = model.fit(x, y, epochs=4, batch_size=16, verbose=0, validation_split=0.25, callbacks=[C.EarlyStopping(patience=10)])
    assert history.epoch == [0, 1, 2, 3] and "val_loss" in history.history


@needs_fit
def test_fit_model_checkpoint_files_load(tmp_path):
    from kerasish.models import load_model

    x, y = _data()
    model = _tiny()
    every = C.ModelCheckpoint(str(tmp_path / "m-{epoch:02d}-{val_loss:.2f}.keras"))
    best = C.ModelCheckpoint(str(tmp_path / "w" / "best.weights.h5"), save_weights_only=True, save_best_only=True, monitor="val_mae")
    history = model.fit(x, y, epochs=3, batch_size=16, verbose=0, validation_split=0.25, callbacks=[every, best])
    names = sorted(p.name for p in tmp_path.glob("*.keras"))
    assert names == [f"m-{e + 1:02d}-{v:.2f}.keras" for e, v in enumerate(history.history["val_loss"])]
    last = load_model(str(tmp_path / names[-1]))
    np.testing.assert_allclose(last.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-5, atol=1e-6)
    fresh = _tiny(seed=99)
    fresh.load_weights(str(tmp_path / "w" / "best.weights.h5"))
    best_epoch = int(np.argmin(history.history["val_mae"]))
    ref = load_model(str(tmp_path / names[best_epoch]))
    assert _max_diff(fresh.get_weights(), ref.get_weights()) == 0.0


@needs_fit
def test_fit_learning_rate_callbacks_drive_the_optimizer():
    import kerasish.optimizers

    x, y = _data()
    model = _tiny(optimizer=kerasish.optimizers.SGD(0.02))
    reduce = C.ReduceLROnPlateau(monitor="loss", min_delta=100.0, patience=1, factor=0.5)
    history = model.fit(x, y, epochs=4, batch_size=16, verbose=0, callbacks=[reduce])
    np.testing.assert_allclose(float(model.optimizer.learning_rate), 0.02 * 0.5**3, rtol=1e-6)
    # logged before the reduction, as Keras: the rate each epoch ran with
    np.testing.assert_allclose(history.history["learning_rate"], [0.02, 0.02, 0.01, 0.005], rtol=1e-6)
    # the optimizer really uses the rate the callback sets: 0 freezes the weights
    model = _tiny(optimizer=kerasish.optimizers.SGD(0.02))
    before = model.get_weights()
    model.fit(x, y, epochs=2, batch_size=16, verbose=0, callbacks=[C.LearningRateScheduler(lambda epoch, lr: 0.0)])
    assert _max_diff(model.get_weights(), before) == 0.0


@needs_fit
def test_fit_csv_logger(tmp_path):
    x, y = _data()
    model = _tiny()
    path = tmp_path / "log.csv"
    history = model.fit(x, y, epochs=3, batch_size=16, verbose=0, validation_split=0.25, callbacks=[C.CSVLogger(str(path))])
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["epoch", "loss", "mae", "val_loss", "val_mae"]
    assert [int(r["epoch"]) for r in rows] == [0, 1, 2]
    for key in ("loss", "mae", "val_loss", "val_mae"):
        assert [float(r[key]) for r in rows] == history.history[key]


@needs_fit
def test_fit_terminate_on_nan(capsys):
    x, y = _data(n=80)
    y[30:40] = 1e30  # batch 3 (unshuffled, 10 per batch): the squared error overflows
    model = _tiny()
    seen = []
    history = model.fit(x, y, epochs=5, batch_size=10, shuffle=False, verbose=0,
                        callbacks=[C.LambdaCallback(on_train_batch_end=lambda batch, logs: seen.append(batch)), C.TerminateOnNaN()])
    assert capsys.readouterr().out == "Batch 3: Invalid loss, terminating training\n"
    assert seen == [0, 1, 2, 3] and history.epoch == [0]


@needs_fit
def test_fit_backup_and_restore_resumes_exactly(tmp_path):
    x, y = _data()
    backup = tmp_path / "backup"

    def fit(callbacks):
        model = _tiny(dropout=0.3)
        history = model.fit(x, y, epochs=6, batch_size=16, shuffle=True, verbose=0, callbacks=callbacks)
        return model, history

    reference, _ = fit([])

    class Crash(C.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 3:
                raise RuntimeError("killed")

    with pytest.raises(RuntimeError, match="killed"):
        fit([C.BackupAndRestore(str(backup)), Crash()])
    assert json.loads((backup / "training_metadata.json").read_text())["epoch"] == 3
    resumed, history = fit([C.BackupAndRestore(str(backup))])
    assert history.epoch == [3, 4, 5]
    assert _max_diff(resumed.get_weights(), reference.get_weights()) <= 1e-6
    assert not backup.exists()  # a normal end deletes the backup


@needs_fit
def test_fit_progress_output_in_a_log_file(capsys):
    x, y = _data()
    model = _tiny()
    model.fit(x, y, epochs=2, batch_size=16, validation_split=0.25, verbose=1)
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert "\r" not in out and "\x1b" not in out and len(lines) == 4
    assert lines[0] == "Epoch 1/2" and lines[2] == "Epoch 2/2"
    assert re.fullmatch(r"5/5 ━{20} \d+s \d+(us|ms|s)/step - loss: \d\.\d{4} - mae: \d\.\d{4} - val_loss: \d\.\d{4} - val_mae: \d\.\d{4}", lines[1]), lines[1]
    model.fit(x, y, epochs=1, batch_size=16, verbose=2)
    line = capsys.readouterr().out.strip()
    assert re.fullmatch(r"6/6 - \d+s - \d+(us|ms|s)/step - loss: \d\.\d{4} - mae: \d\.\d{4}", line), line
    model.evaluate(x, y, batch_size=32, verbose=1)
    assert re.fullmatch(r"3/3 ━{20} \d+s \d+(us|ms|s)/step - loss: \d\.\d{4} - mae: \d\.\d{4}\n", capsys.readouterr().out)
