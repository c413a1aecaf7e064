"""Geometric, mixing and composite image augmentation layers: RandomShear,
RandomPerspective, RandomGaussianBlur, RandomElasticTransform, RandomErasing,
MixUp, CutMix, Pipeline, RandAugment, AugMix.

Every layer runs through the harness at inference (the identity, compared
with Keras) and seeded in training (equal seeds, equal draws). Keras draws
other random numbers, so the math is compared with Keras given the same draw:
each layer's ``apply`` (ours, on the draw) against Keras's
``transform_images`` on a transformation dict holding the same numbers.
The rest checks the statistics of the draws and the data structures."""

import numpy as np
import pytest
import torch

from conftest import assert_close_f32, assert_config_like_keras, to_numpy
from kerasish.layers import RandomFlip, Rescaling, CenterCrop, Resizing
from kerasish.layers.preprocessing.cut_mix import CutMix
from kerasish.layers.preprocessing.mix_up import MixUp, sample_beta
from kerasish.layers.preprocessing.aug_mix import AugMix
from kerasish.layers.preprocessing.base_augmentation import SeededRandom
from kerasish.layers.preprocessing.pipeline import Pipeline
from kerasish.layers.preprocessing.random_elastic_transform import RandomElasticTransform
from kerasish.layers.preprocessing.random_erasing import RandomErasing
from kerasish.layers.preprocessing.random_gaussian_blur import RandomGaussianBlur
from kerasish.layers.preprocessing.random_perspective import RandomPerspective
from kerasish.layers.preprocessing.rand_augment import RandAugment
from kerasish.layers.preprocessing.random_shear import RandomShear


@pytest.fixture
def images(rng):
    return (rng.random((3, 7, 9, 3)) * 255).astype("float32")


def nchw(x):
    return torch.as_tensor(np.ascontiguousarray(np.moveaxis(x, -1, 1)))


def nhwc(t):
    return np.moveaxis(to_numpy(t), 1, -1)


RANDOM_LAYERS = [
    (RandomShear, {"x_factor": 0.3, "y_factor": 0.2}),
    (RandomPerspective, {"scale": 0.4}),
    (RandomGaussianBlur, {"sigma": (0.3, 1.0)}),
    (RandomElasticTransform, {"scale": 0.5}),
    (RandomErasing, {}),
    (MixUp, {"alpha": 0.5}),
    (CutMix, {}),
]
if RandAugment is not None:
    RANDOM_LAYERS += [(RandAugment, {}), (AugMix, {})]


@pytest.mark.parametrize("cls, kwargs", RANDOM_LAYERS, ids=[c.__name__ for c, _ in RANDOM_LAYERS])
def test_identity_at_inference_and_seeded(layer_test, images, cls, kwargs):
    batch = np.concatenate([images] * 4)  # 12 images: all-equal draws are (nearly) impossible
    result = layer_test(cls, {**kwargs, "seed": 1}, input_data=batch, call_kwargs={"training": False}, expected_output=batch,
                        keras_parity=True, expected_num_trainable_weights=0, expected_num_non_trainable_weights=0)
    np.testing.assert_array_equal(to_numpy(result.output), batch)
    result = layer_test(cls, {**kwargs, "seed": 3}, input_data=batch, call_kwargs={"training": True}, seeded=True,
                        expected_output_shape=batch.shape, expected_output_dtype="float32")
    a = to_numpy(result.output)
    np.testing.assert_array_equal(to_numpy(cls(**kwargs, seed=3)(batch, training=True)), a)  # same seed, same draws
    assert not np.array_equal(a, batch)  # it augments
    assert not np.array_equal(to_numpy(result.layer(batch, training=True)), a)  # the sequence moves on
    outs = a.reshape(4, 3, *images.shape[1:])
    assert len({outs[i, 0].tobytes() for i in range(4)}) > 1  # one draw per image
    # a direct call augments (Keras's data layers default to training=True)
    assert not np.array_equal(to_numpy(cls(**kwargs, seed=3)(batch)), batch)


@pytest.mark.parametrize("cls, kwargs", RANDOM_LAYERS, ids=[c.__name__ for c, _ in RANDOM_LAYERS])
def test_single_image_and_channels_first(images, cls, kwargs):
    one = cls(**kwargs, seed=5)(images[0], training=True)
    assert tuple(one.shape) == images[0].shape
    first = np.moveaxis(images, -1, 1)
    y = cls(**kwargs, seed=5, data_format="channels_first")(first, training=True)
    assert tuple(y.shape) == first.shape
    assert cls(**kwargs, data_format="channels_first")(first, training=False).numpy().tolist() == first.tolist()


@pytest.mark.parametrize("cls, kwargs", RANDOM_LAYERS, ids=[c.__name__ for c, _ in RANDOM_LAYERS])
def test_config_like_keras(keras, cls, kwargs):
    ours = cls(**kwargs, seed=2)
    theirs = getattr(keras.layers, cls.__name__)(**kwargs, seed=2)
    assert_config_like_keras(ours, theirs)
    clone = cls.from_config(ours.get_config())
    assert clone.get_config() == ours.get_config()


# ----------------------------------------------------------------------
# The math, compared with Keras on the same draw
# ----------------------------------------------------------------------
@pytest.mark.parametrize("fill_mode", ["constant", "nearest"])  # Keras on torch reads "reflect" as "mirror"
@pytest.mark.parametrize("interpolation", ["bilinear", "nearest"])
def test_shear_matches_keras(keras, images, fill_mode, interpolation):
    kw = {"x_factor": 0.4, "y_factor": 0.3, "fill_mode": fill_mode, "interpolation": interpolation, "fill_value": 7.0}
    ours, theirs = RandomShear(**kw, seed=0), keras.layers.RandomShear(**kw)
    shear = ours.draw(nchw(images))
    assert shear.shape == (3, 2) and float(shear.abs().max()) <= 0.4
    expected = theirs.transform_images(images, {"shear_factor": shear, "input_shape": images.shape})
    assert_close_f32(nhwc(ours.apply(nchw(images), shear)), expected, terms=4)


def test_shear_draws(images):
    layer = RandomShear(x_factor=(0.1, 0.2), y_factor=0.0, seed=0)
    shear = to_numpy(layer.draw(nchw(np.zeros((4000, 2, 2, 1), "float32"))))
    assert np.all((np.abs(shear[:, 0]) >= 0.1) & (np.abs(shear[:, 0]) <= 0.2)) and np.all(shear[:, 1] == 0)
    assert 0.45 < np.mean(shear[:, 0] < 0) < 0.55  # the sign is flipped for half the images


def test_perspective_matches_keras(keras, images):
    ours, theirs = RandomPerspective(factor=(0.5, 0.5), scale=0.6, seed=0, fill_value=3.0), keras.layers.RandomPerspective(
        scale=0.6, fill_value=3.0)
    apply, start, end = ours.draw(nchw(np.concatenate([images] * 4)))
    apply, start, end = apply[:3], start[:3], end[:3]
    apply[0], apply[1] = True, False
    shift = to_numpy((end - start)[:, 1:] / start[:, 1:].clamp_min(1))
    assert np.all(np.abs(shift) <= 0.3 + 1e-6)
    expected = theirs.transform_images(images, {"apply_perspective": apply, "start_points": start, "end_points": end,
                                                "input_shape": images.shape})
    assert_close_f32(nhwc(ours.apply(nchw(images), apply, start, end)), expected, terms=16)
    np.testing.assert_array_equal(nhwc(ours.apply(nchw(images), apply, start, end))[1], images[1])


def test_blur_matches_keras(keras, images):
    # square kernels: Keras's torch gaussian_blur fails on (3, 5) for 7 x 9 images
    kw = {"kernel_size": 5, "sigma": (0.2, 0.9), "value_range": (0, 200)}
    ours, theirs = RandomGaussianBlur(**kw), keras.layers.RandomGaussianBlur(**kw)
    sigma = torch.tensor([[0.5, 0.8]] * 3)  # Keras draws one pair for the batch
    apply = torch.tensor([True, False, True])
    expected = theirs.transform_images(images, {"should_apply_blur": apply, "blur_factor": sigma[0]})
    assert_close_f32(nhwc(ours.apply(nchw(images), apply, sigma)), expected, terms=15)


def test_blur_factor_zero_is_identity_and_sum_preserved(keras, images):
    x = np.zeros((2, 9, 9, 1), "float32")
    x[:, 4, 4] = 100.0
    y = to_numpy(RandomGaussianBlur(factor=(1.0, 1.0), sigma=(0.5, 1.0), kernel_size=5, seed=0)(x))
    np.testing.assert_allclose(y.sum(axis=(1, 2, 3)), 100.0, rtol=1e-5)
    assert y[0, 4, 4, 0] < 100.0 and not np.array_equal(y[0], y[1])  # per-image sigma
    assert_close_f32(RandomGaussianBlur(factor=0.0, seed=0)(images), keras.layers.RandomGaussianBlur(factor=0.0)(images))


def keras_elastic(keras, images, alpha, sigma, noise, fill_mode):
    """Keras's elastic_transform math on given unit noise (N, H, W) per axis, with Keras's ops."""
    ops = keras.ops
    k = int(6 * sigma) | 1
    out = []
    for i in range(images.shape[0]):
        dx = ops.image.gaussian_blur(noise[0][i][None, :, :, None] * sigma, (k, k), (sigma, sigma), data_format="channels_last")[0, :, :, 0]
        dy = ops.image.gaussian_blur(noise[1][i][None, :, :, None] * sigma, (k, k), (sigma, sigma), data_format="channels_last")[0, :, :, 0]
        h, w = dx.shape
        y, x = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
        yy, xx = y + alpha * to_numpy(dy), x + alpha * to_numpy(dx)
        chans = [to_numpy(ops.image.map_coordinates(images[i, :, :, c], [yy, xx], order=1, fill_mode=fill_mode))
                 for c in range(images.shape[-1])]
        out.append(np.stack(chans, -1))
    return np.stack(out)


@pytest.mark.parametrize("fill_mode", ["constant", "nearest"])
def test_elastic_matches_keras_math(keras, rng, fill_mode):
    x = (rng.random((2, 20, 24, 2)) * 255).astype("float32")
    layer = RandomElasticTransform(scale=(0.8, 0.8), fill_mode=fill_mode, seed=0)
    apply, distortion, noise = layer.draw(nchw(x))
    ours = nhwc(layer.apply(nchw(x), torch.ones(2, dtype=torch.bool), distortion, noise))
    alpha, sigma = 0.1 * 24 * 0.8, 0.05 * 20 * 0.8
    expected = np.clip(keras_elastic(keras, x, alpha, sigma, to_numpy(noise), fill_mode), 0, 255)
    assert_close_f32(ours, expected, terms=64)
    assert not np.allclose(ours, x)


def test_elastic_per_image_kernels(rng):
    # Each image's blur is cut to its own Keras kernel int(6 sigma) | 1: the
    # per-image result equals the layer run on that image alone with its distortion.
    x = (rng.random((2, 20, 20, 1)) * 255).astype("float32")
    layer = RandomElasticTransform(scale=(0.2, 0.9), seed=0)
    apply, distortion, noise = layer.draw(nchw(x))
    both = layer.apply(nchw(x), apply | True, distortion, noise)
    single = RandomElasticTransform(scale=(float(distortion[1]), float(distortion[1])))
    alone = single.apply(nchw(x)[1:], torch.ones(1, dtype=torch.bool), distortion[1:], noise[:, 1:])
    assert_close_f32(both[1:], alone, terms=64)


def test_erasing_boxes_and_fill(images):
    x = np.full((200, 10, 20, 3), 50.0, "float32")
    y = to_numpy(RandomErasing(factor=(1.0, 1.0), scale=(0.1, 0.3), fill_value=(1.0, 2.0, 3.0), seed=0)(x))
    erased = y[..., 0] != 50.0
    np.testing.assert_array_equal(y[erased][:, 0], 1.0)
    np.testing.assert_array_equal(y[y[..., 2] != 50.0][:, 2], 3.0)
    for m in erased[:20]:  # one rectangle, sides sqrt(a) W and sqrt(b) H
        rows, cols = np.nonzero(m.any(axis=1))[0], np.nonzero(m.any(axis=0))[0]
        assert m.sum() == len(rows) * len(cols)
        assert 20 * 0.1 ** 0.5 - 1 <= len(cols) <= 20 * 0.3 ** 0.5 + 1
        assert 10 * 0.1 ** 0.5 - 1 <= len(rows) <= 10 * 0.3 ** 0.5 + 1
    noisy = to_numpy(RandomErasing(factor=(1.0, 1.0), value_range=(0, 100), seed=0)(x))
    assert noisy.min() >= 0 and noisy.max() <= 100 and len(np.unique(noisy)) > 10


def test_erasing_probability(images):
    x = np.full((2000, 4, 4, 1), 50.0, "float32")
    y = to_numpy(RandomErasing(factor=(0.3, 0.3), scale=(0.5, 0.5), fill_value=0.0, seed=0)(x))
    assert 0.25 < np.mean((y == 0).any(axis=(1, 2, 3))) < 0.35
    y = to_numpy(RandomErasing(factor=0.0, seed=0)(x))
    np.testing.assert_array_equal(y, x)


def test_beta_draws():
    like = torch.zeros(1)
    for a in (0.2, 1.0, 4.0):
        b = to_numpy(sample_beta(a, 40000, SeededRandom(0), like))
        assert np.all((b >= 0) & (b <= 1))
        assert abs(b.mean() - 0.5) < 0.01
        assert abs(b.var() - 1 / (4 * (2 * a + 1))) < 0.01  # Beta(a, a)'s variance
    b = to_numpy(sample_beta(1.0, 40000, SeededRandom(0), like))  # Beta(1, 1) is uniform
    np.testing.assert_allclose(np.histogram(b, bins=4, range=(0, 1))[0] / 40000, 0.25, atol=0.01)


def test_mixup_matches_keras(keras, images):
    labels = np.eye(3, dtype="float32")
    ours, theirs = MixUp(alpha=0.3, seed=0), keras.layers.MixUp(alpha=0.3)
    weight, order = ours.draw(nchw(images))
    t = {"mix_weight": weight, "permutation_order": order}
    x, y = ours.apply(nchw(images), torch.as_tensor(labels), weight, order)
    assert_close_f32(nhwc(x), theirs.transform_images(images, t), terms=2)
    assert_close_f32(y, theirs.transform_labels(labels, t), terms=2)


def test_mixup_data_structures(rng):
    x = (rng.random((8, 5, 5, 3)) * 255).astype("float32")
    labels = np.eye(8, dtype="float32")
    out = MixUp(alpha=0.4, seed=3)({"images": x, "labels": labels, "other": np.arange(8)})
    assert set(out) == {"images", "labels", "other"} and out["other"].tolist() == list(range(8))
    y = to_numpy(out["labels"])
    np.testing.assert_allclose(y.sum(axis=1), 1.0, rtol=1e-6)  # label mixing sums to 1
    # each image is w x_i + (1 - w) x_j with the label's weights
    w = y.max(axis=1)
    for i in range(8):
        j = [k for k in range(8) if k != i and y[i, k] > 0]
        expected = x[i] if not j else y[i, i] * x[i] + y[i, j[0]] * x[j[0]]
        assert_close_f32(out["images"][i], expected, terms=2)
    assert np.all(w >= 0.5 - 1e-6)
    xs, ys = MixUp(alpha=0.4, seed=3)((x, labels))  # a pair, as Dataset.map gives
    assert_close_f32(xs, out["images"], terms=1)
    assert_close_f32(ys, y, terms=1)
    same = MixUp(alpha=0.4, seed=3)((x, labels), training=False)
    np.testing.assert_array_equal(to_numpy(same[0]), x)
    np.testing.assert_array_equal(to_numpy(same[1]), labels)
    ints = MixUp(seed=0)((x, np.eye(8, dtype="int64")))[1]  # integer one-hot labels are mixed as floats
    assert ints.dtype == torch.float32
    with pytest.raises(ValueError, match="MixUp.*labels"):
        MixUp()((x, labels[:3]))
    with pytest.raises(ValueError, match="MixUp.*alpha"):
        MixUp(alpha=0.0)


def test_mixup_in_dataset_map_and_model(rng):
    import kerasish
    from kerasish.utils.dataset import Dataset
    x = (rng.random((8, 6, 6, 3)) * 255).astype("float32")
    y = np.eye(4, dtype="float32")[rng.integers(0, 4, 8)]
    mix_up, cut_mix = MixUp(seed=0), CutMix(seed=0)
    ds = Dataset.from_tensor_slices((x, y)).batch(4).map(lambda a, b: cut_mix(mix_up((a, b))))
    batches = list(ds)
    assert len(batches) == 2
    for bx, by in batches:
        assert tuple(bx.shape) == (4, 6, 6, 3) and np.allclose(to_numpy(by).sum(1), 1.0)
        assert not np.allclose(to_numpy(by), y[:4]) or not np.allclose(to_numpy(by), y[4:])
    inputs = kerasish.Input((6, 6, 3))
    model = kerasish.Model(inputs, CutMix(seed=0)(MixUp(seed=0)(inputs)))
    np.testing.assert_array_equal(model.predict(x, verbose=0), x)  # inference: identity


def test_cutmix_matches_keras(keras, images):
    ours, theirs = CutMix(seed=0), keras.layers.CutMix()
    masks, order = ours.draw(nchw(images))
    keras_masks = np.repeat(np.moveaxis(to_numpy(masks), 1, -1), 3, axis=-1)
    expected = theirs.transform_images(images, {"permutation_order": order, "batch_masks": keras_masks, "mix_weight": None})
    x, _ = ours.apply(nchw(images), None, masks, order)
    assert_close_f32(nhwc(x), expected, terms=1)


def test_cutmix_area_is_label_weight(rng):
    x = np.repeat(np.arange(16, dtype="float32").reshape(16, 1, 1, 1), 10, 1).repeat(12, 2)  # image i is all i
    labels = np.eye(16, dtype="float32")
    out_x, out_y = (to_numpy(t) for t in CutMix(factor=(0.5, 1.0), seed=4)((x, labels)))
    np.testing.assert_allclose(out_y.sum(axis=1), 1.0, rtol=1e-6)
    for i in range(16):
        pasted = out_x[i, ..., 0] != i
        np.testing.assert_allclose(out_y[i, i], 1.0 - pasted.mean() if pasted.any() else 1.0, atol=1e-6)
        if pasted.any():  # one box, copied from one other image
            donors = np.unique(out_x[i, ..., 0][pasted])
            assert len(donors) == 1 and abs(out_y[i, int(donors[0])] - pasted.mean()) < 1e-6
    one = CutMix(seed=0)(x[0])  # a single image is left as it is, as Keras
    np.testing.assert_array_equal(to_numpy(one), x[0])


# ----------------------------------------------------------------------
# Pipeline
# ----------------------------------------------------------------------
def test_pipeline_parity(keras, layer_test, images):
    ours = [Rescaling(0.5, offset=1.0), CenterCrop(5, 6), Resizing(4, 4)]
    theirs = [keras.layers.Rescaling(0.5, offset=1.0), keras.layers.CenterCrop(5, 6), keras.layers.Resizing(4, 4)]
    # Keras's Pipeline has no compute_output_shape, so the harness runs without its parity
    result = layer_test(Pipeline, {"layers": ours}, input_data=images, expected_output_shape=(3, 4, 4, 3),
                        expected_num_trainable_weights=0)
    assert_close_f32(result.output, keras.layers.Pipeline(theirs)(images), terms=16)
    assert [type(layer).__name__ for layer in result.layer.layers] == ["Rescaling", "CenterCrop", "Resizing"]
    config = Pipeline(ours).get_config()
    assert set(config) == {"layers", "name"}
    assert [c["class_name"] for c in config["layers"]] == ["Rescaling", "CenterCrop", "Resizing"]
    revived = keras.layers.Pipeline.from_config(config)  # Keras reads our config, and we read Keras's
    assert_close_f32(revived(images), Pipeline.from_config(keras.layers.Pipeline(theirs).get_config())(images), terms=16)


def test_pipeline_training_flag(images):
    p = Pipeline([RandomFlip("horizontal", seed=0), RandomShear(x_factor=0.5, seed=0)])
    batch = np.concatenate([images] * 4)
    assert not np.array_equal(to_numpy(p(batch)), batch)  # direct call: augments
    np.testing.assert_array_equal(to_numpy(p(batch, training=False)), batch)
    with pytest.raises(ValueError, match="Pipeline.*layers"):
        Pipeline([RandomFlip(), "not a layer"])


# ----------------------------------------------------------------------
# Bad arguments
# ----------------------------------------------------------------------
@pytest.mark.parametrize("make, arg", [
    (lambda: RandomShear(x_factor=1.5), "x_factor"),
    (lambda: RandomShear(y_factor=(-1.5, 0.2)), "y_factor"),
    (lambda: RandomShear(fill_mode="mirror"), "fill_mode"),
    (lambda: RandomPerspective(scale=1.5), "scale"),
    (lambda: RandomPerspective(factor=2.0), "factor"),
    (lambda: RandomPerspective(interpolation="bicubic"), "interpolation"),
    (lambda: RandomGaussianBlur(kernel_size=4), "kernel_size"),
    (lambda: RandomGaussianBlur(sigma=2.0), "sigma"),
    (lambda: RandomGaussianBlur(value_range=5), "value_range"),
    (lambda: RandomElasticTransform(scale=(0.1, 2.0, 3.0)), "scale"),
    (lambda: RandomElasticTransform(fill_mode="edge"), "fill_mode"),
    (lambda: RandomErasing(fill_value=(1, 2)), "fill_value"),
    (lambda: RandomErasing(scale=-2), "scale"),
    (lambda: CutMix(factor=3), "factor"),
    (lambda: MixUp(alpha=-1), "alpha"),
    (lambda: RandomShear(seed=-1), "seed"),
])
def test_bad_arguments(make, arg):
    with pytest.raises(ValueError, match=arg):
        make()


@pytest.mark.parametrize("cls, kwargs", RANDOM_LAYERS, ids=[c.__name__ for c, _ in RANDOM_LAYERS])
def test_bad_rank(cls, kwargs):
    with pytest.raises(ValueError, match=cls.__name__):
        cls(**kwargs)(np.zeros((2, 3), "float32"))


# ----------------------------------------------------------------------
# RandAugment / AugMix
# ----------------------------------------------------------------------


def test_rand_augment_per_image_choice(rng):
    from kerasish.layers.preprocessing.auto_contrast import AutoContrast
    from kerasish.layers.preprocessing.equalization import Equalization
    x = (50 + rng.random((440, 6, 6, 3)) * 150).astype("float32")
    y = to_numpy(RandAugment(num_ops=1, factor=0.0, seed=0)(x))
    auto = to_numpy(AutoContrast()(x))
    equal = to_numpy(Equalization()(x))
    is_auto = np.all(np.abs(y - auto) < 1e-3, axis=(1, 2, 3))
    is_equal = np.all(np.abs(y - equal) < 1e-3, axis=(1, 2, 3))
    # identities at strength 0: shear, translation, rotation, brightness, color degeneration, contrast
    is_same = np.all(np.abs(y - x) < 1e-3, axis=(1, 2, 3))
    for frac, ops in ((is_auto.mean(), 1), (is_equal.mean(), 1), (is_same.mean(), 6)):
        assert abs(frac - ops / 11) < 0.045, (frac, ops)  # one of 11 operations per image, uniformly


def test_rand_augment_and_aug_mix_identities(keras, images):
    assert_close_f32(RandAugment(num_ops=0, seed=0)(images), keras.layers.RandAugment(num_ops=0)(images))
    # chains of depth 0 give the image back: x w + (1 - w) sum_c d_c x = x
    assert_close_f32(AugMix(chain_depth=0, seed=0)(images), keras.layers.AugMix(chain_depth=0)(images), terms=4)


def test_aug_mix_mixes_within_range(rng):
    x = (rng.random((16, 8, 8, 3)) * 100).astype("float32")
    layer = AugMix(value_range=(0, 100), num_chains=2, chain_depth=2, all_ops=False, seed=0)
    y = to_numpy(layer(x))
    assert y.min() >= 0 and y.max() <= 100 and not np.allclose(y, x)
    with pytest.raises(ValueError, match="AugMix.*alpha"):
        AugMix(alpha=0)
    with pytest.raises(ValueError, match="RandAugment.*num_ops"):
        RandAugment(num_ops=-1)


def test_dirichlet_draws():
    from kerasish.layers.preprocessing.mix_up import sample_dirichlet
    w = to_numpy(sample_dirichlet(0.5, 20000, 3, SeededRandom(0), torch.zeros(1)))
    np.testing.assert_allclose(w.sum(axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(w.mean(axis=0), 1 / 3, atol=0.01)
    np.testing.assert_allclose(w.var(axis=0), (1 / 3) * (2 / 3) / (1.5 + 1), atol=0.01)  # Dirichlet's variance
