"""Preprocessing and augmentation layers: Resizing, CenterCrop, Normalization,
RandomFlip / Rotation / Zoom / Translation / Contrast / Brightness / Crop.

Deterministic layers are compared with Keras (torch backend). The affine
augmentations are compared with Keras too, with degenerate factor ranges
(``(a, a)``) that make Keras's draw a constant; the rest checks ranges,
formulas, reproducibility, per-sample independence, configs and models."""

import numpy as np
import pytest
import torch

import kerasish
from kerasish import layers as L
from conftest import assert_close_f32, assert_config_like_keras, assert_layer_parity, to_numpy

FILL_MODES = ["reflect", "wrap", "constant", "nearest"]


@pytest.fixture
def images(rng):
    return (rng.random((3, 7, 9, 2)) * 255).astype("float32")


# ----------------------------------------------------------------------
# Deterministic layers: parity with Keras
# ----------------------------------------------------------------------
@pytest.mark.parametrize("size", [(4, 5), (12, 5), (10, 13)])
@pytest.mark.parametrize(
    "kw",
    [{}, {"interpolation": "nearest"}, {"interpolation": "bicubic"}, {"crop_to_aspect_ratio": True},
     {"pad_to_aspect_ratio": True, "fill_value": 3.0}, {"antialias": True}],
)
def test_resizing_parity(keras, images, size, kw):
    # Interpolation weights come from float32 coordinates: errors relative to the
    # pixel range (255), up to a 4x4 bicubic window, wider when antialiased.
    assert_layer_parity(L.Resizing(*size, **kw), keras.layers.Resizing(*size, **kw), images, terms=64)


def test_resizing_unbatched_and_channels_first(keras, images):
    assert_close_f32(L.Resizing(3, 4)(images[0]), keras.layers.Resizing(3, 4)(images[0]), terms=4)
    kw = {"data_format": "channels_first"}
    got = to_numpy(L.Resizing(3, 4, **kw)(images))
    assert_close_f32(got, keras.layers.Resizing(3, 4, **kw)(images), terms=4)
    assert got.shape == (3, 7, 3, 4)
    assert L.Resizing(3, 4, **kw).compute_output_shape((None, 7, 9, 2)) == (None, 7, 3, 4)


@pytest.mark.parametrize("size", [(4, 5), (12, 5), (7, 13), (2, 9), (7, 9)])
def test_center_crop_parity(keras, images, size):
    assert_layer_parity(L.CenterCrop(*size), keras.layers.CenterCrop(*size), images, terms=4)  # a crop, or a bilinear resize


def test_center_crop_values():
    x = np.arange(16.0).reshape(1, 4, 4, 1)
    assert to_numpy(L.CenterCrop(2, 2)(x))[0, ..., 0].tolist() == [[5.0, 6.0], [9.0, 10.0]]


@pytest.mark.parametrize("axis", [-1, None, (1, 2), (1, -1)])
def test_normalization_adapt_parity(keras, images, axis):
    ours, theirs = L.Normalization(axis=axis), keras.layers.Normalization(axis=axis)
    ours.adapt(images)
    theirs.adapt(images)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        assert a.shape == tuple(b.shape)
        assert_close_f32(a, b, terms=images.size)  # means and variances over up to the whole batch
    assert_close_f32(ours(images), theirs(images), terms=images.size)
    assert_config_like_keras(ours, theirs)


def test_normalization_adapt_batches_matches_array(images):
    """A generator of (x, y) batches, a list of arrays or a DataLoader give the
    whole array's statistics (Keras's streamed update; Keras itself needs
    TensorFlow for iterables, so the whole-array numpy result is the oracle)."""
    ours = L.Normalization()
    ours.adapt((b, np.zeros(len(b))) for b in [images[:1], images[1:]])
    whole = L.Normalization()
    whole.adapt(images)
    np.testing.assert_allclose(whole.get_weights()[0], images.mean(axis=(0, 1, 2)), rtol=1e-5)
    np.testing.assert_allclose(whole.get_weights()[1], images.var(axis=(0, 1, 2)), rtol=1e-4)
    np.testing.assert_allclose(ours.get_weights()[0], whole.get_weights()[0], rtol=1e-5)
    as_list = L.Normalization(axis=None)
    as_list.adapt([images[:2], images[2:]])
    np.testing.assert_allclose(as_list.get_weights()[1], images.var(), rtol=1e-4)
    np.testing.assert_allclose(ours.get_weights()[1], whole.get_weights()[1], rtol=1e-4)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.as_tensor(images), torch.zeros(3)), batch_size=2)
    from_loader = L.Normalization()
    from_loader.adapt(loader)
    np.testing.assert_allclose(from_loader.get_weights()[0], whole.get_weights()[0], rtol=1e-5)


@pytest.mark.parametrize("kw", [{"mean": 2.0, "variance": 4.0}, {"mean": [1.0, 2.0], "variance": [4.0, 9.0]},
                                {"mean": [1.0, 2.0], "variance": [4.0, 9.0], "invert": True}])
def test_normalization_given_values_parity(keras, images, kw):
    ours, theirs = L.Normalization(**kw), keras.layers.Normalization(**kw)
    assert_close_f32(ours(images), theirs(images))
    assert ours.weights == [] and len(theirs.weights) == 0
    assert_config_like_keras(ours, theirs)


def test_normalization_errors():
    with pytest.raises(ValueError, match="variance"):
        L.Normalization(mean=1.0)
    with pytest.raises(ValueError, match="axis"):
        L.Normalization(axis=5)(np.zeros((2, 3)))
    layer = L.Normalization()
    layer.adapt(np.zeros((4, 3)))
    with pytest.raises(ValueError, match="incompatible shape"):
        layer.adapt(np.zeros((4, 5)))


def test_normalization_saves_and_loads(tmp_path, images):
    norm = L.Normalization()
    norm.adapt(images)
    model = kerasish.Sequential([kerasish.Input((7, 9, 2)), norm, L.Flatten(), L.Dense(2)])
    expected = to_numpy(model.predict(images, verbose=0))
    assert {"mean", "variance"} <= {k.split(".")[-1] for k in model.state_dict()}
    path = str(tmp_path / "norm.keras")
    model.save(path)
    loaded = kerasish.models.load_model(path)
    np.testing.assert_allclose(to_numpy(loaded.predict(images, verbose=0)), expected, rtol=1e-6)
    np.testing.assert_allclose(loaded.layers[0].get_weights()[0], norm.get_weights()[0])


# ----------------------------------------------------------------------
# Affine augmentations: parity with Keras at fixed parameters
# ----------------------------------------------------------------------
@pytest.mark.parametrize("fill_mode", FILL_MODES)
@pytest.mark.parametrize("interpolation", ["bilinear", "nearest"])
def test_affine_layers_parity_at_fixed_parameters(keras, images, fill_mode, interpolation):
    kw = {"fill_mode": fill_mode, "interpolation": interpolation, "fill_value": 7.0}
    pairs = [
        (L.RandomRotation((0.13, 0.13), **kw), keras.layers.RandomRotation((0.13, 0.13), **kw)),
        (L.RandomZoom((0.3, 0.3), (-0.2, -0.2), **kw), keras.layers.RandomZoom((0.3, 0.3), (-0.2, -0.2), **kw)),
        (L.RandomTranslation((0.31, 0.31), (-0.27, -0.27), **kw), keras.layers.RandomTranslation((0.31, 0.31), (-0.27, -0.27), **kw)),
    ]
    for ours, theirs in pairs:
        got = to_numpy(ours(images, training=True))
        # Sampling coordinates come from float32 trigonometry: errors relative to the pixel range.
        assert_close_f32(got, theirs(images, training=True), terms=64, err_msg=type(ours).__name__)
        assert_config_like_keras(ours, theirs)


def test_affine_parity_unbatched_and_channels_first(keras, images):
    a, b = L.RandomRotation((0.2, 0.2)), keras.layers.RandomRotation((0.2, 0.2))
    assert_close_f32(a(images[0], training=True), b(images[0], training=True), terms=64)
    kw = {"data_format": "channels_first"}
    a, b = L.RandomZoom((0.25, 0.25), **kw), keras.layers.RandomZoom((0.25, 0.25), **kw)
    assert_close_f32(a(images, training=True), b(images, training=True), terms=64)


def test_rotation_zero_is_identity_and_half_turn_flips(images):
    assert_close_f32(L.RandomRotation(0.0)(images, training=True), images, terms=64)
    half = to_numpy(L.RandomRotation((0.5, 0.5))(images, training=True))
    assert_close_f32(half, images[:, ::-1, ::-1], terms=64)


def test_translation_whole_pixels_shift(images):
    # 3/9 of the width to the right: columns move by 3, constant fill on the left.
    y = to_numpy(L.RandomTranslation(0.0, (3 / 9, 3 / 9), fill_mode="constant", fill_value=-1.0)(images, training=True))
    assert_close_f32(y[:, :, 3:], images[:, :, :-3], terms=64)
    assert np.all(y[:, :, :3] == -1.0)


# ----------------------------------------------------------------------
# Random layers: inference identity, ranges, seeds, independence
# ----------------------------------------------------------------------
RANDOM_LAYERS = [
    lambda s: L.RandomFlip(seed=s),
    lambda s: L.RandomRotation(0.3, seed=s),
    lambda s: L.RandomZoom(0.3, seed=s),
    lambda s: L.RandomTranslation(0.3, 0.3, seed=s),
    lambda s: L.RandomContrast(0.5, seed=s),
    lambda s: L.RandomBrightness(0.3, seed=s),
]


@pytest.mark.parametrize("make", RANDOM_LAYERS)
def test_random_layers_identity_at_inference_and_seeded(make, images):
    batch = np.concatenate([images] * 6)  # 18 images: all-equal draws are (nearly) impossible
    np.testing.assert_array_equal(to_numpy(make(1)(batch, training=False)), batch)
    a = to_numpy(make(3)(batch, training=True))
    b = to_numpy(make(3)(batch, training=True))
    np.testing.assert_array_equal(a, b)  # same seed, same draws
    assert a.shape == batch.shape
    layer = make(3)
    assert not np.array_equal(to_numpy(layer(batch, training=True)), to_numpy(layer(batch, training=True)))  # the sequence moves on
    # per-sample: identical inputs get different augmentations
    outs = a.reshape(6, 3, *images.shape[1:])
    assert len({outs[i, 0].tobytes() for i in range(6)}) > 1


def test_direct_call_defaults_to_training_like_keras(images):
    # Keras's data layers default to training=True when called directly.
    y = to_numpy(L.RandomBrightness((0.5, 0.5))(images))
    assert_close_f32(y, np.clip(images + 127.5, 0, 255))


def test_random_flip_modes(images):
    batch = np.concatenate([images] * 8)
    for mode, flip in [("horizontal", lambda a: a[:, ::-1]), ("vertical", lambda a: a[::-1]),
                       ("horizontal_and_vertical", lambda a: a[::-1, ::-1])]:
        y = to_numpy(L.RandomFlip(mode, seed=0)(batch, training=True))
        flipped = [np.array_equal(yi, flip(xi)) for xi, yi in zip(batch, y)]
        kept = [np.array_equal(yi, xi) for xi, yi in zip(batch, y)]
        assert all(f or k for f, k in zip(flipped, kept)), mode
        assert any(flipped) and any(kept), mode


def test_random_brightness_range_and_clip():
    x = np.full((64, 3, 3, 2), 100.0, dtype="float32")
    y = to_numpy(L.RandomBrightness(0.2, seed=1)(x, training=True))
    delta = y[:, 0, 0, 0] - 100.0
    assert np.all(np.abs(delta) <= 0.2 * 255 + 1e-3) and delta.min() < -10 and delta.max() > 10
    assert np.all(y == y[:, :1, :1, :1])  # one offset per image
    y = to_numpy(L.RandomBrightness((0.9, 1.0), value_range=(0, 255), seed=1)(x, training=True))
    assert np.all(y == 255.0)
    y = to_numpy(L.RandomBrightness(0.1, value_range=(0, 1), seed=2)(np.full((8, 2, 2, 1), 0.5), training=True))
    assert np.all((y >= 0.4 - 1e-6) & (y <= 0.6 + 1e-6))


def test_random_contrast_formula(images):
    layer = L.RandomContrast((0.3, 0.5), value_range=(-1e9, 1e9), seed=4)
    y = to_numpy(layer(images, training=True))
    mean = images.mean(axis=(1, 2), keepdims=True)
    f = (y - mean)[:, 0, 0, 0] / (images - mean)[:, 0, 0, 0]
    assert np.all((f >= 0.7 - 1e-4) & (f <= 1.5 + 1e-4))
    np.testing.assert_allclose(y, (images - mean) * f[:, None, None, None] + mean, rtol=1e-4, atol=1e-2)
    clipped = to_numpy(L.RandomContrast((0.0, 1.0), seed=0)(images * 2, training=True))
    assert clipped.min() >= 0 and clipped.max() <= 255
    # Keras 3: a single float f draws the factor in [1, 1 + f].
    assert L.RandomContrast(0.2).factor == (0, 0.2)


def test_random_crop(keras, images):
    batch = np.concatenate([images] * 4)
    layer = L.RandomCrop(4, 5, seed=0)
    y = to_numpy(layer(batch, training=True))
    assert y.shape == (12, 4, 5, 2)
    offsets = set()
    for xi, yi in zip(batch, y):  # every output is a window of its input
        hits = [(i, j) for i in range(4) for j in range(5) if np.array_equal(xi[i:i + 4, j:j + 5], yi)]
        assert hits
        offsets.add(hits[0])
    assert len(offsets) > 1  # each image its own window
    np.testing.assert_array_equal(to_numpy(L.RandomCrop(4, 5, seed=0)(batch, training=True)), y)
    # inference: Keras's deterministic fallback path (Keras 3.15 itself returns
    # the input uncropped at inference, see the docstring): for an image larger
    # than the target, the slice at the centred aspect-ratio box's corner.
    ch = max(min(7, int(9 * 4 / 5)), 1)
    cw = max(min(9, int(7 * 5 / 4)), 1)
    top, left = int((7 - ch) / 2), int((9 - cw) / 2)
    np.testing.assert_array_equal(to_numpy(layer(images, training=False)), images[:, top:top + 4, left:left + 5])
    # an image not larger than the target: Keras's crop-to-aspect + resize, in training too
    assert_close_f32(L.RandomCrop(10, 9, seed=1)(images, training=True), keras.layers.RandomCrop(10, 9, seed=1)(images, training=True),
                     terms=4)
    assert layer.compute_output_shape((None, 7, 9, 2)) == (None, 4, 5, 2)
    assert L.RandomCrop(3, 3).seed is not None  # drawn at construction, as in Keras


# ----------------------------------------------------------------------
# Configs and errors
# ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "name, args, kw",
    [
        ("Resizing", (4, 5), {"interpolation": "nearest", "antialias": True}),
        ("CenterCrop", (3, 3), {}),
        ("Normalization", (), {"axis": (1, 2)}),
        ("RandomFlip", (), {"mode": "vertical", "seed": 3}),
        ("RandomRotation", (0.1,), {"fill_mode": "constant", "seed": 1}),
        ("RandomRotation", ((-0.2, 0.3),), {}),
        ("RandomZoom", (0.1,), {"width_factor": (-0.2, 0.1)}),
        ("RandomTranslation", (0.1, (-0.2, 0.3)), {"interpolation": "nearest"}),
        ("RandomContrast", (0.2,), {"value_range": (0, 1)}),
        ("RandomBrightness", (0.2,), {"value_range": (255, 0)}),
        ("RandomCrop", (3, 4), {"seed": 5}),
    ],
)
def test_configs_like_keras_and_round_trip(keras, name, args, kw):
    ours, theirs = getattr(L, name)(*args, **kw), getattr(keras.layers, name)(*args, **kw)
    assert_config_like_keras(ours, theirs)
    again = type(ours).from_config(theirs.get_config())
    assert_config_like_keras(again, theirs)


@pytest.mark.parametrize(
    "make, arg",
    [
        (lambda: L.RandomRotation(1.5), "factor"),
        (lambda: L.RandomRotation(0.1, fill_mode="mirror"), "fill_mode"),
        (lambda: L.RandomRotation(0.1, interpolation="bicubic"), "interpolation"),
        (lambda: L.RandomZoom(-1.0), "height_factor"),
        (lambda: L.RandomZoom(0.1, width_factor=(0.1, 2.0)), "width_factor"),
        (lambda: L.RandomTranslation(0.1, 1.5), "width_factor"),
        (lambda: L.RandomTranslation(0.1, 0.1, fill_mode="zeros"), "fill_mode"),
        (lambda: L.RandomContrast(-0.1), "factor"),
        (lambda: L.RandomBrightness(0.1, value_range=(0, 1, 2)), "value_range"),
        (lambda: L.RandomBrightness("a"), "factor"),
        (lambda: L.RandomFlip("diagonal"), "mode"),
        (lambda: L.RandomFlip(seed=-1), "seed"),
        (lambda: L.Resizing(4, 4, interpolation="lanczos3"), "interpolation"),
        (lambda: L.Resizing(4, 4, fill_mode="reflect"), "fill_mode"),
        (lambda: L.Resizing(0, 4), "height"),
        (lambda: L.Resizing(4, 4, crop_to_aspect_ratio=True, pad_to_aspect_ratio=True), "pad_to_aspect_ratio"),
        (lambda: L.CenterCrop(3, -1), "width"),
    ],
)
def test_bad_arguments(make, arg):
    with pytest.raises(ValueError, match=arg):
        make()


def test_bad_input_rank():
    with pytest.raises(ValueError, match="rank"):
        L.RandomFlip()(np.zeros((2, 3)))


# ----------------------------------------------------------------------
# Inside models
# ----------------------------------------------------------------------
def test_augmentation_in_sequential_fit_and_predict(rng):
    torch.manual_seed(0)
    x = rng.random((32, 12, 12, 3)).astype("float32")
    y = (x.mean(axis=(1, 2, 3)) > 0.5).astype("float32")
    model = kerasish.Sequential([
        kerasish.Input((12, 12, 3)),
        L.RandomFlip(seed=1),
        L.RandomRotation(0.1, seed=2),
        L.RandomZoom(0.1, seed=3),
        L.RandomTranslation(0.1, 0.1, seed=4),
        L.RandomContrast(0.2, value_range=(0, 1), seed=5),
        L.RandomBrightness(0.1, value_range=(0, 1), seed=6),
        L.RandomCrop(10, 10, seed=7),
        L.Resizing(8, 8),
        L.Conv2D(4, 3, activation="relu"),
        L.GlobalAveragePooling2D(),
        L.Dense(1, activation="sigmoid"),
    ])
    model.compile(optimizer="adam", loss="binary_crossentropy")
    before = [w.copy() for w in model.get_weights()]
    history = model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    assert any(not np.allclose(a, b) for a, b in zip(before, model.get_weights()))
    p1, p2 = model.predict(x, verbose=0), model.predict(x, verbose=0)
    np.testing.assert_array_equal(to_numpy(p1), to_numpy(p2))
    assert to_numpy(p1).shape == (32, 1)
