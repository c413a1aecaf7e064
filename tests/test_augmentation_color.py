"""Colour / intensity augmentation layers: AutoContrast, Equalization, Solarization,
RandomInvert / Posterization / Grayscale / ColorDegeneration / Hue / Saturation /
Sharpness / ColorJitter, ContrastLimitedAdaptiveHistogramEqualization.

The harness (``layer_test``) runs on each layer. Deterministic layers, and random
ones at factors that pin Keras's draw, are compared with Keras (torch backend) on
batches, single images and channels_first; the building-block methods that take
per-image factors are compared with Keras's ``transform_images`` given the same
factors. Random layers are checked seeded in training, as the identity at
inference, and on the statistics of their draws."""

import numpy as np
import pytest
import torch

import kerasish
from conftest import assert_close_f32, assert_config_like_keras, to_numpy
from kerasish.layers.preprocessing.auto_contrast import AutoContrast
from kerasish.layers.preprocessing.clahe import ContrastLimitedAdaptiveHistogramEqualization as CLAHE
from kerasish.layers.preprocessing.equalization import Equalization
from kerasish.layers.preprocessing.random_color_degeneration import RandomColorDegeneration
from kerasish.layers.preprocessing.random_color_jitter import RandomColorJitter
from kerasish.layers.preprocessing.random_grayscale import RandomGrayscale
from kerasish.layers.preprocessing.random_hue import RandomHue
from kerasish.layers.preprocessing.random_invert import RandomInvert
from kerasish.layers.preprocessing.random_posterization import RandomPosterization
from kerasish.layers.preprocessing.random_saturation import RandomSaturation
from kerasish.layers.preprocessing.random_sharpness import RandomSharpness
from kerasish.layers.preprocessing.solarization import Solarization

CUSTOM = {c.__name__: c for c in (AutoContrast, Equalization, RandomColorDegeneration, RandomColorJitter, RandomGrayscale,
                                  RandomHue, RandomInvert, RandomPosterization, RandomSaturation, RandomSharpness, Solarization)}


@pytest.fixture
def images(rng):
    x = (rng.random((3, 7, 9, 3)) * 200 + 20).astype("float32")
    x[0, 0, :3] = [[10, 10, 10], [0, 0, 0], [255, 3, 3]]  # gray, black, pure-ish red: HSV edge cases
    return x


def nchw(x):
    return torch.as_tensor(np.ascontiguousarray(np.asarray(x).transpose(0, 3, 1, 2)))


def nhwc(x):
    return to_numpy(x).transpose(0, 2, 3, 1)


# ----------------------------------------------------------------------
# Parity with Keras: deterministic layers and pinned draws
# ----------------------------------------------------------------------
PINNED = [
    (AutoContrast, {}),
    (AutoContrast, {"value_range": (0, 1)}),
    (Solarization, {}),
    (Solarization, {"value_range": (0, 1)}),
    (RandomInvert, {"factor": (1.0, 1.0)}),
    (RandomInvert, {"factor": 0.0}),
    (RandomPosterization, {"factor": (3, 3)}),
    (RandomPosterization, {"factor": (1, 1), "value_range": (0, 1)}),
    (RandomGrayscale, {"factor": 1.0}),
    (RandomGrayscale, {"factor": 0.0}),
    (RandomColorDegeneration, {"factor": (0.3, 0.3)}),
    (RandomColorDegeneration, {"factor": (-0.6, -0.6)}),
    (RandomHue, {"factor": 0.0}),
    (RandomHue, {"factor": 0.0, "value_range": (0, 1)}),
    (RandomSaturation, {"factor": (0.3, 0.3)}),
    (RandomSaturation, {"factor": (0.8, 0.8)}),
    (RandomSaturation, {"factor": (0.0, 0.0), "value_range": (0, 1)}),
    (RandomSharpness, {"factor": (0.2, 0.2)}),
    (RandomSharpness, {"factor": (0.9, 0.9), "value_range": (0, 1)}),
    (RandomColorJitter, {"brightness_factor": (0.1, 0.1), "contrast_factor": 0.0, "saturation_factor": (0.6, 0.6), "hue_factor": 0.0}),
    (RandomColorJitter, {"brightness_factor": (-0.2, -0.2), "value_range": (0, 1)}),
]


def _data(kw, images):
    return images / 255.0 if tuple(kw.get("value_range", (0, 255))) == (0, 1) else images


@pytest.mark.parametrize("cls, kw", PINNED, ids=[f"{c.__name__}-{i}" for i, (c, _) in enumerate(PINNED)])
def test_parity_with_keras(layer_test, keras, images, cls, kw):
    x = _data(kw, images)
    extra = ("seed",) if cls is RandomGrayscale else ()  # Keras's RandomGrayscale config has no seed
    # the grayscale weights have 4 significant digits: values ~255 differ from Keras's order of ops by an ulp or two
    layer_test(cls, kw, input_data=x, call_kwargs={"training": True}, keras_parity=True, keras_config_extra_keys=extra,
               terms=16, expected_output_shape=x.shape, expected_output_dtype="float32",
               expected_num_trainable_weights=0, expected_num_non_trainable_weights=0)
    # one image (rank 3): the harness's inputs are batches, so compared here
    assert_close_f32(cls(**kw)(x[1], training=True), getattr(keras.layers, cls.__name__)(**kw)(x[1], training=True), terms=16)


@pytest.mark.parametrize("cls, kw", [p for p in PINNED if p[0] not in (AutoContrast, RandomColorJitter)],
                         ids=lambda v: v.__name__ if isinstance(v, type) else "")
def test_parity_channels_first(layer_test, images, cls, kw):
    # Keras's AutoContrast ignores data_format and RandomColorJitter fails on channels_first: checked below instead
    x = np.ascontiguousarray(_data(kw, images).transpose(0, 3, 1, 2))
    extra = ("seed",) if cls is RandomGrayscale else ()
    layer_test(cls, {**kw, "data_format": "channels_first"}, input_data=x, call_kwargs={"training": True}, keras_parity=True,
               keras_config_extra_keys=extra, terms=16, expected_output_shape=x.shape)


@pytest.mark.parametrize("cls, kw", [(AutoContrast, {}), (RandomColorJitter, PINNED[-2][1])], ids=["AutoContrast", "RandomColorJitter"])
def test_channels_first_is_channels_last_transposed(images, cls, kw):
    a = to_numpy(cls(**kw)(images, training=True))
    b = to_numpy(cls(**kw, data_format="channels_first")(images.transpose(0, 3, 1, 2), training=True))
    np.testing.assert_array_equal(b.transpose(0, 2, 3, 1), a)


@pytest.mark.parametrize("kw", [{}, {"bins": 17}, {"bins": 64, "value_range": (0, 1)}])
def test_equalization_parity(keras, images, kw):
    # Keras's symbolic Equalization returns its input (a graph cycle), so no model checks on Keras's side
    x = _data(kw, images)
    for data_format, xx in (("channels_last", x), ("channels_first", np.ascontiguousarray(x.transpose(0, 3, 1, 2)))):
        ours = Equalization(**kw, data_format=data_format)
        theirs = keras.layers.Equalization(**kw, data_format=data_format)
        assert_close_f32(ours(xx), theirs(xx))
        assert_close_f32(ours(xx[0]), theirs(xx[0]))
        assert_config_like_keras(ours, theirs)


def test_equalization_harness_and_inference(layer_test, images):
    result = layer_test(Equalization, {"bins": 32}, input_data=images, call_kwargs={"training": True},
                        expected_output_shape=images.shape, expected_num_trainable_weights=0)
    out = to_numpy(result.output)
    assert out.min() == 0.0 and out.max() == 255.0  # the histogram is spread over the range
    # as Keras: identity in predict, applied on a direct call
    model = kerasish.Sequential([kerasish.Input(images.shape[1:]), Equalization()])
    np.testing.assert_array_equal(to_numpy(model.predict(images, verbose=0)), images)
    assert not np.array_equal(to_numpy(Equalization()(images)), images)
    # a flat channel (one occupied bin) is unchanged
    flat = np.full((1, 4, 4, 1), 77.0, "float32")
    np.testing.assert_array_equal(to_numpy(Equalization()(flat)), flat)


def test_auto_contrast_always_on_and_flat_channels(images):
    model = kerasish.Sequential([kerasish.Input(images.shape[1:]), AutoContrast()])
    out = to_numpy(model.predict(images, verbose=0))  # active at inference, as Keras's
    assert_close_f32(out.min(axis=(1, 2)), np.zeros((3, 3)))
    assert_close_f32(out.max(axis=(1, 2)), np.full((3, 3), 255.0))
    x = images.copy()
    x[1, ..., 2] = 40.0  # flat channel: kept
    np.testing.assert_array_equal(to_numpy(AutoContrast()(x))[1, ..., 2], x[1, ..., 2])
    y = AutoContrast()(images.astype("uint8"))  # integer input, float output as Keras's compute dtype
    assert y.dtype == torch.float32


# ----------------------------------------------------------------------
# The building blocks, with given per-image factors, against Keras's transform_images
# ----------------------------------------------------------------------
def test_methods_with_given_factors_match_keras(keras, images):
    x = torch.as_tensor(images)
    n = x.shape[0]
    f = torch.tensor([0.3, -0.2, 0.45])
    assert_close_f32(nhwc(RandomHue(0.5).shift_hue(nchw(images), f)),
                     keras.layers.RandomHue(0.5).transform_images(x, {"factor": f}), terms=16)
    s = torch.tensor([0.1, 0.5, 0.95])
    assert_close_f32(nhwc(RandomSharpness(0.5).sharpen(nchw(images), s)),
                     keras.layers.RandomSharpness(0.5).transform_images(x, {"factor": s}), terms=16)
    m = torch.tensor([0.0, 0.7, 3.0])
    assert_close_f32(nhwc(RandomSaturation(0.5).saturate(nchw(images), m)),
                     keras.layers.RandomSaturation(0.5).transform_images(x, {"factor": m}), terms=16)
    d = torch.tensor([0.2, -0.5, 0.9]).reshape(n, 1, 1, 1)
    assert_close_f32(nhwc(RandomColorDegeneration(0.5).degenerate(nchw(images), d.flatten())),
                     keras.layers.RandomColorDegeneration(0.5).transform_images(x, {"factor": d}), terms=16)
    bits = torch.tensor([1, 4, 7])
    assert_close_f32(nhwc(RandomPosterization(8).posterize(nchw(images), bits)),
                     keras.layers.RandomPosterization(8).transform_images(x, {"shift_factor": (8 - bits).to(torch.uint8)}))
    add, thr = torch.tensor([0.0, 30.0, 100.0]), torch.tensor([128.0, 60.0, 250.0])
    assert_close_f32(nhwc(Solarization().solarize(nchw(images), add, thr)),
                     keras.layers.Solarization().transform_images(x, {"additions": add.reshape(n, 1, 1, 1), "thresholds": thr.reshape(n, 1, 1, 1)}))
    apply = torch.tensor([True, False, True])
    np.testing.assert_array_equal(nhwc(RandomInvert().invert(nchw(images), apply)),
                                  to_numpy(keras.layers.RandomInvert().transform_images(x, {"apply_inversion": apply})))
    np.testing.assert_array_equal(nhwc(RandomGrayscale().grayscale(nchw(images), apply))[1], images[1])


# ----------------------------------------------------------------------
# Random layers: identity at inference, seeded draws, per-image draws
# ----------------------------------------------------------------------
RANDOM = [
    (Solarization, {"addition_factor": 0.3, "threshold_factor": 0.8}),
    (RandomInvert, {}),
    (RandomPosterization, {"factor": (2, 7)}),
    (RandomGrayscale, {}),
    (RandomColorDegeneration, {"factor": 0.8}),
    (RandomHue, {"factor": 0.8}),
    (RandomSaturation, {"factor": (0.1, 0.9)}),
    (RandomSharpness, {"factor": 1.0}),
    (RandomColorJitter, {"brightness_factor": 0.2, "contrast_factor": 0.5, "saturation_factor": (0.2, 0.8), "hue_factor": 0.3}),
]


@pytest.mark.parametrize("cls, kw", RANDOM, ids=[c.__name__ for c, _ in RANDOM])
def test_random_identity_at_inference_and_seeded(layer_test, images, cls, kw):
    batch = np.concatenate([images] * 4)  # 12 images: all-equal draws are (nearly) impossible
    extra = ("seed",) if cls is RandomGrayscale else ()
    result = layer_test(cls, {**kw, "seed": 1}, input_data=batch, call_kwargs={"training": False}, expected_output=batch,
                        keras_parity=True, keras_config_extra_keys=extra, expected_num_trainable_weights=0)
    np.testing.assert_array_equal(to_numpy(result.output), batch)
    result = layer_test(cls, {**kw, "seed": 3}, input_data=batch, call_kwargs={"training": True}, seeded=True,
                        expected_output_shape=batch.shape, expected_output_dtype="float32")
    a = to_numpy(result.output)
    np.testing.assert_array_equal(to_numpy(cls(**kw, seed=3)(batch, training=True)), a)  # same seed, same draws
    assert not np.array_equal(to_numpy(result.layer(batch, training=True)), a)  # the sequence moves on
    outs = a.reshape(4, *images.shape)
    assert len({outs[i, 0].tobytes() for i in range(4)}) > 1  # one draw per image
    assert np.all((a >= -1e-3) & (a <= 255 + 1e-3)) or cls is RandomSaturation  # stays in value_range
    # a single image (rank 3), channels_first: same shapes
    assert tuple(cls(**kw, seed=0)(images[0], training=True).shape) == images[0].shape
    cf = images.transpose(0, 3, 1, 2)
    assert tuple(cls(**kw, seed=0, data_format="channels_first")(cf, training=True).shape) == cf.shape


def test_draw_statistics(images):
    n = 4000
    like = torch.zeros(n, 3, 1, 1)
    assert abs(RandomGrayscale(0.3, seed=0).draw(like).float().mean().item() - 0.3) < 0.03
    # p ~ U(0, 1), then inversion with probability p: half on average; with p in [0.8, 1]: 0.9
    assert abs(RandomInvert(seed=0).draw(like).float().mean().item() - 0.5) < 0.03
    assert abs(RandomInvert((0.8, 1.0), seed=0).draw(like).float().mean().item() - 0.9) < 0.03
    bits = RandomPosterization((2, 5), seed=0).draw(like)
    assert set(bits.tolist()) == {2, 3, 4}  # Keras's randint excludes the upper end
    hue = RandomHue((0.2, 0.6), seed=0).draw(like)
    assert (hue.abs() >= 0.1 - 1e-6).all() and (hue.abs() <= 0.3 + 1e-6).all()
    assert abs((hue > 0).float().mean().item() - 0.5) < 0.03  # both directions
    add, thr = Solarization(addition_factor=(0.1, 0.2), threshold_factor=0.5, seed=0).draw(like)
    assert add.min() >= 0.1 and add.max() <= 0.2 * 255 and thr.min() >= 0.0 and thr.max() <= 0.5 * 255
    assert abs(add.mean().item() - (0.1 + 51) / 2) < 1.0
    sat = RandomSaturation((0.25, 0.75), seed=0).draw(like)
    assert sat.min() >= 1 / 3 - 1e-4 and sat.max() <= 3 + 1e-4
    jit = RandomColorJitter(contrast_factor=(0.2, 0.4), seed=0).draw(like)
    assert set(jit) == {"contrast"} and jit["contrast"].min() >= 0.8 and jit["contrast"].max() <= 1.4


def test_visible_effects(images):
    gray = to_numpy(RandomGrayscale(1.0)(images))
    np.testing.assert_array_equal(gray[..., 0], gray[..., 1])
    hue = to_numpy(RandomHue((1.0, 1.0))(np.array([[[255.0, 0.0, 0.0]]], "float32")))
    np.testing.assert_allclose(hue, [[[0.0, 255.0, 255.0]]], atol=1e-3)  # half a turn, either way: cyan
    inv = to_numpy(RandomInvert((1.0, 1.0), value_range=(0, 1))(images / 255.0))
    assert_close_f32(inv, 1.0 - images / 255.0)
    post = to_numpy(RandomPosterization((1, 1))(images))
    assert set(np.unique(post).tolist()) <= {0.0, 128.0}
    same = to_numpy(RandomSharpness((0.5, 0.5))(images))  # factor 0.5: unchanged
    assert_close_f32(same, images)


# ----------------------------------------------------------------------
# Configs and bad arguments
# ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "cls, kw",
    [(AutoContrast, {"value_range": (1, 0)}), (Equalization, {"bins": 32, "value_range": (0, 1)}),
     (Solarization, {"addition_factor": 0.2, "threshold_factor": (0.1, 0.5), "seed": 2}),
     (RandomInvert, {"factor": 0.4, "value_range": (0, 1)}), (RandomPosterization, {"factor": 5}),
     (RandomGrayscale, {"factor": 0.2}), (RandomColorDegeneration, {"factor": 0.4}), (RandomHue, {"factor": (0.1, 0.3)}),
     (RandomSaturation, {"factor": 0.5}), (RandomSharpness, {"factor": 0.3, "seed": 1}),
     (RandomColorJitter, {"brightness_factor": 0.1, "hue_factor": (0.1, 0.2), "value_range": (0, 1)})],
    ids=lambda v: v.__name__ if isinstance(v, type) else "",
)
def test_configs_like_keras_and_round_trip(keras, cls, kw):
    ours, theirs = cls(**kw), getattr(keras.layers, cls.__name__)(**kw)
    extra = ("seed",) if cls is RandomGrayscale else ()  # ours keeps the seed, Keras's config drops it
    assert_config_like_keras(ours, theirs, extra)
    assert_config_like_keras(cls.from_config(theirs.get_config()), theirs, extra)


@pytest.mark.parametrize(
    "make, arg",
    [
        (lambda: AutoContrast(value_range=(0, 1, 2)), "value_range"),
        (lambda: Equalization(bins=1), "bins"),
        (lambda: Equalization(value_range=5), "value_range"),
        (lambda: Solarization(addition_factor=1.5), "addition_factor"),
        (lambda: Solarization(threshold_factor=(-0.1, 0.5)), "threshold_factor"),
        (lambda: RandomInvert(1.5), "factor"),
        (lambda: RandomPosterization(9), "factor"),
        (lambda: RandomPosterization(0), "factor"),
        (lambda: RandomGrayscale(1.2), "factor"),
        (lambda: RandomGrayscale("a"), "factor"),
        (lambda: RandomColorDegeneration(2.0), "factor"),
        (lambda: RandomHue(-0.5), "factor"),
        (lambda: RandomSaturation((0.1, 0.2, 0.3)), "factor"),
        (lambda: RandomSharpness(1.1), "factor"),
        (lambda: RandomSharpness(0.1, value_range=(0, "a")), "value_range"),
        (lambda: RandomColorJitter(hue_factor=2.0), "hue_factor"),
        (lambda: RandomColorJitter(contrast_factor=-0.5), "contrast_factor"),
        (lambda: RandomHue(0.1, seed=-1), "seed"),
    ],
)
def test_bad_arguments(make, arg):
    with pytest.raises(ValueError, match=arg):
        make()


def test_bad_inputs(images):
    four = np.zeros((2, 5, 5, 4), "float32")
    for layer in (RandomHue(0.2), RandomSaturation(0.2), RandomColorDegeneration(0.2), RandomGrayscale(1.0)):
        with pytest.raises(ValueError, match=f"{type(layer).__name__}.*channels"):
            layer(four, training=True)
    with pytest.raises(ValueError, match="rank"):
        Solarization()(np.zeros((4, 4)), training=True)
    with pytest.raises(ValueError, match="3 channels"):
        RandomColorDegeneration(0.2).compute_output_shape((None, 5, 5, 4))


def test_color_augmentations_in_sequential_fit_and_predict(rng):
    torch.manual_seed(0)
    x = rng.random((16, 8, 8, 3)).astype("float32")
    y = (x.mean(axis=(1, 2, 3)) > 0.5).astype("float32")
    vr = {"value_range": (0, 1)}
    model = kerasish.Sequential([
        kerasish.Input((8, 8, 3)),
        RandomColorJitter(brightness_factor=0.1, contrast_factor=0.2, saturation_factor=(0.4, 0.6), hue_factor=0.1, seed=1, **vr),
        RandomGrayscale(0.2, seed=2), RandomSharpness(0.5, seed=3, **vr), Solarization(threshold_factor=(0.9, 1.0), seed=4, **vr),
        RandomPosterization((6, 8), seed=5, **vr), RandomInvert(0.1, seed=6, **vr), RandomColorDegeneration(0.2, seed=7, **vr),
        Equalization(**vr), AutoContrast(**vr),
        kerasish.layers.Flatten(), kerasish.layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(optimizer="adam", loss="binary_crossentropy")
    history = model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    assert model.predict(x, verbose=0).shape == (16, 1)


# ----------------------------------------------------------------------
# CLAHE
# ----------------------------------------------------------------------
@pytest.mark.parametrize("kw", [{}, {"tile_grid_size": (3, 4)}, {"clip_limit": 0.0, "tile_grid_size": (2, 5)},
                                {"clip_limit": 40.0, "tile_grid_size": (3, 3)}, {"clip_limit": 16.0, "value_range": (0, 1)}])
def test_clahe_parity(layer_test, keras, rng, kw):
    # 64 x 80 images with 8 x 8 tiles of at least 8 x 10 pixels: the clip limit is not zero
    x = (rng.random((2, 64, 80, 3)) * 150 + 30).astype("float32")
    x = _data(kw, x)
    name = "ContrastLimitedAdaptiveHistogramEqualization"
    result = layer_test(CLAHE, kw, input_data=x, keras_parity=True, terms=16, expected_output_shape=x.shape,
                        expected_output_dtype="float32", expected_num_trainable_weights=0)
    assert np.abs(to_numpy(result.output) - x).max() > 0.05 * (x.max() - x.min())  # it does change the images
    assert_close_f32(CLAHE(**kw)(x[0]), getattr(keras.layers, name)(**kw)(x[0]), terms=16)
    cf = np.ascontiguousarray(x.transpose(0, 3, 1, 2))
    assert_close_f32(CLAHE(**kw, data_format="channels_first")(cf), getattr(keras.layers, name)(**kw, data_format="channels_first")(cf), terms=16)


def test_clahe_uneven_tiles_integers_and_inference(keras, rng):
    x = (rng.random((2, 13, 21, 3)) * 255).astype("uint8")  # tiles padded at the bottom / right
    ours, theirs = CLAHE(tile_grid_size=(3, 4)), keras.layers.ContrastLimitedAdaptiveHistogramEqualization(tile_grid_size=(3, 4))
    y = ours(x)
    assert y.dtype == torch.uint8  # integer images come back in their dtype, as Keras's
    np.testing.assert_array_equal(to_numpy(y), to_numpy(theirs(x)))
    model = kerasish.Sequential([kerasish.Input((13, 21, 3)), CLAHE(clip_limit=0.0, tile_grid_size=(3, 4))])
    xf = x.astype("float32")
    assert_close_f32(model.predict(xf, verbose=0), CLAHE(clip_limit=0.0, tile_grid_size=(3, 4))(xf), terms=16)  # active at inference
    assert_config_like_keras(ours, theirs)
    for bad, arg in [({"tile_grid_size": (0, 2)}, "tile_grid_size"), ({"clip_limit": -1.0}, "clip_limit"),
                     ({"value_range": (0,)}, "value_range")]:
        with pytest.raises(ValueError, match=arg):
            CLAHE(**bad)
