"""Applications built layer by layer as Keras builds them: MobileNet, MobileNetV2,
MobileNetV3, EfficientNet, EfficientNetV2, ConvNeXt, NASNet.

Against Keras 3 (weights=None): the same layers (names, classes, order), the same
parameter counts and output shapes, and with Keras's weights copied in (or read
from a Keras ``.keras`` file / a Keras 2 ``.h5`` weights file), the same outputs.
Pretrained sources are exercised offline: downloads are stood in for.
"""

import hashlib
import importlib
import os
import re

import numpy as np
import pytest
import torch
import torchvision

import kerasish
from kerasish.applications import _torchvision_backbone as tvb
from kerasish.applications import convnext, efficientnet, efficientnet_v2, mobilenet, mobilenet_v2, mobilenet_v3, nasnet
from kerasish.engine.naming import clear_session
from conftest import assert_close_f32
from test_applications_a import _no_network, serve_keras_files

MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
_AUTO_ADD = re.compile(r"add(_\d+)?$")


def keras_visible(model):
    """(name, class) of our layers that Keras also lists as layers.

    Keras records ``x + 3.0`` / ``x * c`` (MobileNetV3's hard sigmoid) and ConvNeXt's
    residual ``inputs + x`` as operations, not layers; kerasish records them as
    weightless TensorOp / auto-named Add layers. (NASNet's unnamed ``layers.add`` is a
    layer in both.)
    """
    convnext_model = any(isinstance(layer, convnext.LayerScale) for layer in model.layers)
    out = []
    for layer in model.layers:
        kind = type(layer).__name__
        if kind == "TensorOp" or (convnext_model and kind == "Add" and _AUTO_ADD.match(layer.name)):
            continue
        out.append((layer.name, kind))
    return out


def build_pair(keras, module, fn, **kw):
    """Keras's and our model, built from the same fresh name counters."""
    kw.setdefault("weights", None)
    keras.utils.clear_session()
    clear_session()
    theirs = getattr(keras.applications, fn)(**kw)
    clear_session()
    ours = getattr(importlib.import_module(f"kerasish.applications.{module}"), fn)(**kw)
    return theirs, ours


def randomize(keras, model, seed=1):
    """Non-trivial weights on a Keras model: BatchNorm statistics and affine terms, biases."""
    rng = np.random.default_rng(seed)
    for v in model.weights:
        path = v.path
        if "count" in path:
            continue
        a = keras.ops.convert_to_numpy(v)
        if "variance" in path:
            a = rng.uniform(0.5, 1.5, a.shape)
        elif any(s in path for s in ("mean", "beta", "bias")):
            a = rng.normal(0.0, 0.1, a.shape)
        elif "gamma" in path:
            a = 1.0 + rng.normal(0.0, 0.1, a.shape)
        v.assign(a.astype(v.dtype))


def run(model, x):
    """Our model's inference output as numpy (a direct call: no data pipeline involved)."""
    with torch.no_grad():
        return model(x, training=False).detach().cpu().numpy()


def images(shape, seed=0):
    return np.random.default_rng(seed).uniform(0, 255, shape).astype("float32")


def check_structure(theirs, ours):
    assert keras_visible(ours) == [(l.name, type(l).__name__) for l in theirs.layers]
    assert ours.count_params() == theirs.count_params()
    assert ours.output_shape == theirs.output_shape
    assert ours.name == theirs.name
    assert [tuple(w.shape) for w in ours.get_weights()] == [tuple(w.shape) for w in theirs.get_weights()]


# (module, function, kwargs); heavy ones marked slow.
STRUCTURES = [
    ("mobilenet_v2", "MobileNetV2", {"input_shape": (32, 32, 3)}),
    ("mobilenet_v2", "MobileNetV2", {"input_shape": (33, 35, 3), "alpha": 0.35, "include_top": False, "pooling": "max"}),
    ("mobilenet_v2", "MobileNetV2", {"input_shape": (96, 96, 3), "alpha": 1.4, "include_top": False, "pooling": "avg"}),
    ("mobilenet_v3", "MobileNetV3Small", {"input_shape": (32, 32, 3)}),
    ("mobilenet_v3", "MobileNetV3Small", {"alpha": 0.75, "minimalistic": True, "include_top": False, "pooling": "avg"}),
    ("mobilenet_v3", "MobileNetV3Large", {"input_shape": (32, 32, 3), "include_top": False, "pooling": "max"}),
    ("mobilenet_v3", "MobileNetV3Large", {"input_shape": (32, 32, 3), "alpha": 1.25, "classes": 10, "dropout_rate": 0.0}),
    ("efficientnet", "EfficientNetB0", {"input_shape": (32, 32, 3)}),
    ("efficientnet", "EfficientNetB0", {"include_top": False, "pooling": "max"}),
    ("convnext", "ConvNeXtTiny", {"input_shape": (32, 32, 3)}),
    ("convnext", "ConvNeXtTiny", {"input_shape": (32, 32, 3), "include_top": False, "pooling": "avg",
                                  "include_preprocessing": False}),
    ("mobilenet", "MobileNet", {"input_shape": (32, 32, 3)}),
    ("mobilenet", "MobileNet", {"input_shape": (35, 33, 3), "alpha": 0.25, "depth_multiplier": 2, "include_top": False,
                                "pooling": "avg"}),
    ("efficientnet_v2", "EfficientNetV2B0", {"input_shape": (32, 32, 3)}),
    ("efficientnet_v2", "EfficientNetV2B1", {"input_shape": (32, 32, 3), "include_top": False, "pooling": "max",
                                             "include_preprocessing": False}),
    pytest.param("efficientnet_v2", "EfficientNetV2B3", {"input_shape": (32, 32, 3), "include_top": False},
                 marks=pytest.mark.slow),
    pytest.param("efficientnet_v2", "EfficientNetV2S", {"input_shape": (32, 32, 3)}, marks=pytest.mark.slow),
    pytest.param("efficientnet_v2", "EfficientNetV2M", {"input_shape": (32, 32, 3), "include_top": False,
                                                        "pooling": "avg"}, marks=pytest.mark.slow),
    pytest.param("efficientnet_v2", "EfficientNetV2L", {"input_shape": (32, 32, 3)}, marks=pytest.mark.slow),
    pytest.param("nasnet", "NASNetLarge", {"input_shape": (32, 32, 3), "include_top": False}, marks=pytest.mark.slow),
    pytest.param("efficientnet", "EfficientNetB3", {"input_shape": (32, 32, 3), "include_top": False}, marks=pytest.mark.slow),
    pytest.param("efficientnet", "EfficientNetB5", {"input_shape": (32, 32, 3), "include_top": False, "pooling": "avg"},
                 marks=pytest.mark.slow),
    pytest.param("efficientnet", "EfficientNetB7", {"input_shape": (32, 32, 3)}, marks=pytest.mark.slow),
    pytest.param("convnext", "ConvNeXtSmall", {"input_shape": (32, 32, 3), "include_top": False, "pooling": "max"},
                 marks=pytest.mark.slow),
    pytest.param("convnext", "ConvNeXtBase", {"input_shape": (32, 32, 3)}, marks=pytest.mark.slow),
]


@pytest.mark.parametrize("module,fn,kw", STRUCTURES)
def test_structure_equals_keras(keras, module, fn, kw):
    theirs, ours = build_pair(keras, module, fn, **kw)
    check_structure(theirs, ours)


@pytest.mark.slow
@pytest.mark.parametrize("fn", ["ConvNeXtLarge", "ConvNeXtXLarge"])
def test_big_convnext_counts_equal_keras(keras, fn):
    # Built on the meta device (no memory, no init); Keras's counts measured
    # with keras 3 (weights=None, include_top=True): Large 197,767,336, XLarge 350,196,968.
    expected = {"ConvNeXtLarge": 197_767_336, "ConvNeXtXLarge": 350_196_968}[fn]
    with torch.device("meta"):
        ours = getattr(convnext, fn)(weights=None, input_shape=(32, 32, 3))
    assert ours.count_params() == expected


# One value check per family: Keras's (randomized) weights copied in, logits compared.
VALUES = [
    ("mobilenet_v2", "MobileNetV2", {"input_shape": (64, 64, 3)}, mobilenet_v2.preprocess_input, 1280, 55),
    ("mobilenet_v3", "MobileNetV3Large", {"input_shape": (64, 64, 3)}, None, 1280, 60),
    ("mobilenet_v3", "MobileNetV3Small", {"input_shape": (40, 48, 3), "minimalistic": True}, None, 1024, 40),
    ("efficientnet", "EfficientNetB0", {"input_shape": (64, 64, 3)}, None, 1280, 80),
    ("convnext", "ConvNeXtTiny", {"input_shape": (64, 64, 3)}, None, 4 * 768, 40),
    ("mobilenet", "MobileNet", {"input_shape": (64, 64, 3)}, mobilenet.preprocess_input, 1024, 30),
    ("efficientnet_v2", "EfficientNetV2B0", {"input_shape": (64, 64, 3)}, None, 1280, 80),
]


# Keras 3 refuses NASNetMobile on torch (an open Keras bug); its generic NASNet builds the same cells.
_MOBILE = {"penultimate_filters": 1056, "num_blocks": 4, "stem_block_filters": 32, "skip_reduction": False,
           "default_size": 224}


@pytest.mark.slow
@pytest.mark.parametrize("kw", [{"input_shape": (32, 32, 3)},
                                {"input_shape": (67, 67, 3), "include_top": False, "pooling": "max"}])
def test_nasnet_mobile_equals_kerass_nasnet(keras, kw):
    from keras.src.applications import nasnet as knasnet

    keras.utils.clear_session()
    clear_session()
    theirs = knasnet.NASNet(weights=None, name="nasnet_mobile", classifier_activation=None, **_MOBILE, **kw)
    clear_session()
    ours = nasnet.NASNetMobile(weights=None, classifier_activation=None, **kw)
    check_structure(theirs, ours)
    randomize(keras, theirs)
    ours.set_weights(theirs.get_weights())
    x = nasnet.preprocess_input(images((2,) + kw["input_shape"]))
    assert_close_f32(run(ours, x), theirs.predict(x, verbose=0), terms=1056, depth=100)


@pytest.mark.slow
def test_nasnet_keras_file_loads(keras, tmp_path):
    from keras.src.applications import nasnet as knasnet

    theirs = knasnet.NASNet(weights=None, input_shape=(32, 32, 3), include_top=False, pooling="avg",
                            **dict(_MOBILE, num_blocks=1))
    randomize(keras, theirs)
    path = str(tmp_path / "nasnet.keras")
    theirs.save(path)
    loaded = kerasish.models.load_model(path)
    x = images((2, 32, 32, 3)) / 127.5 - 1
    assert_close_f32(run(loaded, x), theirs.predict(x, verbose=0), terms=1056, depth=40)


@pytest.mark.parametrize("module,fn,kw,prep,terms,depth", VALUES)
def test_outputs_equal_keras(keras, module, fn, kw, prep, terms, depth):
    theirs, ours = build_pair(keras, module, fn, classifier_activation=None, **kw)
    randomize(keras, theirs)
    ours.set_weights(theirs.get_weights())
    x = images((2,) + kw["input_shape"])
    if prep is not None:
        x = prep(x)
    expected = theirs.predict(x, verbose=0)
    got = run(ours, x)
    assert_close_f32(got, expected, terms=terms, depth=depth)
    # Inference is train-free: a second call gives the same, BatchNorm statistics untouched.
    assert_close_f32(run(ours, x), got, terms=1)


@pytest.mark.slow
@pytest.mark.parametrize("module,fn", [("mobilenet_v2", "MobileNetV2"), ("efficientnet", "EfficientNetB0"),
                                       ("mobilenet", "MobileNet"), ("efficientnet_v2", "EfficientNetV2B0")])
def test_keras_file_loads_and_predicts_the_same(keras, tmp_path, module, fn):
    theirs, _ = build_pair(keras, module, fn, input_shape=(32, 32, 3), classifier_activation=None)
    randomize(keras, theirs)
    path = str(tmp_path / f"{fn}.keras")
    theirs.save(path)
    loaded = kerasish.models.load_model(path)
    x = images((2, 32, 32, 3))
    assert_close_f32(run(loaded, x), theirs.predict(x, verbose=0), terms=1280, depth=80)
    assert [l.name for l in loaded.layers] == [l.name for l in theirs.layers]


@pytest.mark.slow
@pytest.mark.parametrize("module,fn", [("mobilenet_v3", "MobileNetV3Small"), ("convnext", "ConvNeXtTiny")])
def test_keras_file_weights_load_into_ours(keras, tmp_path, module, fn):
    """A Keras .keras file's weights load into our model of the same build (Keras's layer paths)."""
    theirs, ours = build_pair(keras, module, fn, input_shape=(32, 32, 3), classifier_activation=None)
    randomize(keras, theirs)
    path = str(tmp_path / f"{fn}.keras")
    theirs.save(path)
    ours.load_weights(path)
    x = images((2, 32, 32, 3))
    assert_close_f32(run(ours, x), theirs.predict(x, verbose=0), terms=4 * 768, depth=40)


@pytest.mark.slow
def test_keras_file_with_op_nodes_loads(keras, tmp_path):
    # MobileNetV3's hard_sigmoid (x + 3.0, * 1/6) is saved by Keras as operation nodes: read as TensorOp layers
    theirs, _ = build_pair(keras, "mobilenet_v3", "MobileNetV3Small", input_shape=(32, 32, 3))
    path = str(tmp_path / "m.keras")
    theirs.save(path)
    loaded = kerasish.models.load_model(path)
    x = images((2, 32, 32, 3))
    assert_close_f32(run(loaded, x), theirs.predict(x, verbose=0), terms=1024, depth=40)


# ----------------------------------------------------------------------
# Keras's pretrained files (Keras 2 .h5 layout), downloads stood in for
# ----------------------------------------------------------------------
def _legacy_h5_from_keras(keras, model, path):
    """What Keras publishes: the Keras 2 weights layout, written here by Keras itself."""
    import h5py
    from keras.src.legacy.saving import legacy_h5_format

    with h5py.File(path, "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, model)


def _md5(path):
    with open(path, "rb") as f:
        return hashlib.md5(f.read()).hexdigest()


@pytest.mark.slow
def test_imagenet_weights_are_kerass_h5_downloaded_once(keras, monkeypatch, tmp_path):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "home"))
    theirs, _ = build_pair(keras, "efficientnet", "EfficientNetB0", include_top=False, input_shape=(64, 64, 3))
    randomize(keras, theirs)
    src = str(tmp_path / "src.h5")
    _legacy_h5_from_keras(keras, theirs, src)
    monkeypatch.setitem(efficientnet.WEIGHTS_HASHES, "b0", ("0" * 32, _md5(src)))
    calls = serve_keras_files(monkeypatch, lambda url: open(src, "rb").read())
    m1 = efficientnet.EfficientNetB0(weights="imagenet", include_top=False, input_shape=(64, 64, 3))
    m2 = efficientnet.EfficientNetB0(weights="imagenet", include_top=False, input_shape=(64, 64, 3))
    assert calls == ["https://storage.googleapis.com/keras-applications/efficientnetb0_notop.h5"]
    assert os.path.exists(tmp_path / "home" / "models" / "efficientnetb0_notop.h5")
    # weights="imagenet" adds Keras's variance-to-std Rescaling after the Normalization: with the
    # Normalization at mean 0 / variance 1 that is a per-channel scaling of the input.
    norm = [l for l in theirs.layers if type(l).__name__ == "Normalization"][0]
    assert [type(l).__name__ for l in m1.layers[:4]] == ["InputLayer", "Rescaling", "Normalization", "Rescaling"]
    x = images((2, 64, 64, 3))
    expected = theirs.predict(x, verbose=0)
    plain = [np.zeros(3, "float32"), np.ones(3, "float32"), np.zeros((), "int32")]  # mean 0, variance 1
    for m in (m1, m2):
        m.layers[2].set_weights(plain)
    norm.set_weights(plain)
    scale = np.asarray([1 / np.sqrt(s) for s in efficientnet.IMAGENET_STDDEV_RGB], "float32")
    scaled_expected = theirs.predict(x * scale, verbose=0)
    for m in (m1, m2):
        assert len(m.layers) == len(theirs.layers) + 1
        assert_close_f32(run(m, x), scaled_expected, terms=1280, depth=80)
    # The same file by path, without the extra Rescaling, is Keras's weights=None model exactly.
    by_path = efficientnet.EfficientNetB0(weights=src, include_top=False, input_shape=(64, 64, 3))
    assert_close_f32(run(by_path, x), expected, terms=1280, depth=80)


@pytest.mark.slow
def test_mobilenet_v2_imagenet_file_name_and_values(keras, monkeypatch, tmp_path):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "home"))
    theirs, _ = build_pair(keras, "mobilenet_v2", "MobileNetV2", input_shape=(96, 96, 3), alpha=0.35,
                           classifier_activation=None)
    randomize(keras, theirs)
    src = str(tmp_path / "src.h5")
    _legacy_h5_from_keras(keras, theirs, src)
    calls = serve_keras_files(monkeypatch, lambda url: open(src, "rb").read())
    ours = mobilenet_v2.MobileNetV2(weights="imagenet", input_shape=(96, 96, 3), alpha=0.35, classifier_activation=None)
    assert calls == [mobilenet_v2.BASE_WEIGHT_PATH + "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_96.h5"]
    assert ours.name == "mobilenetv2_0.35_96"
    x = mobilenet_v2.preprocess_input(images((2, 96, 96, 3)))
    assert_close_f32(run(ours, x), theirs.predict(x, verbose=0), terms=1280, depth=55)


def test_imagenet_offline_gives_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    serve_keras_files(monkeypatch, _no_network)
    with pytest.raises(OSError) as info:
        mobilenet_v3.MobileNetV3Small(weights="imagenet", include_top=False, input_shape=(224, 224, 3))
    msg = str(info.value)
    assert "weights_mobilenet_v3_small_224_1.0_float_no_top_v2.h5" in msg
    assert os.path.join(str(tmp_path), "models", "weights_mobilenet_v3_small_224_1.0_float_no_top_v2.h5") in msg
    assert not os.listdir(os.path.join(str(tmp_path), "models"))  # no partial file left


def test_corrupt_download_is_refused(monkeypatch, tmp_path):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    serve_keras_files(monkeypatch, lambda url: b"not the file")
    with pytest.raises(OSError, match="hash"):
        efficientnet.EfficientNetB0(weights="imagenet", include_top=False, input_shape=(32, 32, 3))
    assert not os.listdir(os.path.join(str(tmp_path), "models"))


# ----------------------------------------------------------------------
# ConvNeXt: torchvision's checkpoints are the same network
# ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def tv_convnext():
    torch.manual_seed(0)
    tv = torchvision.models.convnext_tiny().eval()
    with torch.no_grad():  # torchvision initializes biases to 0 and layer scales to 1e-6: make every term count
        for name, p in tv.named_parameters():
            if name.endswith("layer_scale"):
                p.uniform_(0.5, 1.0)
            elif name.endswith("bias"):
                p.normal_(0, 0.1)
    return tv


@pytest.mark.slow
def test_convnext_torchvision_state_dict_maps_exactly(tv_convnext, tmp_path):
    path = tmp_path / "convnext_tiny-custom.pth"
    torch.save(tv_convnext.state_dict(), path)
    ours = convnext.ConvNeXtTiny(weights=str(path), input_shape=(64, 64, 3), classifier_activation=None)
    raw = images((2, 64, 64, 3))
    x = torch.from_numpy(raw).permute(0, 3, 1, 2) / 255.0
    with torch.no_grad():
        expected = tv_convnext((x - MEAN) / STD).numpy()
    assert_close_f32(run(ours, raw), expected, terms=4 * 768, depth=40)
    # Headless: torchvision's features then its classifier LayerNorm (Keras's headless LayerNormalization).
    feats = convnext.ConvNeXtTiny(weights=str(path), input_shape=(64, 64, 3), include_top=False, pooling="avg")
    with torch.no_grad():
        expected_feats = tv_convnext.classifier[0](tv_convnext.avgpool(tv_convnext.features((x - MEAN) / STD))).flatten(1)
    assert_close_f32(run(feats, raw), expected_feats.numpy(), terms=4 * 768, depth=40)


@pytest.mark.slow
def test_convnext_weights_torchvision_downloads_torchvisions_checkpoint(tv_convnext, monkeypatch, tmp_path):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    calls = []

    def fake_download(url, path, hash_prefix):
        calls.append(url)
        torch.save(tv_convnext.state_dict(), path)

    monkeypatch.setattr(tvb, "download_file", fake_download)
    ours = convnext.ConvNeXtTiny(weights="torchvision", include_top=False, input_shape=(32, 32, 3))
    assert calls == [torchvision.models.ConvNeXt_Tiny_Weights.IMAGENET1K_V1.url]
    stem = ours.get_layer("convnext_tiny_stem")
    np.testing.assert_array_equal(stem.layers[0].kernel.numpy(),
                                  tv_convnext.features[0][0].weight.detach().permute(2, 3, 1, 0).numpy())
    with pytest.raises(ValueError, match="torchvision has no ImageNet weights"):
        convnext.ConvNeXtXLarge(weights="torchvision")


@pytest.mark.slow
def test_convnext_wrong_checkpoint_is_refused_unchanged(tmp_path):
    wrong = tmp_path / "wrong.pth"
    torch.save(torchvision.models.mobilenet_v3_small().state_dict(), wrong)
    with pytest.raises(ValueError, match="missing keys"):
        convnext.ConvNeXtTiny(weights=str(wrong), input_shape=(32, 32, 3))


# ----------------------------------------------------------------------
# ConvNeXt's layers
# ----------------------------------------------------------------------
def test_layer_scale(keras):
    from keras.src.applications import convnext as kconvnext

    gamma = np.linspace(-1, 1, 4).astype("float32")
    result = kerasish.testing.run_layer_test(
        convnext.LayerScale, {"init_values": 0.1, "projection_dim": 4}, input_shape=(2, 3, 5, 4),
        expected_output_shape=(2, 3, 5, 4), expected_num_trainable_weights=1, expected_num_non_trainable_weights=0,
        weights=lambda shapes: [gamma], terms=1)
    # Keras's LayerScale has no compute_output_shape (the harness's parity needs one): compared here.
    theirs = kconvnext.LayerScale(0.1, 4)
    x = images((2, 3, 5, 4))
    theirs(x)
    theirs.set_weights([gamma])
    assert_close_f32(result.layer(x), keras.ops.convert_to_numpy(theirs(x)), terms=1)
    ours_config = {k: v for k, v in result.layer.get_config().items() if k not in ("name", "dtype")}
    their_config = {k: v for k, v in theirs.get_config().items() if k not in ("name", "dtype")}
    assert ours_config == their_config
    seq = kerasish.testing.run_layer_test(convnext.LayerScale, {"init_values": 0.5, "projection_dim": 3},
                                          input_shape=(2, 7, 3), expected_output_shape=(2, 7, 3), terms=1)
    assert_close_f32(seq.output, 0.5 * np.asarray(seq.input_data), terms=1)
    with pytest.raises(ValueError, match="LayerScale.*projection_dim=4"):
        convnext.LayerScale(0.1, 4)(np.ones((1, 3), "float32"))


def test_stochastic_depth(keras):
    from keras.src.applications import convnext as kconvnext

    result = kerasish.testing.run_layer_test(
        convnext.StochasticDepth, {"drop_path_rate": 0.3}, input_shape=(2, 4, 4, 3), expected_output_shape=(2, 4, 4, 3),
        expected_num_trainable_weights=0, terms=1, run_training_check=False)
    their_config = kconvnext.StochasticDepth(0.3).get_config()
    assert {k: v for k, v in result.layer.get_config().items() if k not in ("name", "dtype")} == {
        k: v for k, v in their_config.items() if k not in ("name", "dtype")}
    layer = convnext.StochasticDepth(0.25)
    x = torch.ones(4000, 2, 3, 1)
    torch.manual_seed(0)
    y = layer(x, training=True)
    per_sample = y.reshape(4000, -1)
    # Whole samples are kept (scaled by 1 / 0.75) or dropped.
    assert torch.all((per_sample == 0).all(1) | torch.isclose(per_sample, torch.tensor(1 / 0.75)).all(1))
    kept = (per_sample[:, 0] > 0).float().mean().item()
    assert abs(kept - 0.75) < 0.03
    with pytest.raises(ValueError, match="StochasticDepth.*drop_path_rate"):
        convnext.StochasticDepth(1.5)


# ----------------------------------------------------------------------
# Arguments
# ----------------------------------------------------------------------
def test_argument_errors():
    with pytest.raises(ValueError, match="alpha"):
        mobilenet_v2.MobileNetV2(weights="imagenet", alpha=0.9)
    with pytest.raises(ValueError, match="at least 32x32"):
        mobilenet_v2.MobileNetV2(weights=None, input_shape=(16, 16, 3))
    with pytest.raises(ValueError, match="at least 32x32"):
        mobilenet_v3.MobileNetV3Small(weights=None, input_shape=(24, 64, 3))
    with pytest.raises(ValueError, match="alpha"):
        mobilenet_v3.MobileNetV3Small(weights="imagenet", alpha=0.75, minimalistic=True)
    with pytest.raises(ValueError, match="classes"):
        efficientnet.EfficientNetB0(weights="imagenet", classes=10)
    with pytest.raises(ValueError, match="repeats"):
        efficientnet.EfficientNet(1.0, 1.0, 32, weights=None, input_shape=(32, 32, 3),
                                  blocks_args=[dict(efficientnet.DEFAULT_BLOCKS_ARGS[0], repeats=0)])
    with pytest.raises(ValueError, match="weights"):
        convnext.ConvNeXtTiny(weights="/no/such/file.h5")
    with pytest.raises(ValueError, match="depth_multiplier"):
        mobilenet.MobileNet(weights="imagenet", depth_multiplier=2)
    with pytest.raises(ValueError, match="penultimate_filters"):
        nasnet.NASNet((32, 32, 3), penultimate_filters=100, weights=None)
    with pytest.raises(ValueError, match="static"):
        nasnet.NASNetLarge(input_shape=(None, None, 3), include_top=False)
    with pytest.raises(ValueError, match="block table"):
        efficientnet_v2.EfficientNetV2(1.0, 1.0, 224, weights=None, name="mine")


def test_torch_checkpoint_refused_where_not_the_same_network(tmp_path):
    path = tmp_path / "mnv2.pth"
    torch.save({"features.0.0.weight": torch.zeros(1)}, path)
    with pytest.raises(ValueError, match="MobileNetV2.*torch state_dict"):
        mobilenet_v2.MobileNetV2(weights=str(path), input_shape=(32, 32, 3))


def test_mobilenet_v3_unknown_size_with_top():
    # Keras's MobileNetV3 takes any size >= 32, even with its top (the pooling keeps dims).
    model = mobilenet_v3.MobileNetV3Small(weights=None, classes=7)
    assert model.input_shape == (None, None, None, 3) and model.output_shape == (None, 7)
    assert tuple(model(np.zeros((1, 48, 40, 3), "float32")).shape) == (1, 7)


def test_fine_tuning_by_name_and_type():
    model = mobilenet_v2.MobileNetV2(weights=None, include_top=False, input_shape=(32, 32, 3))
    for layer in model.layers[:model.layers.index(model.get_layer("block_13_expand"))]:
        layer.trainable = False
    for layer in model.layers:
        if isinstance(layer, kerasish.layers.BatchNormalization):
            layer.trainable = False
    trainable = {v.path.split("/")[0] for v in model.trainable_weights}
    assert "Conv1" not in trainable and "block_13_expand" in trainable and "Conv_1" in trainable
    assert not any("BN" in name or name.endswith("_bn") for name in trainable)
