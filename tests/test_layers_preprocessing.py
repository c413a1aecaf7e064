"""Preprocessing and augmentation layers: Resizing, CenterCrop, Normalization,
RandomFlip / Rotation / Zoom / Translation / Contrast / Brightness / Crop.

The layer-test harness (``layer_test``: config round trip, symbolic and eager
calls, a functional model, a training step, Keras parity) runs on every layer.
Deterministic layers are compared with Keras (torch backend). The affine
augmentations are compared with Keras too, with degenerate factor ranges
(``(a, a)``) that make Keras's draw a constant; every random layer is compared
with Keras at inference (the identity), and run through the harness seeded in
training (equal seeds, equal draws). The rest checks ranges, formulas,
per-sample independence, Keras's configs, adapt and models: what the harness
does not express."""

import numpy as np
import pytest
import torch

import kerasish
from kerasish import layers as L
from conftest import assert_close_f32, assert_config_like_keras, to_numpy

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
def test_resizing_parity(layer_test, images, size, kw):
    # Interpolation weights come from float32 coordinates: errors relative to the
    # pixel range (255), up to a 4x4 bicubic window, wider when antialiased.
    layer_test(L.Resizing, {"height": size[0], "width": size[1], **kw}, input_data=images, keras_parity=True, terms=64,
               expected_output_shape=(3, *size, 2), expected_num_trainable_weights=0, expected_num_non_trainable_weights=0)


def test_resizing_unbatched_and_channels_first(keras, layer_test, images):
    # One image (rank 3): the harness's inputs are batches, so compared here.
    assert_close_f32(L.Resizing(3, 4)(images[0]), keras.layers.Resizing(3, 4)(images[0]), terms=4)
    layer_test(L.Resizing, {"height": 3, "width": 4, "data_format": "channels_first"}, input_data=images, keras_parity=True,
               terms=4, expected_output_shape=(3, 7, 3, 4))


@pytest.mark.parametrize("size", [(4, 5), (12, 5), (7, 13), (2, 9), (7, 9)])
def test_center_crop_parity(layer_test, images, size):
    layer_test(L.CenterCrop, {"height": size[0], "width": size[1]}, input_data=images, keras_parity=True,
               terms=4, expected_output_shape=(3, *size, 2), expected_num_trainable_weights=0)  # a crop, or a bilinear resize


def test_center_crop_values(layer_test):
    x = np.arange(16.0, dtype="float32").reshape(1, 4, 4, 1)
    result = layer_test(L.CenterCrop, {"height": 2, "width": 2}, input_data=x,
                        expected_output=np.array([[5.0, 6.0], [9.0, 10.0]], "float32").reshape(1, 2, 2, 1))
    assert to_numpy(result.output)[0, ..., 0].tolist() == [[5.0, 6.0], [9.0, 10.0]]  # exactly


# adapt() is a step of its own after construction, which the harness (layers
# made from their arguments) does not take: the adapted layers are compared here.
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
def test_normalization_given_values_parity(layer_test, images, kw):
    # Given mean and variance are constants, not weights (as in Keras).
    result = layer_test(L.Normalization, kw, input_data=images, keras_parity=True, terms=1,
                        expected_num_trainable_weights=0, expected_num_non_trainable_weights=0)
    assert result.layer.weights == [] and len(result.keras_layer.weights) == 0


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
def test_affine_layers_parity_at_fixed_parameters(layer_test, images, fill_mode, interpolation):
    kw = {"fill_mode": fill_mode, "interpolation": interpolation, "fill_value": 7.0}
    cases = [
        (L.RandomRotation, {"factor": (0.13, 0.13), **kw}),
        (L.RandomZoom, {"height_factor": (0.3, 0.3), "width_factor": (-0.2, -0.2), **kw}),
        (L.RandomTranslation, {"height_factor": (0.31, 0.31), "width_factor": (-0.27, -0.27), **kw}),
    ]
    for cls, init_kwargs in cases:
        # Sampling coordinates come from float32 trigonometry: errors relative to the pixel range.
        layer_test(cls, init_kwargs, input_data=images, call_kwargs={"training": True}, keras_parity=True, terms=64,
                   expected_num_trainable_weights=0, expected_num_non_trainable_weights=0)


def test_affine_parity_unbatched_and_channels_first(keras, layer_test, images):
    # One image (rank 3): the harness's inputs are batches, so compared here.
    a, b = L.RandomRotation((0.2, 0.2)), keras.layers.RandomRotation((0.2, 0.2))
    assert_close_f32(a(images[0], training=True), b(images[0], training=True), terms=64)
    layer_test(L.RandomZoom, {"height_factor": (0.25, 0.25), "data_format": "channels_first"}, input_data=images,
               call_kwargs={"training": True}, keras_parity=True, terms=64, expected_output_shape=images.shape)


def test_rotation_zero_is_identity_and_half_turn_flips(layer_test, images):
    layer_test(L.RandomRotation, {"factor": 0.0}, input_data=images, call_kwargs={"training": True},
               expected_output=images, terms=64)
    layer_test(L.RandomRotation, {"factor": (0.5, 0.5)}, input_data=images, call_kwargs={"training": True},
               expected_output=images[:, ::-1, ::-1].copy(), terms=64)


def test_translation_whole_pixels_shift(layer_test, images):
    # 3/9 of the width to the right: columns move by 3, constant fill on the left.
    expected = np.full_like(images, -1.0)
    expected[:, :, 3:] = images[:, :, :-3]
    result = layer_test(L.RandomTranslation, {"height_factor": 0.0, "width_factor": (3 / 9, 3 / 9), "fill_mode": "constant",
                                              "fill_value": -1.0}, input_data=images, call_kwargs={"training": True},
                        expected_output=expected, terms=64)
    assert np.all(to_numpy(result.output)[:, :, :3] == -1.0)  # the fill, exactly


# ----------------------------------------------------------------------
# Random layers: inference identity, ranges, seeds, independence
# ----------------------------------------------------------------------
RANDOM_LAYERS = [
    (L.RandomFlip, {}),
    (L.RandomRotation, {"factor": 0.3}),
    (L.RandomZoom, {"height_factor": 0.3}),
    (L.RandomTranslation, {"height_factor": 0.3, "width_factor": 0.3}),
    (L.RandomContrast, {"factor": 0.5}),
    (L.RandomBrightness, {"factor": 0.3}),
]


@pytest.mark.parametrize("cls, kwargs", RANDOM_LAYERS, ids=[c.__name__ for c, _ in RANDOM_LAYERS])
def test_random_layers_identity_at_inference_and_seeded(layer_test, images, cls, kwargs):
    batch = np.concatenate([images] * 6)  # 18 images: all-equal draws are (nearly) impossible
    # Inference: the identity, as Keras's.
    result = layer_test(cls, {**kwargs, "seed": 1}, input_data=batch, call_kwargs={"training": False}, expected_output=batch,
                        keras_parity=True, expected_num_trainable_weights=0, expected_num_non_trainable_weights=0)
    np.testing.assert_array_equal(to_numpy(result.output), batch)
    # Training: the harness compares first calls of fresh layers (the clone from
    # the config, the layer in a model): same seed, same draws.
    result = layer_test(cls, {**kwargs, "seed": 3}, input_data=batch, call_kwargs={"training": True}, seeded=True,
                        expected_output_shape=batch.shape, expected_output_dtype="float32")
    a = to_numpy(result.output)
    np.testing.assert_array_equal(to_numpy(cls(**kwargs, seed=3)(batch, training=True)), a)  # same seed, same draws
    assert not np.array_equal(to_numpy(result.layer(batch, training=True)), a)  # the sequence moves on
    # per-sample: identical inputs get different augmentations
    outs = a.reshape(6, 3, *images.shape[1:])
    assert len({outs[i, 0].tobytes() for i in range(6)}) > 1


def test_direct_call_defaults_to_training_like_keras(layer_test, images):
    # Keras's data layers default to training=True when called directly. A model
    # runs in inference unless told, so the harness's model comparison (and the
    # clone's, which goes with it) does not apply to the default call.
    result = layer_test(L.RandomBrightness, {"factor": (0.5, 0.5)}, input_data=images, keras_parity=True,
                        run_model_check=False, expected_output=np.clip(images + 127.5, 0, 255))
    assert_close_f32(result.output, np.clip(images + 127.5, 0, 255))


# Ranges, formulas and flip modes are statistical properties of many draws: the
# harness checks the calls (seeded), the assertions here what the draws do.
def test_random_flip_modes(layer_test, images):
    batch = np.concatenate([images] * 8)
    for mode, flip in [("horizontal", lambda a: a[:, ::-1]), ("vertical", lambda a: a[::-1]),
                       ("horizontal_and_vertical", lambda a: a[::-1, ::-1])]:
        result = layer_test(L.RandomFlip, {"mode": mode, "seed": 0}, input_data=batch, call_kwargs={"training": True}, seeded=True)
        y = to_numpy(result.output)
        np.testing.assert_array_equal(to_numpy(L.RandomFlip(mode, seed=0)(batch, training=True)), y)
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


def test_random_crop(layer_test, images):
    batch = np.concatenate([images] * 4)
    result = layer_test(L.RandomCrop, {"height": 4, "width": 5, "seed": 0}, input_data=batch, call_kwargs={"training": True},
                        seeded=True, expected_output_shape=(12, 4, 5, 2), expected_num_trainable_weights=0)
    layer, y = result.layer, to_numpy(result.output)
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
    layer_test(L.RandomCrop, {"height": 4, "width": 5, "seed": 0}, input_data=images, call_kwargs={"training": False},
               expected_output=images[:, top:top + 4, left:left + 5].copy())
    # an image not larger than the target: Keras's crop-to-aspect + resize, in training too
    layer_test(L.RandomCrop, {"height": 10, "width": 9, "seed": 1}, input_data=images, call_kwargs={"training": True},
               keras_parity=True, terms=4, expected_output_shape=(3, 10, 9, 2))
    assert layer.compute_output_shape((None, 7, 9, 2)) == (None, 4, 5, 2)
    assert L.RandomCrop(3, 3).seed is not None  # drawn at construction, as in Keras


# ----------------------------------------------------------------------
# Configs and errors
# ----------------------------------------------------------------------
# The harness compares configs with Keras's; reading Keras's own config back
# (from_config(theirs)) is checked here.
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
