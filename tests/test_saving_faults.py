"""Files that survive faults: atomic writes (kerasish.saving.file_io), a full
disk, a process killed mid-save, BackupAndRestore killed mid-fit, and a
second process reading a checkpoint while fit writes it.

The kill -9 and concurrent-reader tests run subprocesses (marked slow).
"""

import errno
import json
import os
import random
import signal
import stat
import subprocess
import sys
import textwrap
import time
import zipfile

import h5py
import numpy as np
import pytest

import kerasish
from kerasish import callbacks as C
from kerasish.saving import file_io

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _model(units=32, seed=3, compile=True):
    kerasish.utils.set_random_seed(seed)
    model = kerasish.Sequential([kerasish.Input((8,)), kerasish.layers.Dense(units, activation="relu"), kerasish.layers.Dense(3)])
    if compile:
        model.compile(optimizer="adam", loss="mse")
    return model


def _fill(model, value):
    model.set_weights([np.full(w.shape, value, w.dtype) for w in model.get_weights()])


# ----------------------------------------------------------------------
# atomic_write
# ----------------------------------------------------------------------
def test_atomic_write_replaces_whole_and_keeps_old_on_failure(tmp_path):
    target = tmp_path / "a.bin"
    with file_io.atomic_write(target, "wb") as f:
        f.write(b"old")
    os.chmod(target, 0o640)
    with pytest.raises(RuntimeError, match="boom"):
        with file_io.atomic_write(target, "wb") as f:
            f.write(b"new, half")
            raise RuntimeError("boom")
    assert target.read_bytes() == b"old" and os.listdir(tmp_path) == ["a.bin"]
    with file_io.atomic_write(str(target)) as tmp:  # path mode: the writer opens it
        assert os.path.dirname(tmp) == str(tmp_path)
        with open(tmp, "wb") as f:
            f.write(b"new")
    assert target.read_bytes() == b"new" and os.listdir(tmp_path) == ["a.bin"]
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o640  # permissions kept
    with pytest.raises(ValueError, match="mode must open the file for writing"):
        with file_io.atomic_write(target, "rb"):
            pass


def test_atomic_write_through_a_link_keeps_the_link(tmp_path):
    real = tmp_path / "real.keras"
    real.write_bytes(b"old")
    link = tmp_path / "latest.keras"
    link.symlink_to(real)
    with file_io.atomic_write(link, "wb") as f:
        f.write(b"new")
    assert link.is_symlink() and real.read_bytes() == b"new"


def test_stale_temporary_of_a_dead_writer_is_removed(tmp_path):
    target = tmp_path / "m.keras"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f".m.keras.{dead.pid}.0123456789ab.tmp"
    stale.write_bytes(b"half")
    live = tmp_path / f".m.keras.{os.getppid()}.0123456789ab.tmp"  # a live process's: kept
    live.write_bytes(b"in flight")
    with file_io.atomic_write(target, "wb") as f:
        f.write(b"x")
    assert sorted(os.listdir(tmp_path)) == sorted(["m.keras", live.name])


def test_open_h5_for_reading_names_the_file(tmp_path):
    bad = tmp_path / "bad.weights.h5"
    bad.write_bytes(b"not hdf5")
    with pytest.raises(OSError, match="bad.weights.h5"):
        file_io.open_h5_for_reading(bad)


# ----------------------------------------------------------------------
# A full disk (simulated ENOSPC part-way through each writer)
# ----------------------------------------------------------------------
def _enospc(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device (simulated)")


def _fail_on_call(n):
    """A replacement that raises ENOSPC on its n-th call and calls through before."""

    def install(monkeypatch, owner, name):
        original = getattr(owner, name)
        calls = {"n": 0}

        def wrapper(*args, **kwargs):
            calls["n"] += 1
            if calls["n"] >= n:
                _enospc()
            return original(*args, **kwargs)

        monkeypatch.setattr(owner, name, wrapper)

    return install


def _save(model, path):
    if path.endswith(".weights.h5"):
        model.save_weights(path)
    else:
        model.save(path)


# (file name, what fails): h5py's dataset writes, zip member writes, the fsync
# and the rename of atomic_write.
FAULTS = [
    ("m.weights.h5", (h5py.Group, "create_dataset", 3)),
    ("m.h5", (h5py.Group, "create_dataset", 3)),
    ("m.keras", (zipfile.ZipFile, "writestr", 2)),
    ("m.keras", (h5py.Group, "create_dataset", 3)),
    ("m.weights.h5", (os, "fsync", 1)),
    ("m.keras", (os, "replace", 1)),
    ("m.h5", (os, "fsync", 1)),
]


@pytest.mark.parametrize("name,fault", FAULTS, ids=[f"{n}-{f[1]}" for n, f in FAULTS])
def test_full_disk_leaves_the_old_file_byte_identical(tmp_path, monkeypatch, name, fault):
    model = _model()
    path = str(tmp_path / name)
    _save(model, path)
    before = open(path, "rb").read()
    _fill(model, 0.5)
    owner, attr, n = fault
    with monkeypatch.context() as m:
        _fail_on_call(n)(m, owner, attr)
        with pytest.raises(OSError) as info:
            _save(model, path)
    assert info.value.errno == errno.ENOSPC or "No space left" in str(info.value)
    assert open(path, "rb").read() == before
    assert os.listdir(tmp_path) == [name]  # no temporary file left
    _save(model, path)  # the next save works
    assert open(path, "rb").read() != before


def test_full_disk_on_a_first_save_leaves_nothing(tmp_path, monkeypatch):
    model = _model()
    monkeypatch.setattr(h5py.Group, "create_dataset", _enospc)
    with pytest.raises(OSError):
        model.save_weights(str(tmp_path / "m.weights.h5"))
    assert os.listdir(tmp_path) == []


def test_csv_logger_rewrite_keeps_old_log_until_first_row(tmp_path):
    log = tmp_path / "log.csv"
    log.write_text("old log\n")
    cb = C.CSVLogger(str(log))
    cb.on_train_begin()
    assert log.read_text() == "old log\n"  # nothing replaced yet
    cb.on_epoch_end(0, {"loss": 1.0})
    assert log.read_text().splitlines()[0] == "epoch,loss,val_loss"
    cb.on_epoch_end(1, {"loss": 0.5})
    cb.on_train_end()
    assert len(log.read_text().splitlines()) == 3 and os.listdir(tmp_path) == ["log.csv"]


def test_export_torch_is_atomic(tmp_path, monkeypatch):
    model = _model()
    path = tmp_path / "m.pt2"
    path.write_bytes(b"previous export")
    import torch

    monkeypatch.setattr(torch.export, "save", lambda program, f, **k: _enospc())
    with pytest.raises(OSError):
        model.export(str(path), format="torch", verbose=False)
    assert path.read_bytes() == b"previous export" and os.listdir(tmp_path) == ["m.pt2"]


# ----------------------------------------------------------------------
# Readers during a save
# ----------------------------------------------------------------------
def test_reader_holding_the_old_file_neither_blocks_nor_sees_the_new(tmp_path):
    model = _model()
    path = str(tmp_path / "m.weights.h5")
    _fill(model, 1.0)
    model.save_weights(path)
    with h5py.File(path, "r") as reader:  # a reader holding HDF5's lock
        _fill(model, 2.0)
        model.save_weights(path)  # not blocked: written beside, renamed over
        first = reader["layers/dense/vars/0"][()]
        assert np.all(first == 1.0)  # the reader keeps its whole old file
    with file_io.open_h5_for_reading(path) as f:
        assert np.all(f["layers/dense/vars/0"][()] == 2.0)


# ----------------------------------------------------------------------
# BackupAndRestore: a crash at every step of a save
# ----------------------------------------------------------------------
class _Killed(BaseException):
    """Stands for the process dying at that instant."""


def _backup_states(tmp_path, monkeypatch, step):
    """Back up epochs 0 and 1, then die at the ``step``-th os.replace / os.remove
    of epoch 2's save; returns (restored epoch, restored weight value)."""
    import kerasish.callbacks.backup_and_restore as bar

    model = _model(units=4, compile=False)
    backup = str(tmp_path / f"b{step}")
    cb = C.BackupAndRestore(backup)
    cb.set_model(model)
    cb.on_train_begin()
    for epoch in range(2):
        _fill(model, float(epoch + 1))
        cb.on_epoch_end(epoch)
    _fill(model, 3.0)
    calls = {"n": 0}
    real_replace, real_remove = os.replace, os.remove

    def dying(real):
        def f(*args, **kwargs):
            calls["n"] += 1
            if calls["n"] == step:
                raise _Killed()
            return real(*args, **kwargs)
        return f

    with monkeypatch.context() as m:
        m.setattr(bar.os, "replace", dying(real_replace))
        m.setattr(bar.os, "remove", dying(real_remove))
        try:
            cb.on_epoch_end(2)
            died = False
        except _Killed:
            died = True
    fresh = _model(units=4, compile=False)
    cb2 = C.BackupAndRestore(backup, delete_checkpoint=False)
    cb2.set_model(fresh)
    cb2.on_train_begin()
    values = {float(v) for w in fresh.get_weights() for v in np.unique(w)}
    assert len(values) == 1, f"a mixed backup restored: {values}"
    leftovers = [n for n in os.listdir(backup) if n.startswith("partial") or n == "backup_commit.json"]
    assert leftovers == [], leftovers  # cleaned on restore
    return died, fresh._initial_epoch, values.pop()


def test_backup_killed_at_any_step_resumes_whole(tmp_path, monkeypatch):
    seen = set()
    for step in range(1, 12):
        died, epoch, value = _backup_states(tmp_path, monkeypatch, step)
        assert (epoch, value) in {(2, 2.0), (3, 3.0)}, (step, epoch, value)
        seen.add((epoch, value))
        if not died:
            break
    assert seen == {(2, 2.0), (3, 3.0)}  # both sides of the commit were hit


# ----------------------------------------------------------------------
# kill -9 (subprocesses)
# ----------------------------------------------------------------------
SAVER = textwrap.dedent(
    """
    import os, sys, time
    import numpy as np
    import kerasish
    folder = sys.argv[1]
    kerasish.utils.set_random_seed(0)
    model = kerasish.Sequential([kerasish.Input((64,)), kerasish.layers.Dense(512), kerasish.layers.Dense(256), kerasish.layers.Dense(4)])
    model.compile(optimizer="adam", loss="mse")
    x = np.zeros((32, 64), "float32"); y = np.zeros((32, 4), "float32")
    start = int(open(os.path.join(folder, "counter")).read()) if os.path.exists(os.path.join(folder, "counter")) else 1
    ckpt = kerasish.callbacks.ModelCheckpoint(os.path.join(folder, "ckpt.weights.h5"), save_weights_only=True)
    ckpt_model = kerasish.callbacks.ModelCheckpoint(os.path.join(folder, "ckpt.keras"))
    for i in range(start, 10 ** 6):
        model.set_weights([np.full(w.shape, float(i), w.dtype) for w in model.get_weights()])
        model.save(os.path.join(folder, "m.keras"))
        model.save_weights(os.path.join(folder, "m.weights.h5"))
        model.save(os.path.join(folder, "m.h5"))
        for cb in (ckpt, ckpt_model):
            cb.set_model(model)
            cb.on_epoch_end(i, {"loss": 1.0})
        with open(os.path.join(folder, "counter.part"), "w") as f:
            f.write(str(i + 1))
        os.replace(os.path.join(folder, "counter.part"), os.path.join(folder, "counter"))
        print("saved", i, flush=True)
    """
)


def _env():
    return dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=REPO)


def _wait_for(proc, predicate, timeout=180):
    end = time.time() + timeout
    while time.time() < end:
        if predicate():
            return
        if proc.poll() is not None:
            raise AssertionError(f"the subprocess ended early: {proc.stderr.read() if proc.stderr else ''}")
        time.sleep(0.05)
    raise AssertionError("timed out waiting for the subprocess")


def _single_value(weights):
    values = {float(v) for w in weights for v in np.unique(w)}
    assert len(values) == 1, f"a torn file: {sorted(values)[:5]}"
    return values.pop()


@pytest.mark.slow
def test_kill_during_saves_leaves_old_or_new_files(tmp_path):
    script = tmp_path / "saver.py"
    script.write_text(SAVER)
    folder = tmp_path / "out"
    folder.mkdir()
    rng = random.Random(17)
    names = ["m.keras", "m.weights.h5", "m.h5", "ckpt.weights.h5", "ckpt.keras"]
    for kill in range(5):
        proc = subprocess.Popen([sys.executable, str(script), str(folder)], env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        first = proc.stdout.readline()  # one whole round saved (or restarted)
        assert first.startswith("saved"), proc.stderr.read()
        time.sleep(rng.uniform(0.0, 0.8))
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        proc.stderr.close()
        counter = int((folder / "counter").read_text())
        probe = _model_like_saver()
        for name in names:
            path = str(folder / name)
            if name.endswith(".weights.h5") or name == "m.h5" and kill % 2:
                probe.load_weights(path)
                value = _single_value(probe.get_weights())
            else:
                value = _single_value(kerasish.models.load_model(path).get_weights())
            # the last whole round or the one being written when killed
            assert counter - 1 <= value <= counter, (name, value, counter)
    temporaries = [n for n in os.listdir(folder) if n.endswith(".tmp")]
    assert len(temporaries) <= len(names)  # at most the killed round's; older ones were cleaned


def _model_like_saver():
    model = kerasish.Sequential([kerasish.Input((64,)), kerasish.layers.Dense(512), kerasish.layers.Dense(256), kerasish.layers.Dense(4)])
    model.compile(optimizer="adam", loss="mse")
    return model


TRAINER = textwrap.dedent(
    """
    import os, sys
    import numpy as np
    import kerasish
    backup, out = sys.argv[1], sys.argv[2]
    kerasish.utils.set_random_seed(5)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(512, 16)).astype("float32"); y = rng.normal(size=(512, 1)).astype("float32")
    model = kerasish.Sequential([kerasish.Input((16,)), kerasish.layers.Dense(64, activation="relu"),
                                 kerasish.layers.Dropout(0.3), kerasish.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")

    class Tell(kerasish.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            print("epoch", epoch, flush=True)

    model.fit(x, y, epochs=12, batch_size=16, shuffle=True, verbose=0,
              callbacks=[kerasish.callbacks.BackupAndRestore(backup), Tell()])
    np.savez(out, *model.get_weights())
    print("done", flush=True)
    """
)


@pytest.mark.slow
def test_backup_and_restore_killed_repeatedly_ends_bitwise_equal(tmp_path):
    script = tmp_path / "trainer.py"
    script.write_text(TRAINER)

    def run(backup, out, kill_after=None):
        proc = subprocess.Popen([sys.executable, str(script), str(backup), str(out)], env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if kill_after is None:
            stdout, stderr = proc.communicate(timeout=600)
            assert proc.returncode == 0, stderr
            return True
        epochs_to_see, delay = kill_after
        for _ in range(epochs_to_see):  # let a few epochs end: training is under way
            line = proc.stdout.readline()
            if not line.startswith("epoch"):
                finished = proc.wait() == 0 and os.path.exists(out)
                assert finished, proc.stderr.read()
                return True
        time.sleep(delay)  # then die anywhere in the next epoch or its backup
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        proc.stderr.close()
        return os.path.exists(out)

    run(tmp_path / "ref_backup", tmp_path / "reference.npz")
    rng = random.Random(3)
    out = tmp_path / "resumed.npz"
    kills = 0
    while not run(tmp_path / "backup", out, kill_after=(rng.randint(1, 3), rng.uniform(0.0, 0.05))):
        kills += 1
        assert kills < 30, "never finished"
        metadata = tmp_path / "backup" / "training_metadata.json"
        if metadata.exists():
            json.loads(metadata.read_text())  # whole
    assert kills >= 2
    with np.load(tmp_path / "reference.npz") as a, np.load(out) as b:
        for k in a.files:
            np.testing.assert_array_equal(a[k], b[k])  # bit for bit


READER = textwrap.dedent(
    """
    import sys, time, h5py
    from kerasish.saving.file_io import open_h5_for_reading
    path, seconds = sys.argv[1], float(sys.argv[2])
    end, opened = time.time() + seconds, 0
    while time.time() < end:
        try:
            with open_h5_for_reading(path) as f:
                f["layers"]  # whole: the group is there
                opened += 1
        except OSError as e:
            if "No such file" not in str(e) and "unable to open" not in str(e).lower():
                raise
    print(opened, flush=True)
    """
)


@pytest.mark.slow
def test_concurrent_reader_does_not_break_checkpointing(tmp_path):
    path = tmp_path / "ckpt.weights.h5"
    model = _model(units=64)
    model.save_weights(str(path))
    script = tmp_path / "reader.py"
    script.write_text(READER)
    reader = subprocess.Popen([sys.executable, str(script), str(path), "25"], env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # plus a reader holding HDF5's own lock the whole time
    holder = h5py.File(str(path), "r")
    try:
        x = np.random.default_rng(0).normal(size=(256, 8)).astype("float32")
        y = np.zeros((256, 3), "float32")
        time.sleep(8)  # the reader subprocess has imported and is looping
        ckpt = C.ModelCheckpoint(str(path), save_weights_only=True, save_freq=2)
        model.fit(x, y, epochs=6, batch_size=16, verbose=0, callbacks=[ckpt])
    finally:
        holder.close()
    stdout, stderr = reader.communicate(timeout=120)
    assert reader.returncode == 0, stderr
    assert int(stdout.split()[-1]) > 0
    probe = _model(units=64)
    probe.load_weights(str(path))
    np.testing.assert_array_equal(probe.get_weights()[0], model.get_weights()[0])


@pytest.mark.slow
def test_real_full_disk_on_tmpfs_exits_cleanly(tmp_path):
    """A 1 MiB tmpfs (where the test may mount one): each save fails with
    ENOSPC, the old file stays, no temporary is left, and the process exits
    without a crash (HDF5's handle was released)."""
    mount = tmp_path / "small"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], capture_output=True).returncode != 0:
        pytest.skip("cannot mount a tmpfs here (the ENOSPC tests above simulate it)")
    try:
        code = textwrap.dedent(
            """
            import os, sys
            import kerasish
            folder = sys.argv[1]
            small = kerasish.Sequential([kerasish.Input((8,)), kerasish.layers.Dense(4)])
            big = kerasish.Sequential([kerasish.Input((100,)), kerasish.layers.Dense(4000), kerasish.layers.Dense(8)])
            for name in ("m.h5", "m.weights.h5", "m.keras"):
                path = os.path.join(folder, name)
                small.save_weights(path) if name.endswith(".weights.h5") else small.save(path)
                before = open(path, "rb").read()
                try:
                    big.save_weights(path) if name.endswith(".weights.h5") else big.save(path)
                    raise SystemExit(name + ": no error on a full disk")
                except OSError as e:
                    assert "No space" in str(e) or getattr(e, "errno", None) == 28, e
                assert open(path, "rb").read() == before, name
                assert sorted(os.listdir(folder)) == [name], os.listdir(folder)
                os.remove(path)
            print("ok", flush=True)
            """
        )
        proc = subprocess.run([sys.executable, "-c", code, str(mount)], env=_env(), capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr[-3000:]
        assert proc.stdout.strip() == "ok"
    finally:
        subprocess.run(["umount", str(mount)], capture_output=True)
