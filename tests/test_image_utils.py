"""to_categorical / normalize / split_dataset and the PIL helpers against keras.utils."""

import io

import numpy as np
import pytest
import torch

from kerasish.utils import array_to_img, img_to_array, load_img, normalize, save_img, split_dataset, to_categorical


@pytest.mark.parametrize("x,n", [([0, 1, 2, 3], 4), ([[1], [0], [2]], None), (np.array([[0, 2], [1, 1]]), 5), ([3, 0], None)])
def test_to_categorical_matches_keras(keras, x, n):
    ours, ref = to_categorical(x, n), keras.utils.to_categorical(x, n)
    assert isinstance(ours, np.ndarray) and ours.shape == ref.shape and ours.dtype == ref.dtype
    np.testing.assert_array_equal(ours, ref)
    t = to_categorical(torch.tensor(np.asarray(x)), n)
    np.testing.assert_array_equal(t.numpy(), ref)
    with pytest.raises(ValueError, match="num_classes=2"):
        to_categorical([0, 5], 2)


@pytest.mark.parametrize("axis,order", [(-1, 2), (1, 1), (-1, np.inf)])
def test_normalize_matches_keras(keras, axis, order):
    x = np.random.default_rng(0).normal(size=(4, 5)).astype("float32")
    x[1] = 0
    # axis=0: Keras's NumPy path fails (``axis or -1``); ours normalizes columns
    np.testing.assert_allclose(np.linalg.norm(normalize(x, 0, 2), axis=0), 1, rtol=1e-6)
    np.testing.assert_allclose(normalize(x, axis, order), keras.utils.normalize(x, axis, order), rtol=1e-6)
    np.testing.assert_allclose(normalize(torch.from_numpy(x), axis, order).numpy(), keras.utils.normalize(x, axis, order), rtol=1e-6)


def test_split_dataset_matches_keras_torch_backend(keras):
    rng = np.random.default_rng(0)
    x, y = rng.random((50, 3)).astype("float32"), rng.integers(0, 3, 50)
    # without shuffle: head / tail, as Keras's TensorFlow path (its torch path shuffles anyway, a bug)
    l, r = split_dataset((x, y), right_size=7)
    assert list(l.indices) == list(range(43)) and list(r.indices) == list(range(43, 50))
    l, r = split_dataset((x, y), left_size=5, right_size=5)
    assert list(l.indices) == list(range(5)) and list(r.indices) == list(range(45, 50))
    for kw in ({"left_size": 0.3, "shuffle": True, "seed": 4}, {"left_size": 10, "right_size": 40, "shuffle": True, "seed": 9}):
        ours = split_dataset((x, y), **kw)
        ref = keras.utils.split_dataset((x, y), **kw)
        for o, r in zip(ours, ref):
            assert isinstance(o, torch.utils.data.Subset) and list(o.indices) == list(r.indices)
            np.testing.assert_array_equal(o[0][0].numpy(), r[0][0].numpy())
    left, right = split_dataset(x, left_size=0.8)
    assert (len(left), len(right)) == (40, 10)
    la, ra = split_dataset((x, y), left_size=0.2, shuffle=True, seed=1, return_arrays=True)
    assert la[0].shape == (10, 3) and ra[1].shape == (40,)
    assert sorted(np.concatenate([la[1], ra[1]]).tolist()) == sorted(y.tolist())
    ds = torch.utils.data.TensorDataset(torch.arange(10))
    l, r = split_dataset(ds, right_size=0.3, shuffle=True, seed=2)
    lk, rk = keras.utils.split_dataset(ds, right_size=0.3, shuffle=True, seed=2)
    assert list(l.indices) == list(lk.indices) and len(r) == 3
    with pytest.raises(ValueError, match="left_size"):
        split_dataset(x)
    with pytest.raises(ValueError, match="left_size=1.5"):
        split_dataset(x, left_size=1.5)
    with pytest.raises(TypeError, match="dataset"):
        split_dataset("abc", left_size=0.5)
    with pytest.raises(ValueError, match="first dimension"):
        split_dataset((x, y[:3]), left_size=0.5)


@pytest.mark.parametrize("channels,fmt", [(3, "png"), (1, "png"), (4, "png"), (3, "bmp"), (3, "jpg")])
def test_image_round_trips_match_keras(keras, tmp_path, channels, fmt):
    rng = np.random.default_rng(channels)
    x = rng.integers(0, 256, (9, 11, channels)).astype("float32")
    p_ours, p_ref = tmp_path / f"a.{fmt}", tmp_path / f"b.{fmt}"
    save_img(p_ours, x, scale=False)
    keras.utils.save_img(p_ref, x, scale=False)
    mode = {1: "grayscale", 3: "rgb", 4: "rgba"}[channels]
    a = img_to_array(load_img(p_ours, color_mode=mode))
    b = keras.utils.img_to_array(keras.utils.load_img(p_ref, color_mode=mode))
    assert a.dtype == np.float32 and a.shape == (9, 11, channels)
    np.testing.assert_array_equal(a, b)
    if fmt != "jpg":
        np.testing.assert_array_equal(a, x)  # lossless
    for kw in ({"target_size": (5, 7)}, {"target_size": (6, 6), "interpolation": "bilinear", "keep_aspect_ratio": True}):
        np.testing.assert_array_equal(img_to_array(load_img(p_ours, color_mode=mode, **kw)),
                                      keras.utils.img_to_array(keras.utils.load_img(p_ours, color_mode=mode, **kw)))
    cf = img_to_array(load_img(p_ours, color_mode=mode), data_format="channels_first")
    assert cf.shape == (channels, 9, 11)


def test_array_to_img_scale_and_errors(keras):
    x = np.random.default_rng(0).normal(size=(6, 4, 3))
    np.testing.assert_array_equal(np.asarray(array_to_img(x)), np.asarray(keras.utils.array_to_img(x)))
    np.testing.assert_array_equal(np.asarray(array_to_img(x.transpose(2, 0, 1), data_format="channels_first")),
                                  np.asarray(keras.utils.array_to_img(x.transpose(2, 0, 1), data_format="channels_first")))
    assert array_to_img(torch.rand(4, 4, 1) * 1000, scale=False).mode == "I"
    with pytest.raises(ValueError, match="rank 3"):
        array_to_img(np.zeros((4, 4)))
    with pytest.raises(ValueError, match="channel number: 2"):
        array_to_img(np.zeros((4, 4, 2)))
    with pytest.raises(ValueError, match="color_mode='cmyk'"):
        buf = io.BytesIO()
        save_img(buf, np.zeros((2, 2, 3)), file_format="png")
        buf.seek(0)
        load_img(buf, color_mode="cmyk")
    with pytest.raises(TypeError, match="path should be path-like"):
        load_img(123)
    buf = io.BytesIO()
    with pytest.warns(UserWarning, match="RGBA"):
        save_img(buf, np.zeros((2, 2, 4)), file_format="jpg")
