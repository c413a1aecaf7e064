"""kerasish.applications: torchvision backbones behind Keras's application API.

No network: ImageNet downloads are stood in for; checkpoints are written here
in torchvision's own format (a state_dict saved with torch.save)."""

import os
import urllib.error

import numpy as np
import pytest
import torch
import torchvision

import kerasish
from kerasish import layers
from kerasish import applications as A
from kerasish.applications import _torchvision_backbone as tvb
from kerasish.applications import imagenet_utils
from conftest import assert_close_f32

MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)

# ours, torchvision builder, input size used here
ALL = [
    ("ResNet50", "resnet50"), ("ResNet101", "resnet101"), ("MobileNetV2", "mobilenet_v2"),
    ("MobileNetV3Small", "mobilenet_v3_small"), ("MobileNetV3Large", "mobilenet_v3_large"),
    ("EfficientNetB0", "efficientnet_b0"), ("EfficientNetB1", "efficientnet_b1"), ("EfficientNetB2", "efficientnet_b2"),
    ("EfficientNetB3", "efficientnet_b3"), ("DenseNet121", "densenet121"), ("ConvNeXtTiny", "convnext_tiny"),
]


def tv_counts(builder, **kwargs):
    """(parameters, parameters + float buffers) of a torchvision model, made on the meta device (instant)."""
    with torch.device("meta"):
        m = getattr(torchvision.models, builder)(**kwargs)
    params = sum(p.numel() for p in m.parameters())
    buffers = sum(b.numel() for b in m.buffers() if b.is_floating_point())
    return params, params + buffers


def n_trainable(model):
    return sum(int(np.prod(v.shape)) for v in model.trainable_weights)


@pytest.mark.slow
@pytest.mark.parametrize("ours,builder", ALL)
def test_param_counts_equal_torchvision(ours, builder):
    model = getattr(A, ours)(weights=None, input_shape=(32, 32, 3))
    params, total = tv_counts(builder)
    # Trainable weights are torchvision's parameters; the total adds BatchNorm's
    # moving statistics (non-trainable weights in Keras's count).
    assert n_trainable(model) == params
    assert model.count_params() == total
    assert model.output_shape == (None, 1000)


@pytest.mark.slow
def test_vgg_param_counts_equal_torchvision():
    # With its top VGG needs the 224x224 input (Flatten -> fc1 of 25088 inputs).
    # With its top VGG ties the input size (Flatten -> fc1); torchvision's fc1 has 7*7*512 inputs
    # (224x224 images), ours at 32x32 has 1*1*512: the counts differ by exactly that.
    model = A.VGG16(weights=None, input_shape=(32, 32, 3))
    assert model.count_params() == tv_counts("vgg16")[0] - (7 * 7 - 1) * 512 * 4096
    assert tv_counts("vgg16")[0] == 138_357_544  # Keras's VGG16 total, measured
    headless = A.VGG19(weights=None, include_top=False, input_shape=(32, 32, 3))
    with torch.device("meta"):
        feats = torchvision.models.vgg19().features
    assert headless.count_params() == sum(p.numel() for p in feats.parameters())
    assert [l.name for l in headless.layers[2:]] == ["block1", "block2", "block3", "block4", "block5"]


# Keras's totals for the same architectures (weights=None), measured with keras 3.15:
#   ResNet50       25,636,712 vs 25,610,152 here: Keras's ResNet convolutions carry biases
#                  (followed by BatchNorm), torchvision's do not: 26,560 more in Keras.
#   EfficientNetB0  5,330,571 vs 5,330,564 here: Keras's in-model Normalization layer keeps
#                  mean (3), variance (3) and count (1) as weights.
#   MobileNetV2, MobileNetV3Small, DenseNet121, VGG16 (headless): equal.
#   (DenseNet121 and MobileNetV3Small were measured equal too, 8,062,504 and 2,554,968; left out here for time.)
KERAS_DIFF = {"ResNet50": 26_560, "EfficientNetB0": 7, "MobileNetV2": 0}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(KERAS_DIFF))
def test_param_counts_against_keras(keras, name):
    theirs = getattr(keras.applications, name)(weights=None, input_shape=(32, 32, 3))
    ours = getattr(A, name)(weights=None, input_shape=(32, 32, 3))
    assert theirs.count_params() - ours.count_params() == KERAS_DIFF[name]
    assert theirs.output_shape == ours.output_shape


@pytest.mark.slow
def test_vgg16_headless_count_equals_keras(keras):
    theirs = keras.applications.VGG16(weights=None, include_top=False, input_shape=(32, 32, 3))
    ours = A.VGG16(weights=None, include_top=False, input_shape=(32, 32, 3))
    assert theirs.count_params() == ours.count_params()
    assert theirs.output_shape == ours.output_shape


@pytest.fixture(scope="module")
def resnet_pair(tmp_path_factory):
    torch.manual_seed(0)
    tv = torchvision.models.resnet50().eval()
    with torch.no_grad():  # non-trivial running statistics
        for m in tv.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.1, 0.1)
                m.running_var.uniform_(0.5, 1.5)
    path = tmp_path_factory.mktemp("ckpt") / "resnet50-custom.pth"
    torch.save(tv.state_dict(), path)
    model = A.ResNet50(weights=str(path), input_shape=(64, 64, 3))
    return tv, model, path


@pytest.mark.slow
def test_resnet50_outputs_equal_torchvision(resnet_pair):
    tv, model, path = resnet_pair
    rng = np.random.default_rng(0)
    raw = rng.uniform(0, 255, (2, 64, 64, 3)).astype("float32")
    ours = model(A.resnet.preprocess_input(raw)).detach().numpy()
    x = torch.from_numpy(raw).permute(0, 3, 1, 2) / 255.0
    with torch.no_grad():
        expected = torch.softmax(tv((x - MEAN) / STD), -1).numpy()
    # ~50 chained convolutions of up to 3x3x512 terms, channels-last against channels-first kernels.
    # (Random weights give logits of ~100: the softmax is nearly one-hot and its small
    # probabilities carry the logits' absolute rounding errors as relative ones.)
    assert_close_f32(ours, expected, terms=3 * 3 * 512, depth=50)
    assert ours.argmax(-1).tolist() == expected.argmax(-1).tolist()
    # The logits themselves, every class visible.
    logits = A.ResNet50(weights=str(path), input_shape=(64, 64, 3), classifier_activation=None)
    with torch.no_grad():
        expected_logits = tv((x - MEAN) / STD).numpy()
    assert_close_f32(logits(A.resnet.preprocess_input(raw)), expected_logits, terms=3 * 3 * 512, depth=50)


@pytest.mark.slow
def test_resnet50_structure(resnet_pair):
    _, model, _ = resnet_pair
    names = [l.name for l in model.layers]
    assert names[2:10] == ["conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4"]
    keys = list(model.state_dict())
    assert "layer1.0.conv1.weight" in keys and "bn1.running_mean" in keys and "predictions.weight" in keys
    assert model.get_layer("layer4").output_shape == (None, 2, 2, 2048)
    assert model.get_layer("layer4").count_params() == sum(p.numel() for p in torchvision.models.resnet50().layer4.parameters()) + sum(
        b.numel() for b in torchvision.models.resnet50().layer4.buffers() if b.is_floating_point())
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    for name in ("conv1 (TorchModuleLayer)", "layer4 (TorchModuleLayer)", "predictions (Dense)", "25,610,152"):
        assert name in text


@pytest.mark.slow
def test_mobilenet_v2_outputs_equal_torchvision(tmp_path):
    torch.manual_seed(1)
    tv = torchvision.models.mobilenet_v2().eval()
    path = tmp_path / "mnv2.pt"
    torch.save(tv.state_dict(), path)
    model = A.MobileNetV2(weights=str(path), input_shape=(64, 64, 3), classifier_activation=None)
    raw = np.random.default_rng(1).uniform(0, 255, (2, 64, 64, 3)).astype("float32")
    ours = model.predict(A.mobilenet_v2.preprocess_input(raw), verbose=0)
    x = torch.from_numpy(raw).permute(0, 3, 1, 2) / 255.0
    with torch.no_grad():
        expected = tv((x - MEAN) / STD).numpy()
    # ~50 chained convolutions, the widest (the classifier) over 1280 inputs.
    assert_close_f32(ours, expected, terms=1280, depth=50)
    # Headless with pooling: torchvision's pooled features.
    feats = A.MobileNetV2(weights=str(path), input_shape=(64, 64, 3), include_top=False, pooling="avg")
    with torch.no_grad():
        expected_feats = tv.features((x - MEAN) / STD).mean((2, 3)).numpy()
    assert_close_f32(feats(A.mobilenet_v2.preprocess_input(raw)), expected_feats, terms=1280, depth=50)


@pytest.mark.slow
def test_pooling_and_headless_shapes(resnet_pair):
    _, _, path = resnet_pair
    plain = A.ResNet50(weights=str(path), include_top=False, input_shape=(64, 64, 3))  # a full checkpoint, top skipped
    assert plain.output_shape == (None, 2, 2, 2048)
    mx = A.DenseNet121(weights=None, include_top=False, pooling="max", input_shape=(64, 64, 3))
    assert mx.output_shape == (None, 1024) and mx.layers[-1].name == "max_pool"
    free = A.EfficientNetB0(weights=None, include_top=False, pooling="avg")
    assert free.input_shape == (None, None, None, 3) and free.output_shape == (None, 1280)
    assert tuple(free(np.zeros((1, 96, 64, 3), "float32")).shape) == (1, 1280)


@pytest.mark.slow
def test_frozen_base_fine_tuning():
    torch.manual_seed(0)
    base = A.MobileNetV2(weights=None, include_top=False, input_shape=(32, 32, 3))
    base.trainable = False
    inputs = kerasish.Input((32, 32, 3))
    x = base(inputs, training=False)
    x = layers.GlobalAveragePooling2D()(x)
    outputs = layers.Dense(3, activation="softmax")(x)
    model = kerasish.Model(inputs, outputs)
    before = {k: v.clone() for k, v in base.state_dict().items()}
    head = model.layers[-1]
    head_before = head.get_weights()[0].copy()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    rng = np.random.default_rng(0)
    model.fit(rng.uniform(-1, 1, (16, 32, 32, 3)).astype("float32"), rng.integers(0, 3, 16), epochs=2, batch_size=8, verbose=0)
    for k, v in base.state_dict().items():
        assert torch.equal(v, before[k]), f"{k} changed in a frozen base"
    assert not np.allclose(head.get_weights()[0], head_before)
    assert len(model.trainable_weights) == 2


@pytest.mark.slow
def test_frozen_stage_runs_in_inference_and_training_flag_is_respected():
    model = A.ResNet50(weights=None, include_top=False, input_shape=(32, 32, 3))
    x = torch.rand(4, 32, 32, 3) * 100
    bn = model.get_layer("bn1").torch_module
    start = bn.running_mean.clone()
    model(x, training=False)
    assert torch.equal(bn.running_mean, start)
    model(x, training=True)  # trainable stage in training: batch statistics, moving stats updated
    assert not torch.equal(bn.running_mean, start)
    moved = bn.running_mean.clone()
    model.get_layer("bn1").trainable = False
    model(x, training=True)  # frozen: inference mode, as Keras's frozen BatchNormalization
    assert torch.equal(bn.running_mean, moved)
    assert not any(p.requires_grad for p in bn.parameters())
    assert all(p.requires_grad for p in model.get_layer("layer1").torch_module.parameters())


def test_imagenet_offline_gives_clear_error(monkeypatch, tmp_path):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))

    def no_network(url, path, hash_prefix):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(tvb, "download_file", no_network)
    with pytest.raises(OSError) as info:
        A.ResNet50(weights="imagenet")
    msg = str(info.value)
    assert "ResNet50" in msg and "resnet50-11ad3fa6.pth" in msg
    assert os.path.join(str(tmp_path), "checkpoints", "resnet50-11ad3fa6.pth") in msg


def test_imagenet_weights_from_download_and_cache(monkeypatch, tmp_path):
    """weights="imagenet": the file torchvision names, fetched once into the hub cache, then read from there."""
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    torch.manual_seed(3)
    tv = torchvision.models.mobilenet_v3_small().eval()
    calls = []

    def fake_download(url, path, hash_prefix):
        calls.append((url, hash_prefix))
        torch.save(tv.state_dict(), path)

    monkeypatch.setattr(tvb, "download_file", fake_download)
    enum = torchvision.models.MobileNet_V3_Small_Weights.IMAGENET1K_V1
    m1 = A.MobileNetV3Small(weights="imagenet", input_shape=(64, 64, 3), include_top=False, pooling="avg")
    m2 = A.MobileNetV3Small(weights="imagenet", input_shape=(64, 64, 3), include_top=False, pooling="avg")
    assert len(calls) == 1 and calls[0][0] == enum.url
    assert os.path.exists(os.path.join(str(tmp_path), "checkpoints", os.path.basename(enum.url)))
    raw = np.random.default_rng(2).uniform(0, 255, (2, 64, 64, 3)).astype("float32")
    x = torch.from_numpy(raw).permute(0, 3, 1, 2) / 255.0
    with torch.no_grad():
        expected = tv.features((x - MEAN) / STD).mean((2, 3)).numpy()
    for m in (m1, m2):  # [0, 255] in, normalization inside the model (Keras's MobileNetV3 convention)
        assert_close_f32(m(raw), expected, terms=1024, depth=40)


@pytest.mark.slow
def test_argument_validation(tmp_path):
    with pytest.raises(ValueError, match="classes"):
        A.ResNet50(weights="imagenet", classes=10)
    with pytest.raises(ValueError, match="at least 32x32"):
        A.MobileNetV2(weights=None, input_shape=(16, 16, 3))
    with pytest.raises(ValueError, match="3 channels"):
        A.ResNet50(weights="imagenet", include_top=False, input_shape=(64, 64, 1))
    with pytest.raises(ValueError, match=r"should be \(224, 224, 3\)"):
        A.ResNet50(weights="imagenet", input_shape=(64, 64, 3))
    with pytest.raises(ValueError, match="weights"):
        A.ResNet50(weights=str(tmp_path / "missing.pth"))
    with pytest.raises(ValueError, match="pooling"):
        A.ResNet50(weights=None, include_top=False, pooling="sum")
    wrong = tmp_path / "wrong.pth"
    torch.save(torchvision.models.mobilenet_v3_small().state_dict(), wrong)
    with pytest.raises(ValueError, match="missing keys"):
        A.MobileNetV2(weights=str(wrong), input_shape=(32, 32, 3))


@pytest.mark.slow
def test_keras_weight_files_round_trip(tmp_path):
    a = A.MobileNetV3Small(weights=None, input_shape=(32, 32, 3))
    path = str(tmp_path / "m.weights.h5")
    a.save_weights(path)
    b = A.MobileNetV3Small(weights=path, input_shape=(32, 32, 3))
    x = np.random.default_rng(0).uniform(0, 255, (2, 32, 32, 3)).astype("float32")
    np.testing.assert_allclose(b(x).detach().numpy(), a(x).detach().numpy(), rtol=1e-6)


@pytest.mark.slow
def test_keras_file_save_and_load(tmp_path):
    a = A.MobileNetV3Small(weights=None, input_shape=(32, 32, 3), include_top=False, pooling="avg")
    path = str(tmp_path / "m.keras")
    a.save(path)
    b = kerasish.models.load_model(path)
    x = np.random.default_rng(0).uniform(0, 255, (2, 32, 32, 3)).astype("float32")
    np.testing.assert_allclose(b(x).detach().numpy(), a(x).detach().numpy(), rtol=1e-5, atol=1e-6)
    assert [l.name for l in b.layers] == [l.name for l in a.layers]


def test_vgg_fc1_reordering():
    """torchvision flattens (C, H, W), Keras (H, W, C): fc1's columns are reordered on loading."""
    torch.manual_seed(0)
    feat = torch.randn(2, 512, 7, 7)
    w = torch.randn(16, 512 * 49)
    expected = feat.flatten(1) @ w.T
    got = feat.permute(0, 2, 3, 1).flatten(1) @ A.vgg._fc1_from_torchvision(w).T
    assert_close_f32(got, expected, terms=512 * 49)  # the same sums, in another order


@pytest.mark.parametrize("module,kmodule", [("resnet", "resnet"), ("vgg", "vgg16"), ("mobilenet_v2", "mobilenet_v2"),
                                            ("densenet", "densenet"), ("efficientnet", "efficientnet"), ("convnext", "convnext"),
                                            ("mobilenet_v3", "mobilenet_v3")])
def test_preprocess_input_matches_keras(keras, module, kmodule):
    rng = np.random.default_rng(0)
    for data_format, shape in (("channels_last", (2, 5, 4, 3)), ("channels_first", (2, 3, 5, 4)), (None, (5, 4, 3))):
        x = rng.uniform(0, 255, shape).astype("float32")
        kfn = getattr(keras.applications, kmodule).preprocess_input
        expected = np.asarray(kfn(x.copy(), data_format=data_format) if data_format else kfn(x.copy()))
        ours = getattr(A, module).preprocess_input(x, **({"data_format": data_format} if data_format else {}))
        assert_close_f32(ours, expected)
        if module in ("resnet", "mobilenet_v2", "densenet"):
            t = getattr(A, module).preprocess_input(torch.from_numpy(x), **({"data_format": data_format} if data_format else {}))
            assert isinstance(t, torch.Tensor)
            assert_close_f32(t, expected)
    ints = rng.integers(0, 256, (1, 4, 4, 3)).astype("uint8")
    out = A.resnet.preprocess_input(ints)
    assert out.dtype == np.float32 and ints.dtype == np.uint8


def test_decode_predictions(monkeypatch, tmp_path):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))  # no cached Keras index: torchvision's names
    monkeypatch.setattr(imagenet_utils, "_CLASS_INDEX", None)
    preds = np.zeros((2, 1000), "float32")
    preds[0, [1, 0, 207]] = [0.5, 0.2, 0.3]
    preds[1, 999] = 1.0
    out = A.resnet.decode_predictions(preds, top=3)
    assert [r[1] for r in out[0]] == ["goldfish", "golden retriever", "tench"]
    assert [r[0] for r in out[0]] == ["1", "207", "0"]
    assert out[0][0][2] == pytest.approx(0.5) and len(out[1]) == 3 and out[1][0][1] == "toilet tissue"
    with pytest.raises(ValueError, match="shape"):
        A.resnet.decode_predictions(np.zeros((2, 10)))
    # With Keras's class index cached, Keras's tuples (WordNet ids).
    (tmp_path / "models").mkdir()
    monkeypatch.setattr(imagenet_utils, "_CLASS_INDEX", None)
    import json

    (tmp_path / "models" / "imagenet_class_index.json").write_text(json.dumps({str(i): [f"n{i:08d}", f"c{i}"] for i in range(1000)}))
    assert A.resnet.decode_predictions(preds, top=1)[0] == [("n00000001", "c1", pytest.approx(0.5))]
    monkeypatch.setattr(imagenet_utils, "_CLASS_INDEX", None)
