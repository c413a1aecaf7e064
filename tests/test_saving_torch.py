"""The torch side of saving: state_dict round trips, ``model.export`` to a
torch.export program (``.pt2``) and to ONNX, and ``load_exported``."""

import json
import os
import pickle
import subprocess
import sys
import zipfile

import numpy as np
import pytest
import torch

import kerasish
from kerasish import layers as L
from kerasish.saving.export import export_model, load_exported

from conftest import assert_close_f32, to_numpy
from seed_networks import mnist_cnn

RNG = np.random.default_rng(0)


def data(*shape):
    return RNG.standard_normal(shape).astype("float32")


# ----------------------------------------------------------------------------
# Models (each builder starts a fresh name scope, so two builds share names)
# ----------------------------------------------------------------------------
def functional_cnn():
    kerasish.clear_session()
    x = kerasish.Input((9, 7, 3))  # H != W != C: a layout mix-up cannot pass
    y = L.Conv2D(4, 3, padding="same")(x)
    y = L.BatchNormalization()(y)
    y = L.ReLU()(y)
    y = L.MaxPooling2D()(y)
    y = L.Flatten()(y)
    return kerasish.Model(x, L.Dense(5, activation="softmax")(y))


def sequential_cnn():
    kerasish.clear_session()
    return kerasish.Sequential([
        kerasish.Input((9, 7, 3)),
        L.Conv2D(4, 3, strides=2),
        L.BatchNormalization(),
        L.AveragePooling2D(2),
        L.Flatten(),
        L.Dense(3),
    ])


def nested_model():
    kerasish.clear_session()
    inner = kerasish.Sequential([kerasish.Input((6, 6, 2)), L.Conv2D(3, 3), L.BatchNormalization()], name="inner")
    x = kerasish.Input((6, 6, 2))
    y = L.Dense(2)(L.Flatten()(inner(x)))
    return kerasish.Model(x, y)


def mnist_seed():
    kerasish.clear_session()
    return mnist_cnn(kerasish)


def two_inputs():
    kerasish.clear_session()
    image = kerasish.Input((6, 5, 2), name="image")
    extra = kerasish.Input((4,), name="extra")
    y = L.Flatten()(L.Conv2D(3, 3)(image))
    y = L.Concatenate()([y, L.Dense(3)(extra)])
    return kerasish.Model([image, extra], L.Dense(2)(y))


def train_bn(model, shape):
    """One training-mode call, so BatchNormalization's running stats move."""
    model(data(16, *shape) * 3 + 1, training=True)


def out(model, x):
    with torch.no_grad():
        return to_numpy(model(x))


# ----------------------------------------------------------------------------
# state_dict round trips
# ----------------------------------------------------------------------------
@pytest.mark.parametrize("build, shape", [(functional_cnn, (9, 7, 3)), (sequential_cnn, (9, 7, 3)), (nested_model, (6, 6, 2))])
def test_state_dict_round_trip_into_a_fresh_model(build, shape, tmp_path):
    model = build()
    train_bn(model, shape)
    x = data(4, *shape)
    expected = out(model, x)
    weights = model.get_weights()
    path = tmp_path / "model.pt"
    torch.save(model.state_dict(), path)

    fresh = build()
    assert not np.array_equal(out(fresh, x), expected)  # fresh weights differ, so the load must do the work
    result = fresh.load_state_dict(torch.load(path, weights_only=True))
    assert not result.missing_keys and not result.unexpected_keys
    assert np.array_equal(out(fresh, x), expected)
    after = fresh.get_weights()
    assert len(after) == len(weights)
    assert all(np.array_equal(a, b) for a, b in zip(after, weights))


def test_state_dict_keys_are_layer_names():
    model = functional_cnn()
    train_bn(model, (9, 7, 3))
    state = model.state_dict()
    assert {"conv2d.weight", "conv2d.bias", "batch_normalization.weight", "batch_normalization.bias",
            "batch_normalization.running_mean", "batch_normalization.running_var", "dense.weight", "dense.bias"} <= set(state)
    assert all(k.split(".")[0] in {"conv2d", "batch_normalization", "dense"} for k in state)
    # the training-mode call moved the running stats away from their (0, 1) start
    assert state["batch_normalization.running_mean"].abs().min() > 1e-5
    assert (state["batch_normalization.running_var"] - 1).abs().min() > 1e-5
    nested = nested_model().state_dict()
    assert "inner.conv2d.weight" in nested and "inner.batch_normalization.running_var" in nested and "dense.weight" in nested


# ----------------------------------------------------------------------------
# torch.export programs
# ----------------------------------------------------------------------------
def test_export_torch_dynamic_batch_channels_last(tmp_path, capsys):
    model = functional_cnn()
    train_bn(model, (9, 7, 3))
    path = tmp_path / "cnn.pt2"
    assert model.export(path) == str(path)
    assert f"'{path}'" in capsys.readouterr().out
    program = load_exported(path)
    assert not isinstance(program, kerasish.Layer)
    for batch in (1, 5):
        x = data(batch, 9, 7, 3)  # NHWC, as the model takes it
        got = program(torch.from_numpy(x))
        assert got.shape == (batch, 5)
        np.testing.assert_allclose(to_numpy(got), out(model, x), atol=1e-6, rtol=0)
    assert isinstance(torch.export.load(path), torch.export.ExportedProgram)


def test_export_runs_inference_mode_and_restores_the_mode(tmp_path):
    model = sequential_cnn()
    train_bn(model, (9, 7, 3))
    model.train()  # as in a torch training loop
    model.export(tmp_path / "seq.pt2", verbose=False)
    assert model.training and all(m.training for m in model.modules())
    x = data(3, 9, 7, 3)
    inference = to_numpy(model(x, training=False))
    np.testing.assert_allclose(to_numpy(load_exported(tmp_path / "seq.pt2")(torch.from_numpy(x))), inference, atol=1e-6, rtol=0)


def test_export_nested_and_mnist(tmp_path):
    for name, build, shape in (("nested", nested_model, (6, 6, 2)), ("mnist", mnist_seed, (28, 28, 1))):
        model = build()
        model.export(tmp_path / f"{name}.pt2", verbose=False)
        program = load_exported(tmp_path / f"{name}.pt2")
        x = data(3, *shape)
        np.testing.assert_allclose(to_numpy(program(torch.from_numpy(x))), out(model, x), atol=1e-6, rtol=0)


def test_export_two_inputs_with_input_signature(tmp_path):
    model = two_inputs()
    a, b = data(3, 6, 5, 2), data(3, 4)
    expected = out(model, [a, b])
    # shapes with a None batch: the program takes any batch size, called like the model
    model.export(tmp_path / "shapes.pt2", input_signature=[(None, 6, 5, 2), (None, 4)], verbose=False)
    program = load_exported(tmp_path / "shapes.pt2")
    np.testing.assert_allclose(to_numpy(program([torch.from_numpy(a), torch.from_numpy(b)])), expected, atol=1e-6, rtol=0)
    one = program([torch.from_numpy(a[:1]), torch.from_numpy(b[:1])])
    np.testing.assert_allclose(to_numpy(one), expected[:1], atol=1e-6, rtol=0)
    # example tensors (even with batch 1) keep the batch dynamic
    model.export(tmp_path / "tensors.pt2", input_signature=[torch.zeros(1, 6, 5, 2), torch.zeros(1, 4)], verbose=False)
    program = load_exported(tmp_path / "tensors.pt2")
    np.testing.assert_allclose(to_numpy(program([torch.from_numpy(a), torch.from_numpy(b)])), expected, atol=1e-6, rtol=0)
    # a concrete batch size fixes it
    model.export(tmp_path / "static.pt2", input_signature=[(3, 6, 5, 2), (3, 4)], verbose=False)
    program = load_exported(tmp_path / "static.pt2")
    np.testing.assert_allclose(to_numpy(program([torch.from_numpy(a), torch.from_numpy(b)])), expected, atol=1e-6, rtol=0)
    with pytest.raises(Exception, match="3"):
        program([torch.from_numpy(a[:2]), torch.from_numpy(b[:2])])


class Pair(kerasish.Model):
    """A subclassed model taking a list of two inputs."""

    def __init__(self):
        super().__init__()
        self.conv = L.Conv2D(3, 3)
        self.dense = L.Dense(2)

    def call(self, inputs):
        image, extra = inputs
        return self.dense(torch.cat([torch.flatten(self.conv(image), 1), extra], dim=1))


@pytest.mark.slow
def test_export_subclassed_model(tmp_path):
    kerasish.clear_session()
    model = Pair()
    a, b = data(3, 5, 5, 2), data(3, 4)
    expected = out(model, [a, b])  # builds it, on batch 3
    model.export(tmp_path / "pair.pt2", verbose=False)
    program = load_exported(tmp_path / "pair.pt2")
    np.testing.assert_allclose(to_numpy(program([torch.from_numpy(a), torch.from_numpy(b)])), expected, atol=1e-6, rtol=0)
    one = program([torch.from_numpy(a[:1]), torch.from_numpy(b[:1])])  # the batch is never fixed by the first call
    np.testing.assert_allclose(to_numpy(one), expected[:1], atol=1e-6, rtol=0)
    import onnxruntime as ort

    model.export(tmp_path / "pair.onnx", format="onnx", verbose=False)
    session = ort.InferenceSession(str(tmp_path / "pair.onnx"), providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]
    (got,) = session.run(None, dict(zip(names, [a, b])))
    assert np.abs(got - expected).max() <= 1e-5


def test_unknown_non_batch_dimension_needs_an_input_signature(tmp_path):
    kerasish.clear_session()
    x = kerasish.Input((None, None, 3), name="photo")
    model = kerasish.Model(x, L.GlobalAveragePooling2D()(L.Conv2D(4, 3)(x)))
    with pytest.raises(ValueError, match=r"input 0 \('photo'\).*unknown dimension.*axis \[1, 2\].*input_signature"):
        model.export(tmp_path / "fcn.pt2")
    model.export(tmp_path / "fcn.pt2", input_signature=[(None, 10, 12, 3)], verbose=False)
    v = data(4, 10, 12, 3)
    np.testing.assert_allclose(to_numpy(load_exported(tmp_path / "fcn.pt2")(torch.from_numpy(v))), out(model, v), atol=1e-6, rtol=0)


@pytest.mark.slow
def test_exported_program_runs_without_kerasish(tmp_path):
    model = mnist_seed()
    path = tmp_path / "mnist.pt2"
    model.export(path, verbose=False)
    x = data(2, 28, 28, 1)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", out(model, x))
    code = (
        "import sys; sys.modules['kerasish'] = None\n"  # any import of kerasish now fails
        "import numpy as np, torch\n"
        f"m = torch.export.load({str(path)!r}).module()\n"
        f"y = m(torch.from_numpy(np.load({str(tmp_path / 'x.npy')!r}))).detach().numpy()\n"
        f"assert np.abs(y - np.load({str(tmp_path / 'y.npy')!r})).max() < 1e-6\n"
        "print('ok')\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0 and "ok" in run.stdout, run.stderr[-2000:]


# ----------------------------------------------------------------------------
# ONNX (onnx, onnxscript and onnxruntime come with the dev extra)
# ----------------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("build, shape", [(mnist_seed, (28, 28, 1)), (functional_cnn, (9, 7, 3))])
def test_export_onnx_matches_in_onnxruntime(build, shape, tmp_path, capsys):
    import onnxruntime as ort

    model = build()
    if build is functional_cnn:
        train_bn(model, shape)
    path = tmp_path / "model.onnx"
    model.export(path, format="onnx")
    assert f"Saved artifact at '{path}'." in capsys.readouterr().out
    assert os.listdir(tmp_path) == ["model.onnx"]  # one file: the weights are inside
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (inp,) = session.get_inputs()
    assert inp.name == model.inputs[0].name and inp.shape[1:] == list(shape) and isinstance(inp.shape[0], str)
    for batch in (1, 4):
        x = data(batch, *shape)
        (got,) = session.run(None, {inp.name: x})
        assert_close_f32(got, out(model, x), terms=x[0].size)  # onnxruntime's kernels, not torch's


@pytest.mark.slow
def test_export_onnx_two_inputs_by_name(tmp_path):
    import onnxruntime as ort

    model = two_inputs()
    model.export(tmp_path / "two.onnx", format="onnx", verbose=False)
    session = ort.InferenceSession(str(tmp_path / "two.onnx"), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["image", "extra"]
    a, b = data(5, 6, 5, 2), data(5, 4)
    (got,) = session.run(None, {"image": a, "extra": b})
    assert_close_f32(got, out(model, [a, b]), terms=a[0].size)


@pytest.mark.parametrize("missing", ["onnx", "onnxscript"])
def test_export_onnx_without_the_packages_says_what_to_install(missing, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, missing, None)  # `import <missing>` now raises ImportError
    model = mnist_seed()
    with pytest.raises(ImportError, match=rf"'{missing}'.*pip install onnx onnxscript"):
        model.export(tmp_path / "m.onnx", format="onnx")
    assert not os.listdir(tmp_path)


# ----------------------------------------------------------------------------
# Bad input
# ----------------------------------------------------------------------------
def test_bad_formats(tmp_path):
    model = mnist_seed()
    with pytest.raises(ValueError, match=r"Unrecognized format='savedmodel'.*\['torch', 'onnx'\]"):
        model.export(tmp_path / "m", format="savedmodel")
    for fmt in ("openvino", "litert"):
        with pytest.raises(ValueError, match=r"Supported formats are: \['torch', 'onnx'\]"):
            model.export(tmp_path / "m", format=fmt)
    with pytest.raises(ValueError, match=r"tf_saved_model.*never depends on TensorFlow.*'torch'.*'onnx'"):
        model.export(tmp_path / "m", format="tf_saved_model")
    with pytest.raises(ValueError, match=r"must end with '\.pt2'"):
        model.export(tmp_path / "m.pt", format="torch")
    with pytest.raises(ValueError, match=r"Unsupported argument\(s\) for format='torch': colour"):
        model.export(tmp_path / "m.pt2", colour="red")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        model.export(tmp_path / "no_such_dir" / "m.pt2")
    assert not os.listdir(tmp_path)


def test_unbuilt_model_and_bad_signatures(tmp_path):
    kerasish.clear_session()
    unbuilt = kerasish.Sequential([L.Dense(2)], name="not_yet")
    with pytest.raises(ValueError, match=r"Model 'not_yet' has not been built.*build"):
        unbuilt.export(tmp_path / "m.pt2")
    with pytest.raises(ValueError, match=r"'not_yet' has not been built"):
        export_model(unbuilt, tmp_path / "m.onnx", format="onnx")
    with pytest.raises(TypeError, match="kerasish Model"):
        export_model(torch.nn.Linear(2, 2), tmp_path / "m.pt2")
    model = two_inputs()
    with pytest.raises(ValueError, match=r"describes 1 input\(s\), but the model takes 2"):
        model.export(tmp_path / "m.pt2", input_signature=[(None, 6, 5, 2)])
    with pytest.raises(ValueError, match=r"shape \(None, 6, 5\) for input 0 \('image'\).*rank 4"):
        model.export(tmp_path / "m.pt2", input_signature=[(None, 6, 5), (None, 4)])
    assert not os.listdir(tmp_path)


# ----------------------------------------------------------------------------
# load_exported
# ----------------------------------------------------------------------------
def _pickled_weight_archive(src, dst, marker):
    """A copy of ``src`` whose first weight is a pickle that creates ``marker``."""

    class Payload:
        def __reduce__(self):
            return (os.makedirs, (str(marker),))

    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        config_name = next(n for n in zin.namelist() if n.endswith("_weights_config.json"))
        config = json.loads(zin.read(config_name))
        meta = next(iter(config["config"].values()))
        meta["use_pickle"] = True
        weight_name = config_name.rsplit("/", 1)[0] + "/" + meta["path_name"]
        for info in zin.infolist():
            body = zin.read(info.filename)
            if info.filename == config_name:
                body = json.dumps(config).encode()
            elif info.filename == weight_name:
                body = pickle.dumps(Payload())
            zout.writestr(info, body)


def test_load_exported_refuses_pickled_payloads(tmp_path):
    model = mnist_seed()
    model.export(tmp_path / "good.pt2", verbose=False)
    _pickled_weight_archive(tmp_path / "good.pt2", tmp_path / "evil.pt2", tmp_path / "payload_ran")
    with pytest.raises(ValueError, match=r"evil\.pt2.*safe_mode=True.*weight 'conv2d\.weight' is stored pickled"):
        load_exported(tmp_path / "evil.pt2")
    assert not (tmp_path / "payload_ran").exists()
    # Why the check exists: torch.export.load itself runs the pickle.
    with pytest.raises(Exception):
        load_exported(tmp_path / "evil.pt2", safe_mode=False)
    assert (tmp_path / "payload_ran").exists()


def test_load_exported_bad_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="No such file"):
        load_exported(tmp_path / "missing.pt2")
    (tmp_path / "text.pt2").write_text("not an archive")
    with pytest.raises(ValueError, match=r"not a torch\.export archive"):
        load_exported(tmp_path / "text.pt2")
    with zipfile.ZipFile(tmp_path / "other.pt2", "w") as z:
        z.writestr("other/hello.txt", "hi")
    with pytest.raises(ValueError, match=r"not a torch\.export archive.*archive_format"):
        load_exported(tmp_path / "other.pt2")
