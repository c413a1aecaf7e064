"""kerasish.visualization: each function writes a sensible PNG, the data
behind each picture is right, and bad input is named."""

import importlib
import sys

import numpy as np
import pytest
import torch


import kerasish
from kerasish import visualization as viz
from kerasish.layers import Conv2D, Dense, Flatten, Input, MaxPooling2D
from kerasish.models import Model, Sequential

from PIL import Image

from conftest import assert_close_f32


@pytest.fixture(autouse=True)
def close_pyplot_figures():
    """Figures made while pyplot is imported are pyplot figures: close them."""
    yield
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None:
        pyplot.close("all")


def check_png(path, min_kb=5, min_px=300):
    assert path.exists(), path
    assert path.stat().st_size > min_kb * 1024, f"{path} is only {path.stat().st_size} bytes"
    assert path.stat().st_size < 300 * 1024
    with Image.open(path) as im:
        assert im.format == "PNG"
        assert min(im.size) > min_px, f"{path} is {im.size}"


def small_model():
    torch.manual_seed(0)
    return Sequential([
        Conv2D(4, 3, input_shape=(12, 12, 1), name="c1"),
        MaxPooling2D(2, name="p1"),
        Conv2D(6, 3, padding="same", name="c2"),
        Flatten(),
        Dense(3, activation="softmax", name="out"),
    ])


def correlate_same(image, kernel):
    """Zero-padded 'same' cross-correlation in numpy."""
    kh, kw = kernel.shape
    padded = np.pad(image, ((kh // 2, kh - 1 - kh // 2), (kw // 2, kw - 1 - kw // 2)))
    h, w = image.shape
    return np.array([[np.sum(padded[i:i + kh, j:j + kw] * kernel) for j in range(w)] for i in range(h)])


# --- plot_history ---------------------------------------------------------


def test_plot_history_from_fit(tmp_path):
    model = small_model()
    model.compile("adam", "categorical_crossentropy", metrics=["accuracy"])
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 12, 12, 1)).astype("float32")
    y = np.eye(3, dtype="float32")[rng.integers(0, 3, 40)]
    history = model.fit(x, y, epochs=3, validation_split=0.25, verbose=0)
    fig = viz.plot_history(history, to_file=tmp_path / "h.png")
    check_png(tmp_path / "h.png")
    data = fig.kerasish_data
    assert data["epochs"] == [1, 2, 3]
    assert set(data["curves"]) == {"loss", "val_loss", "accuracy", "val_accuracy"}
    for key, values in data["curves"].items():
        np.testing.assert_allclose(values, history.history[key])
    # The plotted lines carry the same numbers (epochs 1-based).
    ax = fig.axes[0]
    assert ax.get_title() == "loss"
    xs, ys = ax.lines[0].get_data()
    np.testing.assert_allclose(xs, [1, 2, 3])
    np.testing.assert_allclose(ys, history.history["loss"])
    assert ax.get_xlabel() == "epoch"


def test_plot_history_dict_and_metric_choice(tmp_path):
    logs = {"loss": [1.0, 0.5, 0.25, 0.2], "mae": [3.0, 2.0, 1.0, 0.5], "val_loss": [1.1, 0.7, 0.4, 0.35]}
    fig = viz.plot_history(logs, metrics=["loss"])
    assert fig.kerasish_data["curves"] == {"loss": logs["loss"], "val_loss": logs["val_loss"]}
    assert len([a for a in fig.axes if a.get_visible()]) == 1
    fig = viz.plot_history(logs)
    assert [a.get_title() for a in fig.axes if a.get_visible()] == ["loss", "mae"]
    with pytest.raises(ValueError, match="accuracy.*recorded"):
        viz.plot_history(logs, metrics=["accuracy"])
    with pytest.raises(ValueError, match="empty"):
        viz.plot_history({})
    with pytest.raises(TypeError, match="history"):
        viz.plot_history([1, 2, 3])


# --- plot_filters ---------------------------------------------------------


def test_plot_filters_values(tmp_path):
    model = small_model()
    layer = model.get_layer("c2")  # kernel (3, 3, 4, 6)
    kernel = layer.get_weights()[0]
    fig = viz.plot_filters(layer, to_file=tmp_path / "f.png")
    check_png(tmp_path / "f.png")
    data = fig.kerasish_data
    np.testing.assert_array_equal(data["kernel"], kernel)
    assert data["mode"] == "mean"
    np.testing.assert_allclose(data["panels"], kernel.mean(axis=2).transpose(2, 0, 1), rtol=1e-6)
    fig = viz.plot_filters(layer, channel=2)
    panels = fig.kerasish_data["panels"]
    assert panels.shape == (6, 3, 3)
    for i in range(6):
        np.testing.assert_array_equal(panels[i], kernel[:, :, 2, i])
    # The images drawn are those panels, on one shared symmetric scale.
    images = [ax.images[0] for ax in fig.axes if ax.images]
    assert len(images) == 6
    np.testing.assert_array_equal(np.asarray(images[3].get_array()), kernel[:, :, 2, 3])
    clims = {im.get_clim() for im in images}
    assert len(clims) == 1
    lo, hi = clims.pop()
    assert lo == -hi and hi == pytest.approx(np.abs(kernel[:, :, 2, :]).max())
    with pytest.raises(ValueError, match="channel"):
        viz.plot_filters(layer, channel=4)


def test_plot_filters_rgb(tmp_path):
    layer = Conv2D(5, 4)
    layer.build((None, 16, 16, 3))
    fig = viz.plot_filters(layer, to_file=tmp_path / "rgb.png")
    check_png(tmp_path / "rgb.png")
    data = fig.kerasish_data
    assert data["mode"] == "rgb"
    np.testing.assert_array_equal(data["panels"], layer.get_weights()[0].transpose(3, 0, 1, 2))


@pytest.mark.parametrize("bad", ["out", "p1"])
def test_plot_filters_rejects_layers_without_kernels(bad):
    model = small_model()
    with pytest.raises(ValueError, match=f"'{bad}'.*no conv kernels"):
        viz.plot_filters(model.get_layer(bad))


# --- plot_feature_maps ----------------------------------------------------


def test_plot_feature_maps_equal_intermediate_outputs(tmp_path):
    model = small_model()
    image = np.random.default_rng(1).normal(size=(12, 12, 1)).astype("float32")
    fig = viz.plot_feature_maps(model, image, to_file=tmp_path / "m.png")
    check_png(tmp_path / "m.png")
    data = fig.kerasish_data
    assert data["layer_names"] == ["c1", "p1", "c2"]  # every conv and pooling layer
    probe = Model(model.inputs, [model.get_layer(n).output for n in ["c1", "p1", "c2"]])
    expected = probe.predict(image[None], verbose=0)
    for name, want in zip(["c1", "p1", "c2"], expected):
        np.testing.assert_allclose(data["outputs"][name], want[0], rtol=1e-6, atol=1e-6)
    assert data["outputs"]["c1"].shape == (10, 10, 4)
    # A hand check of the first conv: correlation with the kernel plus the bias.
    k, b = model.get_layer("c1").get_weights()
    x = image[:, :, 0]
    want = np.array([[np.sum(x[i:i + 3, j:j + 3] * k[:, :, 0, 1]) for j in range(10)] for i in range(10)]) + b[1]
    assert_close_f32(data["outputs"]["c1"][..., 1], want, terms=9)


def test_plot_feature_maps_batch_of_one_and_max_maps():
    model = small_model()
    image = np.random.default_rng(2).normal(size=(1, 12, 12, 1)).astype("float32")
    fig = viz.plot_feature_maps(model, image, layer_names=["c2", "out"], max_maps=2)
    data = fig.kerasish_data
    assert data["shown"] == {"c2": 2, "out": 1}
    np.testing.assert_allclose(data["outputs"]["out"], model.predict(image, verbose=0)[0], rtol=1e-6, atol=1e-6)


def test_plot_feature_maps_bad_input():
    model = small_model()
    image = np.zeros((12, 12, 1), "float32")
    with pytest.raises(ValueError, match=r"'nope'.*\['c1', 'p1', 'c2', 'flatten.*'out'\]"):
        viz.plot_feature_maps(model, image, layer_names=["c1", "nope"])
    with pytest.raises(ValueError, match=r"\(28, 28, 3\).*\(12, 12, 1\)"):
        viz.plot_feature_maps(model, np.zeros((28, 28, 3), "float32"))
    with pytest.raises(ValueError, match=r"\(2, 12, 12, 1\).*\(12, 12, 1\)"):
        viz.plot_feature_maps(model, np.zeros((2, 12, 12, 1), "float32"))


def test_plot_feature_maps_functional_rgb():
    inputs = Input((10, 10, 3))
    h = Conv2D(3, 3, name="a")(inputs)
    outputs = Dense(2)(Flatten()(MaxPooling2D(name="pool")(h)))
    model = Model(inputs, outputs)
    image = torch.rand(10, 10, 3)
    fig = viz.plot_feature_maps(model, image)
    assert fig.kerasish_data["layer_names"] == ["a", "pool"]
    assert fig.kerasish_data["outputs"]["pool"].shape == (4, 4, 3)


# --- plot_kernel_effects --------------------------------------------------


def test_plot_kernel_effects_default_kernels(tmp_path):
    rng = np.random.default_rng(3)
    rgb = rng.uniform(size=(20, 24, 3)).astype("float32")
    fig = viz.plot_kernel_effects(rgb, to_file=tmp_path / "k.png")
    check_png(tmp_path / "k.png")
    data = fig.kerasish_data
    gray = rgb @ np.array([0.299, 0.587, 0.114], "float32")
    np.testing.assert_allclose(data["image"], gray, rtol=1e-6)
    assert len(data["kernels"]) == 5
    sobel = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], "float32")
    assert any(np.array_equal(k, sobel) for k in data["kernels"].values())
    assert any(np.array_equal(k, sobel.T) for k in data["kernels"].values())
    assert any(np.array_equal(k, [[0, -1, 0], [-1, 4, -1], [0, -1, 0]]) for k in data["kernels"].values())
    for title, kernel in data["kernels"].items():
        out = data["outputs"][title]
        assert out.shape == gray.shape  # 'same' padding
        assert_close_f32(out, correlate_same(gray, kernel), terms=np.size(kernel))
    titles = [ax.get_title() for ax in fig.axes]
    assert any("Sobel" in t for t in titles)
    assert any("[-2  0  2]" in ax.get_xlabel() for ax in fig.axes)  # each panel shows its kernel


def test_plot_kernel_effects_custom_kernels():
    image = np.arange(49, dtype="float32").reshape(7, 7)
    kernels = {"shift": np.array([[0, 0, 0], [0, 0, 1], [0, 0, 0]]), "5x5 box": np.ones((5, 5)) / 25}
    fig = viz.plot_kernel_effects(image[:, :, None], kernels=kernels)
    outs = fig.kerasish_data["outputs"]
    np.testing.assert_allclose(outs["shift"][:, :-1], image[:, 1:])
    assert_close_f32(outs["5x5 box"], correlate_same(image, kernels["5x5 box"]), terms=25)
    with pytest.raises(ValueError, match="2-D"):
        viz.plot_kernel_effects(image, kernels=[np.ones(3)])
    with pytest.raises(ValueError, match=r"\(2, 7, 7, 5\)"):
        viz.plot_kernel_effects(np.zeros((2, 7, 7, 5)))


# --- plot_activations -----------------------------------------------------


@pytest.mark.slow
def test_plot_activations(tmp_path):
    from kerasish import activations

    fig = viz.plot_activations(to_file=tmp_path / "a.png")
    check_png(tmp_path / "a.png")
    data = fig.kerasish_data
    names = set(data["values"])
    assert {"relu", "sigmoid", "tanh", "gelu", "silu", "elu"} <= names
    assert "threshold" not in names and "softmax" not in names  # extra args / axis-wise
    x = data["x"]
    assert x[0] == -5 and x[-1] == 5
    np.testing.assert_allclose(data["values"]["relu"], np.maximum(x, 0))
    np.testing.assert_allclose(data["derivatives"]["relu"], (x > 0).astype(float))
    s = 1 / (1 + np.exp(-x))
    np.testing.assert_allclose(data["values"]["sigmoid"], s, rtol=1e-6)
    np.testing.assert_allclose(data["derivatives"]["sigmoid"], s * (1 - s), rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(data["derivatives"]["tanh"], 1 - np.tanh(x) ** 2, rtol=1e-5, atol=1e-8)
    for name in names:
        np.testing.assert_allclose(
            data["values"][name], activations.get(name)(torch.as_tensor(x)).numpy(), rtol=1e-6, atol=1e-7
        )


def test_plot_activations_names():
    fig = viz.plot_activations(["relu", "swish"])
    assert list(fig.kerasish_data["values"]) == ["relu", "swish"]
    assert [ax.get_title() for ax in fig.axes if ax.get_visible()] == ["relu", "swish"]
    with pytest.raises(ValueError, match="'nope'.*relu"):
        viz.plot_activations(["nope"])
    with pytest.raises(ValueError, match="'threshold'"):
        viz.plot_activations(["threshold"])


# --- plumbing -------------------------------------------------------------


def test_no_backend_change_and_no_pyplot_needed():
    import matplotlib

    before = matplotlib.get_backend()
    fig = viz.plot_activations(["relu"])
    assert matplotlib.get_backend() == before
    assert fig.canvas is not None
    fig.canvas.draw()


def test_pyplot_figures_when_pyplot_is_in_use():
    import matplotlib.pyplot as plt

    fig = viz.plot_history({"loss": [1.0, 0.5]})
    assert fig.number in plt.get_fignums()  # plt.show() / notebooks display it
    plt.close(fig)


def test_missing_matplotlib_says_how_to_install(monkeypatch):
    monkeypatch.setattr(kerasish, "visualization", viz)
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    for name in [m for m in sys.modules if m.startswith("kerasish.visualization")]:
        monkeypatch.delitem(sys.modules, name)
    module = importlib.import_module("kerasish.visualization")  # importing works without matplotlib
    with pytest.raises(ImportError, match=r'pip install "kerasish\[viz\]"'):
        module.plot_activations(["relu"])
    with pytest.raises(ImportError, match=r'pip install "kerasish\[viz\]"'):
        module.plot_history({"loss": [1.0]})
