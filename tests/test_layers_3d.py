"""The 3-D layer family (Conv3D, Conv3DTranspose, MaxPooling3D,
AveragePooling3D, the global 3-D poolings, UpSampling3D, ZeroPadding3D,
Cropping3D, SpatialDropout3D) through the layer harness against Keras 3
(torch backend), numpy references, and small models; Flatten of volumes."""

import itertools
import math

import numpy as np
import pytest
import torch

import kerasish
from kerasish import layers as L
from kerasish.layers import args as A

from conftest import assert_close_f32, to_numpy

RNG = np.random.default_rng(33)


def _x(spatial, c=2, channels_first=False, batch=2):
    x = RNG.standard_normal((batch, *spatial, c)).astype("float32")
    return np.ascontiguousarray(np.moveaxis(x, -1, 1)) if channels_first else x


def _random_weights(shapes):
    rng = np.random.default_rng(5)
    return [rng.standard_normal(s).astype("float32") * 0.5 for s in shapes]


# --- Conv3D -------------------------------------------------------------

CONV_CASES = [
    # kernel, strides, dilation, padding, spatial
    (3, 1, 1, "valid", (5, 6, 7)),
    (3, 1, 1, "same", (5, 6, 4)),
    ((2, 3, 4), 1, 1, "same", (5, 5, 6)),   # even kernels: the odd element of padding at the end
    (3, 2, 1, "same", (5, 6, 7)),
    ((3, 2, 3), (2, 1, 3), 1, "valid", (7, 5, 8)),
    (2, 1, (2, 1, 2), "same", (5, 4, 6)),
]


@pytest.mark.parametrize("k,s,d,p,spatial", CONV_CASES, ids=[f"case{i}" for i in range(len(CONV_CASES))])
@pytest.mark.parametrize("df", ["channels_last", "channels_first"])
def test_conv3d_parity(layer_test, k, s, d, p, spatial, df):
    kw = dict(filters=3, kernel_size=k, strides=s, dilation_rate=d, padding=p, data_format=df)
    layer_test(L.Conv3D, kw, input_data=_x(spatial, 2, df == "channels_first"), keras_parity=True, weights=_random_weights,
               expected_num_trainable_weights=2, expected_num_non_trainable_weights=0, expected_num_losses=0)


def test_conv3d_groups_activation_no_bias(layer_test):
    kw = dict(filters=6, kernel_size=2, groups=2, activation="relu", use_bias=False, padding="same", strides=2)
    result = layer_test(L.Conv3D, kw, input_data=_x((4, 5, 3), 4), keras_parity=True, weights=_random_weights,
                        expected_num_trainable_weights=1)
    assert tuple(result.layer.kernel.shape) == (2, 2, 2, 2, 6)
    layer_test(L.Conv3D, dict(filters=4, kernel_size=1, activation="softmax"), input_data=_x((2, 3, 2), 3), keras_parity=True,
               weights=_random_weights)


def test_conv3d_is_nn_conv3d_with_keras_kernel_layout():
    layer = L.Conv3D(4, (2, 3, 1))
    layer.build((None, 5, 5, 5, 3))
    assert isinstance(layer._torch_module, torch.nn.Conv3d)
    assert tuple(layer.kernel.shape) == (2, 3, 1, 3, 4)
    k = np.arange(72, dtype="float32").reshape(2, 3, 1, 3, 4)
    layer.kernel.assign(k)
    np.testing.assert_array_equal(to_numpy(layer._torch_module.weight), k.transpose(4, 3, 0, 1, 2))
    np.testing.assert_array_equal(to_numpy(layer.kernel), k)
    assert L.Convolution3D is L.Conv3D


def test_conv3d_bad_input():
    with pytest.raises(ValueError, match="padding"):
        L.Conv3D(2, 3, padding="causal")
    with pytest.raises(ValueError, match="divisible by `groups`"):
        L.Conv3D(3, 3, groups=2)
    with pytest.raises(ValueError, match="dilation_rate"):
        L.Conv3D(3, 3, strides=2, dilation_rate=2)
    with pytest.raises(ValueError, match="kernel_size"):
        L.Conv3D(3, (3, 3))
    with pytest.raises(ValueError, match="5-D input"):
        L.Conv3D(3, 3)(np.zeros((2, 5, 5, 1)))
    with pytest.raises(ValueError, match="larger than"):
        L.Conv3D(3, 3)(np.zeros((1, 4, 2, 4, 1)))
    with pytest.raises(ValueError, match="not divisible by groups"):
        L.Conv3D(4, 3, groups=2)(np.zeros((1, 5, 5, 5, 3)))
    layer = L.Conv3D(2, 1)
    layer(np.zeros((1, 2, 2, 2, 3), "float32"))
    with pytest.raises(ValueError, match="built for 3 input channels"):
        layer(np.zeros((1, 2, 2, 2, 4), "float32"))


# --- Conv3DTranspose ----------------------------------------------------

TRANSPOSE_CASES = [
    # kernel, strides, padding, output_padding, dilation, spatial
    (3, 1, "valid", None, 1, (3, 4, 2)),
    (3, 2, "same", None, 1, (3, 4, 2)),
    ((2, 3, 4), (2, 1, 3), "valid", None, 1, (2, 3, 2)),
    (3, 2, "same", 1, 1, (2, 3, 3)),
    ((3, 2, 2), 3, "valid", (2, 1, 0), 1, (2, 2, 3)),
    (2, 1, "same", None, 2, (3, 3, 4)),
]


@pytest.mark.parametrize("k,s,p,op,d,spatial", TRANSPOSE_CASES, ids=[f"case{i}" for i in range(len(TRANSPOSE_CASES))])
@pytest.mark.parametrize("df", ["channels_last", "channels_first"])
def test_conv3d_transpose_parity(layer_test, k, s, p, op, d, spatial, df):
    kw = dict(filters=3, kernel_size=k, strides=s, padding=p, output_padding=op, dilation_rate=d, data_format=df)
    result = layer_test(L.Conv3DTranspose, kw, input_data=_x(spatial, 4, df == "channels_first"), keras_parity=True,
                        weights=_random_weights, expected_num_trainable_weights=2)
    kernel = A.normalize_tuple(k, 3, "k", "t")
    assert tuple(result.layer.kernel.shape) == (*kernel, 3, 4)


def test_conv3d_transpose_layout_and_errors():
    layer = L.Conv3DTranspose(5, (1, 2, 3), strides=2)
    layer.build((None, 3, 3, 3, 2))
    assert isinstance(layer._torch_module, torch.nn.ConvTranspose3d)
    k = RNG.standard_normal((1, 2, 3, 5, 2)).astype("float32")
    layer.kernel.assign(k)
    np.testing.assert_array_equal(to_numpy(layer._torch_module.weight), k.transpose(4, 3, 0, 1, 2))
    assert L.Convolution3DTranspose is L.Conv3DTranspose
    with pytest.raises(ValueError, match="output_padding"):
        L.Conv3DTranspose(2, 3, strides=2, output_padding=2)
    with pytest.raises(ValueError, match="5-D input"):
        L.Conv3DTranspose(2, 3)(np.zeros((1, 4, 4, 2)))


# --- MaxPooling3D / AveragePooling3D ------------------------------------

def np_pool3d(x, pool, stride, padding, mode):
    """TensorFlow's 3-D pooling on (batch, d, h, w, c): 'same' pads with the odd
    element at the end, and the padding is left out of maxima and averages."""
    spatial = x.shape[1:4]
    if padding == "same":
        pads = [A.same_padding(n, p, s) for n, p, s in zip(spatial, pool, stride)]
        out = [math.ceil(n / s) for n, s in zip(spatial, stride)]
    else:
        pads = [(0, 0)] * 3
        out = [(n - p) // s + 1 for n, p, s in zip(spatial, pool, stride)]
    xp = np.pad(x.astype("float64"), ((0, 0), *pads, (0, 0)), constant_values=np.nan)
    res = np.empty((x.shape[0], *out, x.shape[4]))
    for i, j, k in itertools.product(*(range(o) for o in out)):
        win = xp[:, i * stride[0]:i * stride[0] + pool[0], j * stride[1]:j * stride[1] + pool[1], k * stride[2]:k * stride[2] + pool[2]]
        res[:, i, j, k] = np.nanmax(win, axis=(1, 2, 3)) if mode == "max" else np.nanmean(win, axis=(1, 2, 3))
    return res


POOL_CASES = [
    (2, None, "valid", (4, 5, 6)),
    ((3, 2, 2), None, "valid", (6, 5, 4)),
    (3, 1, "same", (4, 3, 5)),
    (2, 1, "same", (3, 4, 3)),
    (3, 2, "same", (5, 6, 4)),
    ((2, 3, 1), (1, 2, 1), "same", (3, 5, 2)),
]


@pytest.mark.parametrize("p,s,pad,spatial", POOL_CASES, ids=[f"case{i}" for i in range(len(POOL_CASES))])
@pytest.mark.parametrize("df", ["channels_last", "channels_first"])
@pytest.mark.parametrize("cls,mode", [("MaxPooling3D", "max"), ("AveragePooling3D", "avg")])
def test_pooling3d(layer_test, cls, mode, p, s, pad, spatial, df):
    kw = dict(pool_size=p, strides=s, padding=pad, data_format=df)
    x = _x(spatial, 2, df == "channels_first")
    pool = A.normalize_tuple(p, 3, "p", "t")
    stride = pool if s is None else A.normalize_tuple(s, 3, "s", "t")
    ref = np_pool3d(x if df == "channels_last" else np.moveaxis(x, 1, -1), pool, stride, pad, mode)
    if df == "channels_first":
        ref = np.moveaxis(ref, -1, 1)
    pads = [A.same_padding(n, q, t) for n, q, t in zip(spatial, pool, stride)] if pad == "same" else [(0, 0)] * 3
    # Keras 3's torch backend pads uneven 'same' averages by replicating the
    # edge (keras-team/keras#23233): there the numpy reference decides.
    parity = mode == "max" or all(lo == hi for lo, hi in pads)
    result = layer_test(getattr(L, cls), kw, input_data=x, keras_parity=parity, expected_output_shape=ref.shape,
                        expected_num_trainable_weights=0, expected_num_non_trainable_weights=0)
    assert_close_f32(to_numpy(result.output), ref, terms=math.prod(pool))


def test_pooling3d_modules_defaults_and_errors():
    assert L.MaxPooling3D().pool_size == (2, 2, 2) and L.MaxPooling3D().strides == (2, 2, 2)
    assert L.AveragePooling3D().pool_size == (2, 2, 2)
    assert L.MaxPool3D is L.MaxPooling3D and L.AvgPool3D is L.AveragePooling3D
    layer = L.MaxPooling3D(3)
    layer.build((None, 6, 6, 6, 2))
    assert isinstance(layer._torch_module, torch.nn.MaxPool3d)
    layer = L.AveragePooling3D(3)
    layer.build((None, 6, 6, 6, 2))
    assert isinstance(layer._torch_module, torch.nn.AvgPool3d)
    with pytest.raises(ValueError, match="padding"):
        L.MaxPooling3D(2, padding="causal")
    with pytest.raises(ValueError, match="5-D input"):
        L.MaxPooling3D(2)(np.zeros((2, 4, 4, 1)))
    with pytest.raises(ValueError, match="larger than"):
        L.AveragePooling3D(3)(np.zeros((1, 4, 2, 4, 1)))
    with pytest.raises(ValueError, match="pool_size"):
        L.MaxPooling3D((2, 2))


# --- GlobalAveragePooling3D / GlobalMaxPooling3D ------------------------

@pytest.mark.parametrize("cls", ["GlobalAveragePooling3D", "GlobalMaxPooling3D"])
@pytest.mark.parametrize("df", ["channels_last", "channels_first"])
@pytest.mark.parametrize("keepdims", [False, True])
def test_global_pooling3d_parity(layer_test, cls, df, keepdims):
    x = _x((3, 4, 2), 5, df == "channels_first")
    got = to_numpy(layer_test(getattr(L, cls), dict(data_format=df, keepdims=keepdims), input_data=x, keras_parity=True,
                              expected_num_trainable_weights=0).output)
    axes = (1, 2, 3) if df == "channels_last" else (2, 3, 4)
    ref = x.mean(axis=axes, keepdims=keepdims) if "Average" in cls else x.max(axis=axes, keepdims=keepdims)
    assert_close_f32(got, ref, terms=24)


def test_global_pooling3d_errors_and_aliases():
    with pytest.raises(ValueError, match="5-D input"):
        L.GlobalMaxPooling3D()(np.zeros((2, 4, 4, 3)))
    assert L.GlobalAvgPool3D is L.GlobalAveragePooling3D and L.GlobalMaxPool3D is L.GlobalMaxPooling3D


# --- UpSampling3D, ZeroPadding3D, Cropping3D ----------------------------

@pytest.mark.parametrize("size", [2, (1, 2, 3)])
@pytest.mark.parametrize("df", ["channels_last", "channels_first"])
def test_up_sampling3d(layer_test, size, df):
    x = _x((2, 3, 2), 3, df == "channels_first")
    got = to_numpy(layer_test(L.UpSampling3D, dict(size=size, data_format=df), input_data=x, keras_parity=True,
                              expected_num_trainable_weights=0).output)
    ref = x
    first = 1 if df == "channels_last" else 2
    for i, s in enumerate(A.normalize_tuple(size, 3, "size", "t")):
        ref = np.repeat(ref, s, axis=first + i)
    np.testing.assert_array_equal(got, ref)


@pytest.mark.parametrize("padding", [1, (0, 2, 1), ((1, 0), (0, 2), (3, 1))])
@pytest.mark.parametrize("df", ["channels_last", "channels_first"])
def test_zero_padding3d(layer_test, padding, df):
    x = _x((2, 3, 2), 3, df == "channels_first")
    got = to_numpy(layer_test(L.ZeroPadding3D, dict(padding=padding, data_format=df), input_data=x, keras_parity=True,
                              expected_num_trainable_weights=0).output)
    if isinstance(padding, int):
        pairs = [(padding, padding)] * 3
    else:
        pairs = [(p, p) if isinstance(p, int) else p for p in padding]
    pads = [(0, 0), *pairs, (0, 0)] if df == "channels_last" else [(0, 0), (0, 0), *pairs]
    np.testing.assert_array_equal(got, np.pad(x, pads))


@pytest.mark.parametrize("cropping", [1, (0, 2, 1), ((1, 0), (0, 2), (2, 1))])
@pytest.mark.parametrize("df", ["channels_last", "channels_first"])
def test_cropping3d(layer_test, cropping, df):
    x = _x((4, 5, 6), 2, df == "channels_first")
    got = to_numpy(layer_test(L.Cropping3D, dict(cropping=cropping, data_format=df), input_data=x, keras_parity=True,
                              expected_num_trainable_weights=0).output)
    if isinstance(cropping, int):
        pairs = [(cropping, cropping)] * 3
    else:
        pairs = [(c, c) if isinstance(c, int) else c for c in cropping]
    sl = tuple(slice(lo, n - hi) for (lo, hi), n in zip(pairs, (4, 5, 6)))
    ref = x[(slice(None), *sl)] if df == "channels_last" else x[(slice(None), slice(None), *sl)]
    np.testing.assert_array_equal(got, ref)


def test_reshaping3d_defaults_and_errors():
    assert L.ZeroPadding3D().padding == ((1, 1), (1, 1), (1, 1))
    assert L.Cropping3D().cropping == ((1, 1), (1, 1), (1, 1))
    assert L.UpSampling3D().size == (2, 2, 2)
    with pytest.raises(ValueError, match="padding"):
        L.ZeroPadding3D(-1)
    with pytest.raises(ValueError, match="3 elements"):
        L.ZeroPadding3D((1, 2))
    with pytest.raises(ValueError, match="2nd entry of cropping"):
        L.Cropping3D((1, (1, 2, 3), 1))
    with pytest.raises(ValueError, match="smaller than the corresponding"):
        L.Cropping3D(((1, 1), (2, 2), (0, 0)))(np.zeros((1, 4, 4, 4, 1)))
    with pytest.raises(ValueError, match="size"):
        L.UpSampling3D(0)
    for layer in (L.UpSampling3D(), L.ZeroPadding3D(), L.Cropping3D(0)):
        with pytest.raises(ValueError, match="5-D input"):
            layer(np.zeros((2, 3, 3, 3)))


# --- SpatialDropout3D ---------------------------------------------------

@pytest.mark.parametrize("df", ["channels_last", "channels_first"])
def test_spatial_dropout3d(layer_test, df):
    x = np.ones((4, 3, 2, 3, 8) if df == "channels_last" else (4, 8, 3, 2, 3), "float32")
    layer_test(L.SpatialDropout3D, dict(rate=0.5, data_format=df), input_data=x, keras_parity=True, expected_output=x,
               expected_num_trainable_weights=0, run_training_check=False)
    axes = (1, 2, 3) if df == "channels_last" else (2, 3, 4)
    for seed in (None, 3):
        layer = L.SpatialDropout3D(0.5, data_format=df, seed=seed)
        assert isinstance(layer._torch_module, torch.nn.Dropout3d)
        y = to_numpy(layer(x, training=True))
        # whole channels of each sample are dropped over the volume, the rest scaled by 2
        assert (((y == 0).all(axis=axes)) | ((y == 2).all(axis=axes))).all()
        assert (y == 0).any() and (y == 2).any()
    a = to_numpy(L.SpatialDropout3D(0.5, seed=3)(x, training=True))
    b = to_numpy(L.SpatialDropout3D(0.5, seed=3)(x, training=True))
    np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="5-D input"):
        L.SpatialDropout3D(0.5)(np.ones((2, 4, 4, 3)))


# --- in models ----------------------------------------------------------

def _copy_weights(model, keras_model):
    for ours, theirs in zip(model.layers, keras_model.layers):
        ws = [np.asarray(to_numpy(w)) for w in theirs.get_weights()]
        rng = np.random.default_rng(len(ws))
        ws = [w + 0.1 * rng.standard_normal(w.shape).astype("float32") for w in ws]  # biases not all zero
        theirs.set_weights(ws)
        ours.set_weights(ws)


@pytest.mark.parametrize("df", ["channels_last", "channels_first"])
def test_volume_model_matches_keras_and_trains(keras, df):
    shape = (6, 6, 6, 2) if df == "channels_last" else (2, 6, 6, 6)

    def build(k):
        inp = k.Input(shape)
        h = k.layers.ZeroPadding3D(1, data_format=df)(inp)
        h = k.layers.Conv3D(4, 3, activation="relu", data_format=df)(h)
        h = k.layers.MaxPooling3D(2, padding="same", data_format=df)(h)
        h = k.layers.UpSampling3D((1, 2, 1), data_format=df)(h)
        h = k.layers.Conv3DTranspose(3, 2, strides=2, padding="same", data_format=df)(h)
        h = k.layers.Cropping3D(((1, 1), (2, 2), (0, 1)), data_format=df)(h)
        h = k.layers.AveragePooling3D(2, data_format=df)(h)
        a = k.layers.GlobalAveragePooling3D(data_format=df)(h)
        b = k.layers.Flatten(data_format=df)(h)
        h = k.layers.Concatenate()([a, b])
        return k.Model(inp, k.layers.Dense(2, activation="softmax")(h))

    model, keras_model = build(kerasish), build(keras)
    _copy_weights(model, keras_model)
    x = RNG.standard_normal((3, *shape)).astype("float32")
    assert_close_f32(to_numpy(model.predict(x, verbose=0)), to_numpy(keras_model.predict(x, verbose=0)), terms=108, depth=4)
    model.compile("adam", "categorical_crossentropy")
    y = np.eye(2, dtype="float32")[[0, 1, 1]]
    history = model.fit(x, y, epochs=4, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_loads_a_keras_file_with_the_3d_layers(keras, tmp_path):
    inp = keras.Input((4, 5, 6, 2))
    h = keras.layers.Conv3D(3, 2, padding="same", name="c")(inp)
    h = keras.layers.SpatialDropout3D(0.2)(h)
    h = keras.layers.Conv3DTranspose(2, 3, strides=(1, 2, 1), name="t")(h)
    h = keras.layers.MaxPool3D(2)(h)
    out = keras.layers.GlobalMaxPool3D()(h)
    keras_model = keras.Model(inp, out)
    path = str(tmp_path / "vol.keras")
    keras_model.save(path)
    model = kerasish.saving.load_model(path)
    x = RNG.standard_normal((2, 4, 5, 6, 2)).astype("float32")
    assert_close_f32(to_numpy(model(x)), to_numpy(keras_model(x)), terms=60, depth=2)


@pytest.mark.parametrize("df", ["channels_last", "channels_first"])
def test_flatten_of_volumes_is_channels_last_order(layer_test, df):
    x = _x((2, 3, 2), 4, df == "channels_first")
    got = to_numpy(layer_test(L.Flatten, dict(data_format=df), input_data=x, keras_parity=True).output)
    last = x if df == "channels_last" else np.moveaxis(x, 1, -1)
    np.testing.assert_array_equal(got, last.reshape(2, -1))


@pytest.mark.parametrize("layer_cls", [L.Conv3D, L.Conv3DTranspose, L.Conv1D, L.Conv1DTranspose, L.SeparableConv1D, L.DepthwiseConv1D])
def test_strided_1x1_convolutions_of_rank_1_and_3_train(layer_cls):
    """The 2-D layers route strided 1x1 convolutions around a torch heap
    corruption in their backward on channels_last images
    (tests/test_layers_conv.py); the 1-D and 3-D ones (channels_last_3d
    volumes included) run torch's kernels as they are, and train."""
    kwargs = {"kernel_size": 1, "strides": 2}
    if layer_cls is not L.DepthwiseConv1D:
        kwargs["filters"] = 4
    rank = 3 if "3D" in layer_cls.__name__ else 1
    x = torch.randn(2, *(8,) * rank, 3, requires_grad=True)
    layer = layer_cls(**kwargs)
    for _ in range(5):
        layer(x).sum().backward()
    assert all(w.value.grad is not None and torch.isfinite(w.value.grad).all() for w in layer.trainable_weights)
