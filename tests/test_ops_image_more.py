"""kerasish.ops.image's resampling ops (map_coordinates, perspective_transform,
elastic_transform, scale_and_translate), extract_patches_3d and ssim against
keras.ops.image (torch backend)."""

import numpy as np
import pytest
import torch

from kerasish import ops, random as krandom
from tests.conftest import assert_close_f32, to_numpy

R = np.random.default_rng(0)
IMGS = R.uniform(0, 1, size=(2, 14, 12, 3)).astype("float32")
IMGS_CF = np.moveaxis(IMGS, -1, 1).copy()
FILL_MODES = ["constant", "nearest", "wrap", "mirror", "reflect"]


def check_image(keras, name, *args, terms=64, depth=1, **kwargs):
    """``ops.image.name`` against ``keras.ops.image.name``: shape, dtype and values."""
    got = getattr(ops.image, name)(*args, **kwargs)
    exp = getattr(keras.ops.image, name)(*args, **kwargs)
    assert isinstance(got, torch.Tensor), type(got)
    g, e = to_numpy(got), keras.ops.convert_to_numpy(exp)
    assert g.shape == e.shape and g.dtype == e.dtype, (name, g.shape, e.shape, g.dtype, e.dtype)
    assert_close_f32(g, e, terms=terms, depth=depth, err_msg=name)
    return g


# -- map_coordinates -----------------------------------------------------------
@pytest.mark.parametrize("fill_mode", FILL_MODES)
@pytest.mark.parametrize("order", [0, 1])
def test_map_coordinates(keras, order, fill_mode):
    x = R.uniform(size=(5, 6, 7)).astype("float32")
    coords = R.uniform(-6, 12, size=(3, 4, 5)).astype("float32")  # well outside, to exercise fill_mode
    check_image(keras, "map_coordinates", x, coords, order, fill_mode=fill_mode, fill_value=0.5)
    # 2-D input, a list of per-axis coordinates
    check_image(keras, "map_coordinates", x[0], [coords[0, 0], coords[1, 0]], order, fill_mode=fill_mode)


def test_map_coordinates_dtypes(keras):
    u8 = (R.uniform(size=(5, 6)) * 255).astype("uint8")
    c = R.uniform(-2, 8, size=(2, 10)).astype("float32")
    check_image(keras, "map_coordinates", u8, c, 1, fill_value=3)
    check_image(keras, "map_coordinates", u8, c, 0, fill_mode="reflect")
    x64 = R.normal(size=(4, 5))
    check_image(keras, "map_coordinates", x64, R.uniform(-1, 6, size=(2, 7)), 1, fill_mode="mirror")
    # integer coordinates read exactly (out of range -> fill_value)
    x = np.arange(12, dtype="float32").reshape(3, 4)
    got = check_image(keras, "map_coordinates", x, np.array([[0, 1, 2], [1, 2, 5]]), 1)
    np.testing.assert_array_equal(got, [1.0, 6.0, 0.0])


def test_map_coordinates_errors():
    x = np.zeros((3, 4), "float32")
    with pytest.raises(ValueError, match="map_coordinates.*`coordinates`.*2"):
        ops.image.map_coordinates(x, np.zeros((3, 5), "float32"), 1)
    with pytest.raises(ValueError, match="map_coordinates.*`coordinates`.*rank"):
        ops.image.map_coordinates(x, np.zeros((2,), "float32"), 1)
    with pytest.raises(ValueError, match="map_coordinates.*`fill_mode`"):
        ops.image.map_coordinates(x, np.zeros((2, 5), "float32"), 1, fill_mode="edge")
    with pytest.raises(ValueError, match="map_coordinates.*`order`"):
        ops.image.map_coordinates(x, np.zeros((2, 5), "float32"), -1)
    with pytest.raises(NotImplementedError, match="map_coordinates.*order"):  # as Keras
        ops.image.map_coordinates(x, np.zeros((2, 5), "float32"), 3)
    with pytest.raises(ValueError, match="map_coordinates.*`inputs`.*scalar"):
        ops.image.map_coordinates(np.float32(1.0), [], 1)
    with pytest.raises(ValueError, match="map_coordinates.*broadcast"):
        ops.image.map_coordinates(x, [np.zeros(3, "float32"), np.zeros(4, "float32")], 1)


# -- extract_patches_3d ---------------------------------------------------------
VOLS = R.uniform(size=(2, 7, 8, 9, 2)).astype("float32")


@pytest.mark.parametrize("kwargs", [
    {"size": (2, 3, 2)}, {"size": 3, "strides": 2, "padding": "same"}, {"size": (2, 2, 2), "strides": 1, "dilation_rate": 2},
    {"size": (1, 2, 3), "strides": (1, 2, 1)},
])
def test_extract_patches_3d(keras, kwargs):
    check_image(keras, "extract_patches_3d", VOLS, **kwargs)
    check_image(keras, "extract_patches_3d", VOLS[0], **kwargs)  # one volume
    check_image(keras, "extract_patches_3d", np.moveaxis(VOLS, -1, 1).copy(), data_format="channels_first", **kwargs)


def test_extract_patches_3d_errors():
    with pytest.raises(ValueError, match="extract_patches_3d.*rank"):
        ops.image.extract_patches_3d(VOLS[0, 0], 2)
    with pytest.raises(ValueError, match="extract_patches_3d.*`size`"):
        ops.image.extract_patches_3d(VOLS, (2, 2))
    with pytest.raises(ValueError, match="extract_patches_3d.*`strides`"):
        ops.image.extract_patches_3d(VOLS, 2, strides=(1, 1))
    with pytest.raises(ValueError, match="extract_patches_3d.*`data_format`"):
        ops.image.extract_patches_3d(VOLS, 2, data_format="NDHWC")


# -- perspective_transform ------------------------------------------------------
START = np.array([[0, 0], [0, 14], [12, 0], [12, 14]], "float32")
END = np.array([[1, 2], [0, 11], [9, -1], [11, 13]], "float32")


@pytest.mark.parametrize("interpolation", ["bilinear", "nearest"])
def test_perspective_transform(keras, interpolation):
    check_image(keras, "perspective_transform", IMGS, START, END, interpolation=interpolation)
    check_image(keras, "perspective_transform", IMGS[0], START, END, interpolation=interpolation, fill_value=0.3)
    both = np.stack([START, START]), np.stack([END, START + 1.5])  # one set of points per image
    check_image(keras, "perspective_transform", IMGS_CF, *both, interpolation=interpolation, data_format="channels_first")
    check_image(keras, "perspective_transform", IMGS, *both, interpolation=interpolation, fill_value=-1)


def test_perspective_transform_identity_and_dtype():
    got = ops.image.perspective_transform(IMGS, START, START)
    assert_close_f32(to_numpy(got), IMGS, terms=16)
    u8 = (IMGS * 255).astype("uint8")
    out = ops.image.perspective_transform(u8, START, END)
    assert out.dtype == torch.uint8 and out.shape == u8.shape


def test_perspective_transform_errors():
    with pytest.raises(ValueError, match="perspective_transform.*`interpolation`"):
        ops.image.perspective_transform(IMGS, START, END, interpolation="bicubic")
    with pytest.raises(ValueError, match="perspective_transform.*rank"):
        ops.image.perspective_transform(IMGS[0, 0], START, END)
    with pytest.raises(ValueError, match="perspective_transform.*`start_points`.*\\(4, 2\\)"):
        ops.image.perspective_transform(IMGS, START[:3], END[:3])
    with pytest.raises(ValueError, match="perspective_transform.*same shape"):
        ops.image.perspective_transform(IMGS, np.stack([START, START]), END)
    with pytest.raises(ValueError, match="perspective_transform.*3 sets of points for 2 images"):
        ops.image.perspective_transform(IMGS, np.stack([START] * 3), np.stack([END] * 3))
    with pytest.raises(ValueError, match="perspective_transform.*no perspective transform"):
        ops.image.perspective_transform(IMGS, START, np.zeros((4, 2), "float32"))


# -- elastic_transform ----------------------------------------------------------
@pytest.mark.parametrize("kwargs", [
    {}, {"interpolation": "nearest"}, {"fill_mode": "constant", "fill_value": 0.5, "alpha": 5.0, "sigma": 2.0},
    {"fill_mode": "mirror"}, {"fill_mode": "wrap"}, {"fill_mode": "nearest", "sigma": 1.0},
])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_elastic_transform_matches_keras_global_rng(keras, kwargs, data_format):
    # Keras's torch backend draws both fields from torch's global generator
    # (its `seed` only reaches the "meta" device); with seed=None we draw the
    # same numbers in the same order, so the results agree.
    x = IMGS if data_format == "channels_last" else IMGS_CF
    torch.manual_seed(3)
    got = to_numpy(ops.image.elastic_transform(x, data_format=data_format, **kwargs))
    torch.manual_seed(3)
    exp = keras.ops.convert_to_numpy(keras.ops.image.elastic_transform(x, data_format=data_format, **kwargs))
    assert got.shape == exp.shape and got.dtype == exp.dtype
    k = int(6 * kwargs.get("sigma", 5.0)) | 1
    assert_close_f32(got, exp, terms=k * k, depth=2)  # coordinate rounding of a k x k blur, times alpha


def test_elastic_transform_properties():
    out = ops.image.elastic_transform(IMGS, seed=7)
    assert out.shape == IMGS.shape and out.dtype == torch.float32
    assert not np.allclose(to_numpy(out), IMGS)  # it moved something
    # bilinear interpolation of reflected reads stays within the input's range
    assert float(out.min()) >= IMGS.min() - 1e-6 and float(out.max()) <= IMGS.max() + 1e-6
    # an int seed repeats; another seed differs
    np.testing.assert_array_equal(to_numpy(ops.image.elastic_transform(IMGS, seed=7)), to_numpy(out))
    assert not np.allclose(to_numpy(ops.image.elastic_transform(IMGS, seed=8)), to_numpy(out))
    # a SeedGenerator gives a reproducible sequence of different fields
    g1, g2 = krandom.SeedGenerator(1), krandom.SeedGenerator(1)
    a1, b1 = (to_numpy(ops.image.elastic_transform(IMGS, seed=g1)) for _ in range(2))
    a2 = to_numpy(ops.image.elastic_transform(IMGS, seed=g2))
    np.testing.assert_array_equal(a1, a2)
    assert not np.allclose(a1, b1)
    # alpha=0: no displacement, the input back
    for x, df in ((IMGS, "channels_last"), (IMGS_CF, "channels_first"), (IMGS[0], "channels_last")):
        assert_close_f32(to_numpy(ops.image.elastic_transform(x, alpha=0.0, seed=1, data_format=df)), x)
    one = ops.image.elastic_transform(IMGS[0], seed=3)
    assert one.shape == IMGS[0].shape
    u8 = (IMGS * 255).astype("uint8")
    out8 = ops.image.elastic_transform(u8, seed=2)
    assert out8.dtype == torch.uint8 and out8.shape == u8.shape


def test_elastic_transform_errors():
    with pytest.raises(ValueError, match="elastic_transform.*`interpolation`"):
        ops.image.elastic_transform(IMGS, interpolation="bicubic")
    with pytest.raises(ValueError, match="elastic_transform.*`fill_mode`"):
        ops.image.elastic_transform(IMGS, fill_mode="edge")
    with pytest.raises(ValueError, match="elastic_transform.*rank"):
        ops.image.elastic_transform(IMGS[0, 0])
    with pytest.raises(ValueError, match="elastic_transform.*`sigma`"):
        ops.image.elastic_transform(IMGS, sigma=0.0)
    with pytest.raises(ValueError, match="elastic_transform.*`seed`"):
        ops.image.elastic_transform(IMGS, seed="x")


# -- scale_and_translate ----------------------------------------------------------
SCALE = np.array([0.5, 1.6], "float32")
SHIFT = np.array([0.3, -1.2], "float32")


@pytest.mark.parametrize("antialias", [True, False])
@pytest.mark.parametrize("method", ["linear", "bilinear", "trilinear", "cubic", "bicubic", "tricubic", "lanczos3", "lanczos5"])
def test_scale_and_translate(keras, method, antialias):
    x = IMGS[:, :9, :11]
    check_image(keras, "scale_and_translate", x, (2, 5, 17, 3), SCALE, SHIFT, (1, 2), method, antialias=antialias)
    # one image, negative spatial dims, upsampling both ways
    check_image(keras, "scale_and_translate", x[0], (20, 13, 3), np.array([2.3, 1.2], "float32"),
                np.array([-1.0, 0.5], "float32"), (-3, -2), method, antialias=antialias)


def test_scale_and_translate_variants(keras):
    # Keras's docstring example: 3x3 -> 5x5 with aligned corners
    x = np.arange(9, dtype="float32").reshape(3, 3)
    s = np.array([2.0, 2.0], "float32")
    got = check_image(keras, "scale_and_translate", x, (5, 5), s, -(s / 2.0 - 0.5), (0, 1), "linear")
    np.testing.assert_allclose(got[0], [0.0, 0.5, 1.0, 1.5, 2.0])
    u8 = (IMGS[:, :9, :11] * 255).astype("uint8")
    check_image(keras, "scale_and_translate", u8, (2, 5, 17, 3), SCALE, SHIFT, (1, 2), "lanczos3")
    vol = R.uniform(size=(6, 5, 4)).astype("float32")  # three spatial dims
    check_image(keras, "scale_and_translate", vol, (3, 8, 4), np.array([0.5, 1.7, 1.0], "float32"),
                np.zeros(3, "float32"), (0, 1, 2), "trilinear")
    check_image(keras, "scale_and_translate", IMGS.astype("float64"), (2, 7, 6, 3), np.array([0.5, 0.5]),
                np.array([0.0, 0.0]), (1, 2), "cubic")


def test_scale_and_translate_errors():
    with pytest.raises(ValueError, match="scale_and_translate.*`method`"):
        ops.image.scale_and_translate(IMGS, (2, 5, 5, 3), SCALE, SHIFT, (1, 2), "area")
    with pytest.raises(ValueError, match="scale_and_translate.*`output_shape`"):
        ops.image.scale_and_translate(IMGS, (5, 5), SCALE, SHIFT, (1, 2), "linear")
    with pytest.raises(ValueError, match="scale_and_translate.*`scale` and `translation`"):
        ops.image.scale_and_translate(IMGS, (2, 5, 5, 3), SCALE[:1], SHIFT, (1, 2), "linear")
    with pytest.raises(ValueError, match="scale_and_translate.*`spatial_dims`"):
        ops.image.scale_and_translate(IMGS, (2, 5, 5, 3), SCALE, SHIFT, (1, 4), "linear")


# -- ssim ------------------------------------------------------------------------------
NOISY = np.clip(IMGS + R.normal(scale=0.1, size=IMGS.shape), 0, 1).astype("float32")


@pytest.mark.parametrize("kwargs", [{}, {"filter_size": 5, "filter_sigma": 1.0}, {"max_val": 2.0, "k1": 0.02, "k2": 0.05}])
def test_ssim(keras, kwargs):
    terms = kwargs.get("filter_size", 11) ** 2
    check_image(keras, "ssim", IMGS, NOISY, terms=terms, depth=2, **kwargs)
    check_image(keras, "ssim", IMGS[0], NOISY[0], terms=terms, depth=2, **kwargs)  # one image: a scalar
    check_image(keras, "ssim", IMGS_CF, np.moveaxis(NOISY, -1, 1).copy(), terms=terms, depth=2,
                data_format="channels_first", **kwargs)


def test_ssim_values(keras):
    assert_close_f32(to_numpy(ops.image.ssim(IMGS, IMGS)), np.ones(2), terms=121)
    check_image(keras, "ssim", IMGS.astype("float64"), NOISY.astype("float64"))
    # Keras casts back to the input dtype: integer images give an integer result
    u8a, u8b = (IMGS * 255).astype("uint8"), (NOISY * 255).astype("uint8")
    check_image(keras, "ssim", u8a, u8b, max_val=255.0)


def test_ssim_errors():
    with pytest.raises(ValueError, match="ssim.*`image1`.*rank"):
        ops.image.ssim(IMGS[0, 0], IMGS[0, 0])
    with pytest.raises(ValueError, match="ssim.*`image2`.*rank"):
        ops.image.ssim(IMGS, IMGS[0, 0])
    with pytest.raises(ValueError, match="ssim.*same shape"):
        ops.image.ssim(IMGS, IMGS[:, :12])
    with pytest.raises(ValueError, match="ssim.*`filter_size`"):
        ops.image.ssim(IMGS[:, :8, :8], IMGS[:, :8, :8])
    with pytest.raises(ValueError, match="ssim.*`filter_sigma`"):
        ops.image.ssim(IMGS, IMGS, filter_sigma=0.0)
