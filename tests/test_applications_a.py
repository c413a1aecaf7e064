"""Applications built as Keras builds them: VGG, ResNet (v1, v2), DenseNet,
InceptionV3, Xception, InceptionResNetV2; and the torch key-map machinery
(kerasish.applications.weight_map).

Keras 3 (weights=None) is the oracle for structure (layer names, classes,
order, parameter counts) and, after ``set_weights(keras.get_weights())``, for
predictions. torchvision models of the same architecture (random weights) are
the oracle for the key maps. No network: downloads are stood in for."""

import hashlib
import io
import os
import re
import urllib.error

import h5py
import numpy as np
import pytest
import torch
import torchvision

import kerasish
from kerasish import layers
from kerasish.applications import _torchvision_backbone as tvb
from kerasish.applications import densenet, inception_resnet_v2, inception_v3, resnet, resnet_v2, vgg, weight_map, xception
from kerasish.applications.inception_resnet_v2 import CustomScaleLayer
from kerasish.models.functional import Functional
from kerasish.utils import file_utils
from conftest import assert_close_f32

# name, our module, smallest convenient input side, conv depth (for the float32 tolerance)
MODELS = [
    ("VGG16", vgg, 32, 16), ("VGG19", vgg, 32, 19),
    ("ResNet50", resnet, 32, 50), ("ResNet101", resnet, 32, 101), ("ResNet152", resnet, 32, 152),
    ("ResNet50V2", resnet_v2, 32, 50), ("ResNet101V2", resnet_v2, 32, 101), ("ResNet152V2", resnet_v2, 32, 152),
    ("DenseNet121", densenet, 32, 121), ("DenseNet169", densenet, 32, 169), ("DenseNet201", densenet, 32, 201),
    ("InceptionV3", inception_v3, 75, 48), ("Xception", xception, 71, 36), ("InceptionResNetV2", inception_resnet_v2, 75, 164),
]
IDS = [m[0] for m in MODELS]


def serve_keras_files(monkeypatch, respond):
    """Stand in for the network under kerasish.utils.get_file (Keras's weight files):
    ``respond(url)`` gives the file's bytes or raises; returns the list of URLs asked for."""
    calls = []

    def fake_urlopen(url, timeout=None):
        calls.append(url)
        return io.BytesIO(respond(url))

    monkeypatch.setattr(file_utils, "urlopen", fake_urlopen)
    return calls


def _no_network(url):
    raise urllib.error.URLError("no network")


def snake(name):
    # Keras's to_snake_case: the base of an automatic layer name.
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def auto_named(layer):
    base = snake(type(layer).__name__)
    return layer.name == base or (layer.name.startswith(base + "_") and layer.name[len(base) + 1:].isdigit())


def assert_same_structure(ours, theirs):
    assert len(ours.layers) == len(theirs.layers)
    for a, b in zip(ours.layers, theirs.layers):
        assert type(a).__name__ == type(b).__name__, (a.name, b.name)
        if auto_named(b):  # Keras leaves it unnamed: the counter depends on the session
            assert auto_named(a), (a.name, b.name)
        else:
            assert a.name == b.name
    assert ours.count_params() == theirs.count_params()
    assert [tuple(w.shape) for w in ours.weights] == [tuple(w.shape) for w in theirs.weights]
    assert ours.output_shape == theirs.output_shape


def randomize(keras_model, seed=0):
    """Non-trivial batch-norm statistics and biases, so that a misplaced weight shows."""
    rng = np.random.default_rng(seed)
    values = []
    for v in keras_model.weights:
        a = np.asarray(v.numpy())
        kind = v.path.rsplit("/", 1)[-1]
        if kind == "moving_variance":
            a = rng.uniform(0.5, 1.5, a.shape)
        elif kind == "moving_mean":
            a = rng.normal(0, 0.1, a.shape)
        elif kind == "gamma":
            a = rng.uniform(0.8, 1.2, a.shape)
        elif kind in ("beta", "bias"):
            a = rng.normal(0, 0.1, a.shape)
        values.append(a.astype("float32"))
    keras_model.set_weights(values)


def randomize_torch(module, seed=0):
    torch.manual_seed(seed)
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.normal_(0, 0.1)
                m.running_var.uniform_(0.5, 1.5)
                m.weight.uniform_(0.8, 1.2)
                m.bias.normal_(0, 0.1)
    return module.eval()


def images(n, side, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, (n, side, side, 3)).astype("float32")


# ----------------------------------------------------------------------
# Structure and values against Keras
# ----------------------------------------------------------------------
def test_vgg16_headless_matches_keras(keras):
    theirs = keras.applications.VGG16(weights=None, include_top=False, input_shape=(32, 32, 3))
    ours = vgg.VGG16(weights=None, include_top=False, input_shape=(32, 32, 3))
    assert_same_structure(ours, theirs)
    assert [l.name for l in ours.layers][1:4] == ["block1_conv1", "block1_conv2", "block1_pool"]
    randomize(theirs)
    ours.set_weights(theirs.get_weights())
    x = images(2, 32)
    assert_close_f32(ours.predict(x, verbose=0), theirs.predict(x, verbose=0), terms=9 * 512, depth=16)


@pytest.mark.slow
@pytest.mark.parametrize("name,module,side,depth", MODELS, ids=IDS)
def test_structure_and_predictions_match_keras(keras, name, module, side, depth):
    # With the top (few classes, logits) the values; headless with max pooling the structure.
    theirs = getattr(keras.applications, name)(weights=None, input_shape=(side, side, 3), classes=7,
                                               classifier_activation=None)
    ours = getattr(module, name)(weights=None, input_shape=(side, side, 3), classes=7, classifier_activation=None)
    assert_same_structure(ours, theirs)
    assert ours.name == theirs.name
    randomize(theirs, seed=len(name))
    ours.set_weights(theirs.get_weights())
    x = images(2, side, seed=1)
    expected = theirs.predict(x, verbose=0)
    got = ours.predict(x, verbose=0)
    assert np.abs(expected).max() > 1e-3  # an informative comparison
    assert_close_f32(got, expected, terms=9 * 2048, depth=depth)
    theirs = getattr(keras.applications, name)(weights=None, include_top=False, pooling="max", input_shape=(side, side, 3))
    ours = getattr(module, name)(weights=None, include_top=False, pooling="max", input_shape=(side, side, 3))
    assert_same_structure(ours, theirs)


@pytest.mark.slow
@pytest.mark.parametrize("name,module", [("VGG19", vgg), ("ResNet101", resnet), ("DenseNet169", densenet),
                                         ("InceptionV3", inception_v3)])
def test_headless_avg_pooling_and_free_input_size(keras, name, module):
    theirs = getattr(keras.applications, name)(weights=None, include_top=False, pooling="avg")
    ours = getattr(module, name)(weights=None, include_top=False, pooling="avg")
    assert ours.input_shape == theirs.input_shape == (None, None, None, 3)
    assert_same_structure(ours, theirs)
    side = 80
    out = ours(images(1, side))
    assert tuple(out.shape) == (1, theirs.output_shape[-1])


@pytest.mark.slow
@pytest.mark.parametrize("name,module,side", [("VGG16", vgg, 32), ("ResNet50", resnet, 32), ("ResNet50V2", resnet_v2, 32),
                                              ("DenseNet121", densenet, 32), ("InceptionV3", inception_v3, 75),
                                              ("Xception", xception, 71), ("InceptionResNetV2", inception_resnet_v2, 75)])
def test_keras_saved_application_loads(keras, tmp_path, name, module, side):
    theirs = getattr(keras.applications, name)(weights=None, include_top=False, pooling="avg", input_shape=(side, side, 3))
    randomize(theirs, seed=3)
    path = str(tmp_path / f"{name}.keras")
    theirs.save(path)
    ours = kerasish.models.load_model(path)
    assert [l.name for l in ours.layers] == [l.name for l in theirs.layers]
    x = images(2, side, seed=4)
    assert_close_f32(ours.predict(x, verbose=0), theirs.predict(x, verbose=0), terms=9 * 2048, depth=60)


def test_input_tensor_and_names():
    inp = kerasish.Input((32, 32, 3), name="img")
    x = layers.Rescaling(1 / 127.5, offset=-1, name="scale")(inp)
    model = vgg.VGG19(weights=None, include_top=False, input_tensor=x, name="features")
    assert model.name == "features" and model.inputs[0] is inp
    assert model.get_layer("block5_conv4").output_shape == (None, 2, 2, 512)


# ----------------------------------------------------------------------
# torchvision checkpoints through the key maps
# ----------------------------------------------------------------------
def test_densenet121_maps_torchvision():
    tv = randomize_torch(torchvision.models.densenet121(weights=None, num_classes=10), seed=1)
    ours = densenet.DenseNet121(weights=None, input_shape=(32, 32, 3), classes=10, classifier_activation=None)
    weight_map.load_state_dict(ours, tv.state_dict())
    x = images(2, 32, seed=2)
    with torch.no_grad():
        expected = tv(torch.from_numpy(x).permute(0, 3, 1, 2)).numpy()
    # Keras's epsilon (1.001e-5) against torch's (1e-5) moves each normalization by ~1e-8 relative.
    assert_close_f32(ours.predict(x, verbose=0), expected, terms=9 * 1024, depth=121)


@pytest.mark.slow
def test_densenet169_headless_maps_torchvision_checkpoint_file(tmp_path):
    tv = randomize_torch(torchvision.models.densenet169(weights=None), seed=2)
    path = tmp_path / "densenet169-custom.pth"
    torch.save(tv.state_dict(), path)
    ours = densenet.DenseNet169(weights=str(path), include_top=False, pooling="avg", input_shape=(64, 64, 3))
    x = images(2, 64, seed=3)
    with torch.no_grad():
        feats = torch.relu(tv.features(torch.from_numpy(x).permute(0, 3, 1, 2))).mean((2, 3)).numpy()
    assert_close_f32(ours.predict(x, verbose=0), feats, terms=9 * 1664, depth=169)


def test_vgg16_headless_maps_torchvision_features():
    tv = randomize_torch(torchvision.models.vgg16(weights=None).features, seed=4)
    ours = vgg.VGG16(weights=None, include_top=False, input_shape=(32, 32, 3))
    sd = {f"features.{k}": v for k, v in tv.state_dict().items()}
    sd["classifier.0.weight"] = torch.zeros(2, 2)  # a full checkpoint's top: ignored when headless
    weight_map.load_state_dict(ours, sd)
    x = images(2, 32, seed=5)
    with torch.no_grad():
        expected = tv(torch.from_numpy(x).permute(0, 3, 1, 2)).permute(0, 2, 3, 1).numpy()
    assert_close_f32(ours.predict(x, verbose=0), expected, terms=9 * 512, depth=13)


@pytest.mark.slow
def test_vgg16_with_top_maps_torchvision():
    # fc1 reads a (7, 7, 512) map: the ImageNet input size.
    tv = torchvision.models.vgg16(weights=None, num_classes=10).eval()
    ours = vgg.VGG16(weights=None, input_shape=(224, 224, 3), classes=10, classifier_activation=None)
    weight_map.load_state_dict(ours, tv.state_dict())
    x = images(1, 224, seed=6)
    with torch.no_grad():
        expected = tv(torch.from_numpy(x).permute(0, 3, 1, 2)).numpy()
    assert_close_f32(ours.predict(x, verbose=0), expected, terms=25088, depth=16)


def test_densenet_imagenet_uses_torchvision_checkpoint(monkeypatch, tmp_path):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    tv = randomize_torch(torchvision.models.densenet121(weights=None), seed=7)
    calls = []

    def fake_download(url, path, hash_prefix):
        calls.append(url)
        # Old-style keys ("norm.1"), as torchvision's published file has them.
        sd = {re.sub(r"(denselayer\d+\.(?:norm|conv))([12])\.", r"\1.\2.", k): v for k, v in tv.state_dict().items()}
        torch.save(sd, path)

    monkeypatch.setattr(tvb, "download_file", fake_download)
    ours = densenet.DenseNet121(weights="imagenet", include_top=False, input_shape=(32, 32, 3))
    assert calls == [torchvision.models.DenseNet121_Weights.IMAGENET1K_V1.url]
    x = images(1, 32, seed=8)
    with torch.no_grad():
        expected = torch.relu(tv.features(torch.from_numpy(x).permute(0, 3, 1, 2))).permute(0, 2, 3, 1).numpy()
    assert_close_f32(ours.predict(x, verbose=0), expected, terms=9 * 1024, depth=121)


# ----------------------------------------------------------------------
# Keras's own ImageNet files
# ----------------------------------------------------------------------
def _legacy_h5(keras, keras_model, path):
    from keras.src.legacy.saving import legacy_h5_format

    with h5py.File(path, "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, keras_model)
    return hashlib.md5(open(path, "rb").read()).hexdigest()


@pytest.mark.slow
def test_keras_imagenet_file_download_md5_and_cache(keras, monkeypatch, tmp_path):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "home"))
    theirs = keras.applications.VGG16(weights=None, include_top=False, input_shape=(32, 32, 3))
    randomize(theirs)
    src = str(tmp_path / "src.h5")
    md5 = _legacy_h5(keras, theirs, src)
    calls = serve_keras_files(monkeypatch, lambda url: open(src, "rb").read())
    # The stand-in file is not Keras's: its md5 is refused, nothing is kept.
    with pytest.raises(OSError, match="md5"):
        vgg.VGG16(weights="imagenet", include_top=False, input_shape=(32, 32, 3))
    assert os.listdir(tmp_path / "home" / "models") == []
    monkeypatch.setitem(vgg._FILES, "vgg16", (vgg._FILES["vgg16"][0], md5))
    ours = vgg.VGG16(weights="imagenet", include_top=False, input_shape=(32, 32, 3))
    again = vgg.VGG16(weights="imagenet", include_top=False, input_shape=(32, 32, 3))  # from the cache
    assert calls == [vgg.BASE_WEIGHTS_PATH + "vgg16/vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5"] * 2
    assert os.listdir(tmp_path / "home" / "models") == ["vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5"]
    x = images(2, 32, seed=9)
    expected = theirs.predict(x, verbose=0)
    for m in (ours, again):
        assert_close_f32(m.predict(x, verbose=0), expected, terms=9 * 512, depth=16)


def test_keras_imagenet_offline_gives_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    serve_keras_files(monkeypatch, _no_network)
    with pytest.raises(OSError) as info:
        resnet_v2.ResNet50V2(weights="imagenet", include_top=False, input_shape=(32, 32, 3))
    msg = str(info.value)
    assert "resnet50v2_weights_tf_dim_ordering_tf_kernels_notop.h5" in msg
    assert os.path.join(str(tmp_path), "models", "resnet50v2_weights_tf_dim_ordering_tf_kernels_notop.h5") in msg


def test_argument_errors(tmp_path):
    with pytest.raises(ValueError, match="at least 75x75"):
        inception_v3.InceptionV3(weights=None, include_top=False, input_shape=(64, 64, 3))
    with pytest.raises(ValueError, match=r"should be \(299, 299, 3\)"):
        xception.Xception(weights="imagenet", input_shape=(71, 71, 3))
    with pytest.raises(ValueError, match="classes"):
        resnet.ResNet152(weights="imagenet", classes=10)
    with pytest.raises(ValueError, match="pooling"):
        vgg.VGG16(weights=None, include_top=False, pooling="mean")
    with pytest.raises(ValueError, match="weights"):
        densenet.DenseNet121(weights=str(tmp_path / "missing.h5"))
    with pytest.raises(ValueError, match="blocks"):
        densenet.DenseNet([1, 1, 1, 1], weights="imagenet")
    with pytest.raises(ValueError, match="4-D"):
        vgg.VGG16(weights=None, include_top=False, input_tensor=kerasish.Input((8,)))


def test_densenet_wrong_checkpoint_changes_nothing(tmp_path):
    ours = densenet.DenseNet121(weights=None, include_top=False, input_shape=(32, 32, 3))
    before = [w.copy() for w in ours.get_weights()]
    sd = torchvision.models.densenet169(weights=None).state_dict()
    with pytest.raises(ValueError, match=r"does not fit model 'densenet121'.*unexpected keys"):
        weight_map.load_state_dict(ours, sd)
    assert all(np.array_equal(a, b) for a, b in zip(before, ours.get_weights()))


# ----------------------------------------------------------------------
# Fine-tuning by name and by type
# ----------------------------------------------------------------------
@pytest.mark.slow
def test_freeze_by_name_and_type_fine_tunes():
    base = resnet.ResNet50(weights=None, include_top=False, pooling="avg", input_shape=(32, 32, 3))
    for layer in base.layers:
        # Keras's recipe: train conv5 only, keep every BatchNormalization frozen.
        layer.trainable = layer.name.startswith("conv5_") and not isinstance(layer, layers.BatchNormalization)
    out = layers.Dense(3, name="head")(base.output)
    model = kerasish.Model(base.input, out)
    frozen = base.get_layer("conv4_block6_3_conv").get_weights()[0].copy()
    bn = base.get_layer("conv5_block3_3_bn")
    stats = bn.get_weights()[2].copy()
    tuned = base.get_layer("conv5_block3_3_conv").get_weights()[0].copy()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    model.fit(images(8, 32), np.arange(8) % 3, epochs=1, batch_size=4, verbose=0)
    assert np.array_equal(base.get_layer("conv4_block6_3_conv").get_weights()[0], frozen)
    assert np.array_equal(bn.get_weights()[2], stats)  # frozen BatchNormalization runs in inference mode
    assert not np.array_equal(base.get_layer("conv5_block3_3_conv").get_weights()[0], tuned)


# ----------------------------------------------------------------------
# CustomScaleLayer, preprocess_input
# ----------------------------------------------------------------------
def test_custom_scale_layer_config_and_errors():
    layer = CustomScaleLayer(0.17, name="s")
    assert layer.get_config()["scale"] == 0.17
    clone = CustomScaleLayer.from_config(layer.get_config())
    a, b = torch.randn(2, 4, 4, 3), torch.randn(2, 4, 4, 3)
    assert_close_f32(clone([a, b]), a + 0.17 * b)
    with pytest.raises(TypeError, match="scale"):
        CustomScaleLayer("big")
    x = kerasish.Input((4, 4, 3))
    with pytest.raises(ValueError, match="CustomScaleLayer"):
        CustomScaleLayer(1.0)([x, kerasish.Input((4, 4, 2))])


@pytest.mark.parametrize("module,kmodule", [(resnet_v2, "resnet_v2"), (inception_v3, "inception_v3"), (xception, "xception"),
                                            (inception_resnet_v2, "inception_resnet_v2"), (vgg, "vgg19"),
                                            (densenet, "densenet"), (resnet, "resnet50")])
def test_preprocess_input_matches_keras(keras, module, kmodule):
    x = np.random.default_rng(0).uniform(0, 255, (2, 5, 4, 3)).astype("float32")
    expected = np.asarray(getattr(keras.applications, kmodule).preprocess_input(x.copy()))
    assert_close_f32(module.preprocess_input(x), expected)
    assert callable(module.decode_predictions)


# ----------------------------------------------------------------------
# weight_map on its own
# ----------------------------------------------------------------------
def _tiny():
    inp = layers.Input((6, 6, 2))
    x = layers.Conv2D(3, 3, use_bias=False, name="c")(inp)
    x = layers.BatchNormalization(name="bn")(x)
    x = layers.SeparableConv2D(4, 3, name="sep")(x)
    x = layers.GlobalAveragePooling2D()(x)
    return Functional(inp, layers.Dense(5, name="d")(x))


def _tiny_state():
    g = torch.Generator().manual_seed(0)
    r = lambda *s: torch.randn(*s, generator=g)  # noqa: E731
    return {
        "stem.weight": r(3, 2, 3, 3), "norm.weight": r(3), "norm.bias": r(3), "norm.running_mean": r(3),
        "norm.running_var": r(3).abs() + 0.5, "norm.num_batches_tracked": torch.tensor(3),
        "dw.weight": r(3, 1, 3, 3), "pw.weight": r(4, 3, 1, 1), "pw.bias": r(4),
        "fc.weight": r(5, 4), "fc.bias": r(5),
    }


def _tiny_map():
    km = weight_map.KeyMap([("stem", "c"), ("norm", "bn")])
    km.add("", "sep", keys={"depthwise_kernel": "dw.weight", "pointwise_kernel": "pw.weight", "bias": "pw.bias"})
    km.add("fc", "d")
    return km


def test_weight_map_copies_every_weight_in_torch_layout():
    model, sd = _tiny(), _tiny_state()
    weight_map.load_state_dict(model, sd, _tiny_map())
    assert torch.equal(model.get_layer("c").kernel.tensor, sd["stem.weight"])
    np.testing.assert_array_equal(model.get_layer("c").kernel.numpy(), sd["stem.weight"].permute(2, 3, 1, 0).numpy())
    assert torch.equal(model.get_layer("bn").moving_variance.tensor, sd["norm.running_var"])
    assert torch.equal(model.get_layer("sep").torch_module.pointwise.weight, sd["pw.weight"])
    np.testing.assert_array_equal(model.get_layer("d").kernel.numpy(), sd["fc.weight"].T.numpy())
    assert [e.layer for e in _tiny_map()] == ["c", "bn", "sep", "d"]


def test_weight_map_errors_are_all_or_nothing():
    model = _tiny()
    before = [w.copy() for w in model.get_weights()]

    def unchanged():
        return all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))

    sd = _tiny_state()
    sd["extra.weight"] = torch.zeros(1)
    with pytest.raises(ValueError, match=r"unexpected keys \['extra.weight'\]"):
        weight_map.load_state_dict(model, sd, _tiny_map())
    assert unchanged()
    weight_map.load_state_dict(model, sd, _tiny_map(), ignore=("extra.",))  # told to skip it
    model = _tiny()
    before = [w.copy() for w in model.get_weights()]
    sd = _tiny_state()
    del sd["fc.bias"]
    with pytest.raises(ValueError, match=r"missing keys \['fc.bias'\]"):
        weight_map.load_state_dict(model, sd, _tiny_map())
    sd = _tiny_state()
    sd["fc.weight"] = torch.zeros(5, 7)
    with pytest.raises(ValueError, match=r"'fc.weight' has shape \(5, 7\).*'d/kernel'"):
        weight_map.load_state_dict(model, sd, _tiny_map())
    with pytest.raises(ValueError, match="has no layer 'nope'"):
        weight_map.load_state_dict(model, _tiny_state(), weight_map.KeyMap([("x", "nope")]), strict=False)
    with pytest.raises(ValueError, match="expected a state_dict"):
        weight_map.load_state_dict(model, [1, 2], _tiny_map())
    with pytest.raises(ValueError, match="no torch key map"):
        weight_map.load_state_dict(model, _tiny_state())
    assert unchanged()


def test_weight_map_transforms_rename_and_attach():
    model, sd = _tiny(), _tiny_state()
    km = _tiny_map()
    km.entries[-1].transforms = {"kernel": lambda w: w * 2}
    weight_map.attach_key_map(model, km, ignore=("aux.",), source="test")
    sd = {("old_" + k): v for k, v in sd.items()}
    sd["old_aux.weight"] = torch.zeros(2)
    weight_map.load_state_dict(model, {"state_dict": sd}, rename=lambda k: k[4:])
    assert torch.equal(model.get_layer("d").torch_module.weight, _tiny_state()["fc.weight"] * 2)
    assert weight_map.key_map_of(model) == (km, ("aux.",))
    with pytest.raises(ValueError, match="no known torch name"):
        weight_map.MapEntry("p", "l").torch_key("embeddings")


def test_timm_missing_gives_install_hint(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name == "timm":
            raise ImportError("No module named 'timm'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    with pytest.raises(ImportError, match=r"pip install kerasish\[timm\]"):
        weight_map.timm_state_dict("xception41")
