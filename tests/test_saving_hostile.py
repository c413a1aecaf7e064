"""Hostile files: each test writes a file crafted to exhaust memory, read
another file, run code or half-load a model, and checks that kerasish refuses
it fast, before allocating, naming the file and the entry, and leaves the
model (and optimizer) exactly as it was."""

import io
import json
import os
import re
import time
import tracemalloc
import zipfile

import h5py
import numpy as np
import pytest
import torch

import kerasish
from kerasish import layers as L
from kerasish.models import load_model
from kerasish.saving.export import export_model, load_exported
from kerasish.saving.object_registration import loading_weight_limit_scope

FAST_S = 2.0
# A refusal before allocating uses a few MB of Python memory at most; reading
# the declared 40000x30000 float32 kernel would take 4.8 GB.
SMALL_PEAK = 64 * 2**20
HUGE = (40000, 30000)


def _model():
    inputs = kerasish.Input((4,), name="x")
    h = L.Dense(3, name="hidden")(inputs)
    out = L.Dense(2, name="out")(h)
    return kerasish.Model(inputs, out)


def _weights(model):
    return [w.copy() for w in model.get_weights()]


def _assert_unchanged(model, before):
    after = model.get_weights()
    assert len(after) == len(before)
    for a, b in zip(after, before):
        np.testing.assert_array_equal(a, b)


def _refused(fn, *patterns, exc=ValueError):
    """Run ``fn``; it must raise ``exc`` fast, with little memory, with every pattern in the message."""
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(exc) as info:
            fn()
    finally:
        elapsed = time.perf_counter() - start
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert elapsed < FAST_S, f"refusal took {elapsed:.2f} s"
    assert peak < SMALL_PEAK, f"refusal allocated {peak / 2**20:.0f} MiB"
    for p in patterns:
        assert p in str(info.value), (p, str(info.value))
    return info.value


def _rewrite_zip(src, dst, replace=None, extra=()):
    """Copy the zip ``src`` to ``dst`` with members replaced (name -> bytes) and extra (name, bytes) appended."""
    replace = replace or {}
    with zipfile.ZipFile(src) as z, zipfile.ZipFile(dst, "w") as out:
        for info in z.infolist():
            out.writestr(info.filename, replace.get(info.filename, z.read(info.filename)))
        for name, data in extra:
            out.writestr(name, data)


def _huge_dataset_h5(src_bytes_or_path, dataset_path):
    """An HDF5 file (bytes) like the given one, with ``dataset_path`` declaring a 40000x30000 float32 array."""
    buf = io.BytesIO(src_bytes_or_path) if isinstance(src_bytes_or_path, bytes) else None
    with h5py.File(buf if buf is not None else src_bytes_or_path, "r+") as f:
        del f[dataset_path]
        f.create_dataset(dataset_path, shape=HUGE, dtype="float32")  # no data written: the file stays small
    return buf.getvalue() if buf is not None else None


# ----------------------------------------------------------------------
# .keras archives
# ----------------------------------------------------------------------
def test_keras_zip_bomb_member_is_refused_without_inflating(tmp_path):
    model = _model()
    path = tmp_path / "m.keras"
    model.save(path)
    # A deflated member declaring 256 MiB of zeros that stores ~256 KB.
    bomb = tmp_path / "bomb3.keras"
    with zipfile.ZipFile(path) as z, zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as out:
        for info in z.infolist():
            if info.filename != "model.weights.h5":
                out.writestr(info.filename, z.read(info.filename))
        with out.open("model.weights.h5", "w", force_zip64=True) as member:
            chunk = bytes(2**20)
            for _ in range(256):
                member.write(chunk)
    assert os.path.getsize(bomb) < 2 * 2**20
    _refused(lambda: load_model(bomb), "bomb3.keras", "model.weights.h5")
    fresh = _model()
    before = _weights(fresh)
    _refused(lambda: fresh.load_weights(bomb), "bomb3.keras", "model.weights.h5")
    _assert_unchanged(fresh, before)


def test_keras_unused_members_are_never_read(tmp_path):
    model = _model()
    path = tmp_path / "m.keras"
    model.save(path)
    extra = tmp_path / "extra.keras"
    _rewrite_zip(path, extra, extra=[("assets/unused.bin", b"x" * 2**20)])
    # Corrupt the unused member's bytes: a CRC scan of every member (zipfile.testzip) would refuse the file.
    raw = bytearray(extra.read_bytes())
    at = raw.find(b"x" * 1024)
    raw[at : at + 16] = b"y" * 16
    extra.write_bytes(bytes(raw))
    loaded = load_model(extra)
    for a, b in zip(loaded.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_keras_big_config_is_refused_before_reading(tmp_path):
    model = _model()
    path = tmp_path / "m.keras"
    model.save(path)
    big = tmp_path / "big.keras"
    with zipfile.ZipFile(path) as z, zipfile.ZipFile(big, "w", compression=zipfile.ZIP_DEFLATED) as out:
        for info in z.infolist():
            if info.filename != "config.json":
                out.writestr(info.filename, z.read(info.filename))
        with out.open("config.json", "w", force_zip64=True) as member:
            member.write(b'{"class_name": "Functional", "pad": "')
            chunk = b" " * 2**20
            for _ in range(80):  # 80 MiB > the 64 MiB limit
                member.write(chunk)
            member.write(b'"}')
    _refused(lambda: load_model(big), "big.keras", "config.json")


def test_keras_duplicate_members_are_refused(tmp_path):
    model = _model()
    path = tmp_path / "m.keras"
    model.save(path)
    dup = tmp_path / "dup.keras"
    with zipfile.ZipFile(path) as z:
        config = z.read("config.json")
    with pytest.warns(UserWarning, match="Duplicate name"):
        _rewrite_zip(path, dup, extra=[("config.json", config)])
    _refused(lambda: load_model(dup), "dup.keras", "config.json", "more than once")


def test_keras_huge_declared_weight_is_refused_before_reading(tmp_path):
    model = _model()
    path = tmp_path / "m.keras"
    model.save(path)
    with zipfile.ZipFile(path) as z:
        weights = z.read("model.weights.h5")
    hostile = tmp_path / "huge.keras"
    _rewrite_zip(path, hostile, replace={"model.weights.h5": _huge_dataset_h5(weights, "layers/dense/vars/0")})
    assert os.path.getsize(hostile) < 100_000
    _refused(lambda: load_model(hostile), "huge.keras", "layers/dense/vars/0", str(HUGE))


def test_keras_optimizer_vars_huge_declared_are_refused_and_nothing_changes(tmp_path):
    model = _model()
    model.compile(optimizer="adam", loss="mse")
    model.fit(np.ones((8, 4), "float32"), np.ones((8, 2), "float32"), epochs=1, verbose=0)
    path = tmp_path / "m.keras"
    model.save(path)
    with zipfile.ZipFile(path) as z:
        weights = z.read("model.weights.h5")
    with h5py.File(io.BytesIO(weights), "r") as f:
        assert "optimizer/vars/1" in f
    hostile = tmp_path / "huge_opt.keras"
    _rewrite_zip(path, hostile, replace={"model.weights.h5": _huge_dataset_h5(weights, "optimizer/vars/1")})
    _refused(lambda: load_model(hostile), "huge_opt.keras", "optimizer/vars/1")
    # load_weights into a trained model: neither the weights nor the optimizer change.
    other = _model()
    other.compile(optimizer="adam", loss="mse")
    other.fit(np.zeros((8, 4), "float32"), np.zeros((8, 2), "float32"), epochs=1, verbose=0)
    before, before_opt = _weights(other), [v.numpy().copy() for v in other.optimizer.variables]
    _refused(lambda: other.load_weights(hostile), "huge_opt.keras", "optimizer/vars/1")
    _assert_unchanged(other, before)
    for v, b in zip(other.optimizer.variables, before_opt):
        np.testing.assert_array_equal(v.numpy(), b)


def test_keras_deep_json_config_is_a_value_error(tmp_path):
    model = _model()
    path = tmp_path / "m.keras"
    model.save(path)
    deep = tmp_path / "deep.keras"
    depth = 200_000
    _rewrite_zip(path, deep, replace={"config.json": b"[" * depth + b"]" * depth})
    _refused(lambda: load_model(deep), "deep.keras", "config.json", "nested")


def test_functional_config_with_duplicate_layer_names_is_refused(tmp_path):
    model = _model()
    path = tmp_path / "m.keras"
    model.save(path)
    with zipfile.ZipFile(path) as z:
        config = json.loads(z.read("config.json"))
    for layer in config["config"]["layers"]:
        if layer["class_name"] == "Dense":
            layer["name"] = layer["config"]["name"] = "same"
    text = json.dumps(config).replace('"hidden"', '"same"').replace('"out"', '"same"')
    dup = tmp_path / "dup_layers.keras"
    _rewrite_zip(path, dup, replace={"config.json": text.encode()})
    _refused(lambda: load_model(dup), "'same'", "more than one layer")


def test_config_declaring_a_huge_dense_is_refused_before_allocating(tmp_path):
    model = _model()
    path = tmp_path / "m.keras"
    model.save(path)
    with zipfile.ZipFile(path) as z:
        config = json.loads(z.read("config.json"))
    for layer in config["config"]["layers"]:
        if layer["config"].get("name") == "out":
            layer["config"]["units"] = 25 * 10**9  # 4 x 25e9 float32: 400 GB
    hostile = tmp_path / "huge_dense.keras"
    _rewrite_zip(path, hostile, replace={"config.json": json.dumps(config).encode()})
    _refused(lambda: load_model(hostile), "Layer 'out'", "GiB")
    # The limit is configurable, and only active while loading.
    with loading_weight_limit_scope(16):
        _refused(lambda: load_model(path), "Layer 'hidden'")
    L.Dense(5).build((None, 4))  # outside a load: no limit


# ----------------------------------------------------------------------
# .weights.h5 (Keras 3 layout)
# ----------------------------------------------------------------------
def test_weights_h5_huge_declared_dataset_is_refused_fast(tmp_path):
    model = _model()
    path = tmp_path / "huge.weights.h5"
    model.save_weights(path)
    _huge_dataset_h5(str(path), "layers/dense/vars/0")
    assert os.path.getsize(path) < 100_000
    before = _weights(model)
    _refused(lambda: model.load_weights(path), "huge.weights.h5", "layers/dense/vars/0", str(HUGE))
    _assert_unchanged(model, before)


@pytest.mark.parametrize("kind", ["external", "soft"])
def test_weights_h5_links_are_refused(tmp_path, kind):
    model = _model()
    path = tmp_path / "link.weights.h5"
    model.save_weights(path)
    secret = tmp_path / "secret.h5"
    with h5py.File(secret, "w") as f:
        f["k"] = np.full((4, 3), 7.0, "float32")
    with h5py.File(path, "r+") as f:
        del f["layers/dense/vars/0"]
        if kind == "external":
            f["layers/dense/vars/0"] = h5py.ExternalLink(str(secret), "k")
        else:
            f["elsewhere"] = np.full((4, 3), 7.0, "float32")
            f["layers/dense/vars/0"] = h5py.SoftLink("/elsewhere")
    before = _weights(model)
    link = "ExternalLink" if kind == "external" else "SoftLink"
    _refused(lambda: model.load_weights(path), "link.weights.h5", "/layers/dense/vars/0", link)
    _assert_unchanged(model, before)


def test_wrong_dtype_in_last_weight_leaves_model_unchanged(tmp_path):
    model = _model()
    path = tmp_path / "dtype.weights.h5"
    model.save_weights(path)
    with h5py.File(path, "r+") as f:
        del f["layers/dense_1/vars/1"]
        f["layers/dense_1/vars/1"] = np.array([b"a", b"b"])
    fresh = _model()
    before = _weights(fresh)
    _refused(lambda: fresh.load_weights(path), "dtype.weights.h5", "layer 'out'", "bias", "cannot be cast")
    _assert_unchanged(fresh, before)


def test_set_weights_is_all_or_nothing():
    model = _model()
    before = _weights(model)
    bad = [np.ones_like(w) for w in before]
    bad[-1] = np.array(["a", "b"])
    with pytest.raises(ValueError, match="bias"):
        model.set_weights(bad)
    _assert_unchanged(model, before)
    layer = model.get_layer("out")
    with pytest.raises(ValueError, match="layer 'out'|Layer 'out'"):
        layer.set_weights([np.ones((3, 2)), np.array(["a", "b"])])
    _assert_unchanged(model, before)


# ----------------------------------------------------------------------
# Keras 2 .h5
# ----------------------------------------------------------------------
def test_legacy_h5_huge_declared_dataset_is_refused_fast(tmp_path):
    model = _model()
    path = tmp_path / "huge.h5"
    model.save_weights(path)
    with h5py.File(path, "r") as f:
        name = f["hidden"].attrs["weight_names"][0].decode()
    _huge_dataset_h5(str(path), f"hidden/{name}")
    before = _weights(model)
    _refused(lambda: model.load_weights(path), "huge.h5", name, str(HUGE))
    _assert_unchanged(model, before)
    whole = tmp_path / "whole.h5"
    model.save(whole)
    _huge_dataset_h5(str(whole), f"model_weights/hidden/{name}")
    _refused(lambda: load_model(whole), "whole.h5", name)


def test_legacy_h5_wrong_dtype_and_deep_config(tmp_path):
    model = _model()
    path = tmp_path / "whole.h5"
    model.save(path)
    with h5py.File(path, "r+") as f:
        name = f["model_weights/out"].attrs["weight_names"][-1].decode()
        del f[f"model_weights/out/{name}"]
        f[f"model_weights/out/{name}"] = np.array([b"a", b"b"])
    fresh = _model()
    before = _weights(fresh)
    _refused(lambda: fresh.load_weights(path), "whole.h5", f"/model_weights/out/{name}", "not numbers")
    _assert_unchanged(fresh, before)
    deep = tmp_path / "deep.h5"
    model.save(deep)
    with h5py.File(deep, "r+") as f:
        f.attrs["model_config"] = np.bytes_(b"[" * 30_000 + b"]" * 30_000)  # fits an object header
    _refused(lambda: load_model(deep), "deep.h5", "model_config", "nested")


# ----------------------------------------------------------------------
# torch.export programs
# ----------------------------------------------------------------------
def test_pt2_safe_mode_refuses_code_in_symbolic_sizes(tmp_path):
    model = _model()
    path = tmp_path / "m.pt2"
    export_model(model, str(path), verbose=False)
    module = load_exported(str(path))  # kerasish's own export loads in safe mode
    assert tuple(module(torch.ones(5, 4)).shape) == (5, 2)
    marker = tmp_path / "ran"
    with zipfile.ZipFile(path) as z:
        member = next(n for n in z.namelist() if "/models/" in n and n.endswith(".json"))
        text = z.read(member).decode()
    symbol = re.search(r'"expr_str": "([^"]*)"', text).group(1)
    payload = f"__import__('os').system('touch {marker}') or {symbol}"
    evil = tmp_path / "evil.pt2"
    _rewrite_zip(path, evil, replace={member: text.replace(symbol, payload).encode()})
    _refused(lambda: load_exported(str(evil)), "evil.pt2", "safe_mode=False", "__import__")
    assert not marker.exists()
    guard = tmp_path / "guard.pt2"
    program = json.loads(text)
    program["guards_code"] = [f"__import__('os').system('touch {marker}')"]
    _rewrite_zip(path, guard, replace={member: json.dumps(program).encode()})
    _refused(lambda: load_exported(str(guard)), "guard.pt2", "input guard")
    assert not marker.exists()
    # The crafted file is real: opting out of safe mode runs its payload.
    try:
        load_exported(str(evil), safe_mode=False)
    except Exception:  # torch may fail after the eval; the payload ran first
        pass
    assert marker.exists()
