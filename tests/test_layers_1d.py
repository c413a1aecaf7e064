"""The 1-D layer family (Conv1D, Conv1DTranspose, SeparableConv1D,
DepthwiseConv1D, MaxPooling1D, AveragePooling1D, the global 1-D poolings,
UpSampling1D, ZeroPadding1D, Cropping1D, RepeatVector, SpatialDropout1D) through the layer harness against Keras 3 (torch backend),
a numpy reference where Keras's torch backend differs, and small models."""

import math

import numpy as np
import pytest
import torch

import kerasish
from kerasish import layers as L
from kerasish.layers import args as A

from conftest import assert_close_f32, to_numpy

RNG = np.random.default_rng(18)


def _x(steps, c=3, channels_first=False, batch=2):
    x = RNG.standard_normal((batch, steps, c)).astype("float32")
    return np.ascontiguousarray(x.transpose(0, 2, 1)) if channels_first else x


def _random_weights(shapes):
    rng = np.random.default_rng(7)
    return [rng.standard_normal(s).astype("float32") * 0.5 for s in shapes]


# --- Conv1D -------------------------------------------------------------

CONV_CASES = [
    # kernel, strides, dilation, padding, steps
    (3, 1, 1, "valid", 10),
    (3, 1, 1, "same", 10),
    (4, 1, 1, "same", 9),     # even kernel: the odd step of padding at the end
    (3, 2, 1, "same", 10),
    (4, 3, 1, "same", 11),
    (3, 2, 1, "valid", 11),
    (3, 1, 2, "valid", 12),
    (3, 1, 2, "same", 12),
    (3, 1, 1, "causal", 9),
    (2, 1, 3, "causal", 9),
    (3, 2, 1, "causal", 10),
    (1, 1, 1, "same", 5),
]


@pytest.mark.parametrize("k,s,d,p,steps", CONV_CASES, ids=[f"k{k}s{s}d{d}-{p}-{n}" for k, s, d, p, n in CONV_CASES])
@pytest.mark.parametrize("df", ["channels_last", "channels_first"])
def test_conv1d_parity(layer_test, k, s, d, p, steps, df):
    kw = dict(filters=4, kernel_size=k, strides=s, dilation_rate=d, padding=p, data_format=df)
    layer_test(L.Conv1D, kw, input_data=_x(steps, 3, df == "channels_first"), keras_parity=True, weights=_random_weights,
               expected_num_trainable_weights=2, expected_num_non_trainable_weights=0, expected_num_losses=0)


@pytest.mark.parametrize("groups,cin,filters", [(2, 4, 6), (3, 6, 3)])
@pytest.mark.parametrize("df", ["channels_last", "channels_first"])
def test_conv1d_groups(layer_test, groups, cin, filters, df):
    kw = dict(filters=filters, kernel_size=3, padding="same", strides=2, groups=groups, data_format=df)
    result = layer_test(L.Conv1D, kw, input_data=_x(9, cin, df == "channels_first"), keras_parity=True, weights=_random_weights,
                        expected_num_trainable_weights=2)
    assert tuple(result.layer.kernel.shape) == (3, cin // groups, filters)


@pytest.mark.parametrize("act", ["relu", "softmax", "tanh"])
def test_conv1d_activation_no_bias(layer_test, act):
    kw = dict(filters=5, kernel_size=2, padding="causal", activation=act, use_bias=False)
    result = layer_test(L.Conv1D, kw, input_data=_x(7, 3), keras_parity=True, weights=_random_weights,
                        expected_num_trainable_weights=1)
    assert [w.name for w in result.layer.weights] == ["kernel"]


def test_conv1d_is_nn_conv1d_with_keras_kernel_layout():
    layer = L.Conv1D(6, 5, groups=2)
    layer.build((None, 20, 4))
    assert isinstance(layer._torch_module, torch.nn.Conv1d)
    assert tuple(layer.kernel.shape) == (5, 2, 6)
    assert tuple(layer._torch_module.weight.shape) == (6, 2, 5)
    k = np.arange(60, dtype="float32").reshape(5, 2, 6)
    layer.kernel.assign(k)
    np.testing.assert_array_equal(to_numpy(layer._torch_module.weight), k.transpose(2, 1, 0))


def test_conv1d_causal_sees_only_the_past():
    layer = L.Conv1D(1, 3, padding="causal", use_bias=False, kernel_initializer="ones")
    x = np.zeros((1, 6, 1), "float32")
    x[0, 3, 0] = 1.0
    y = to_numpy(layer(x))[0, :, 0]
    np.testing.assert_array_equal(y, [0, 0, 0, 1, 1, 1])


def test_conv1d_bad_input():
    with pytest.raises(ValueError, match="padding"):
        L.Conv1D(2, 3, padding="full")
    with pytest.raises(ValueError, match="divisible by `groups`"):
        L.Conv1D(3, 3, groups=2)
    with pytest.raises(ValueError, match="dilation_rate"):
        L.Conv1D(3, 3, strides=2, dilation_rate=2)
    with pytest.raises(ValueError, match="3-D input"):
        L.Conv1D(3, 3)(np.zeros((2, 5, 5, 1)))
    with pytest.raises(ValueError, match="longer than"):
        L.Conv1D(3, 5)(np.zeros((2, 4, 1)))
    with pytest.raises(ValueError, match="not divisible by groups"):
        L.Conv1D(4, 3, groups=2)(np.zeros((2, 5, 3)))
    with pytest.raises(ValueError, match="kernel_size"):
        L.Conv1D(4, (3, 3))


# --- Conv1DTranspose, SeparableConv1D, DepthwiseConv1D -----------------

TRANSPOSE_CASES = [
    # kernel, strides, padding, output_padding, dilation, steps
    (3, 1, "valid", None, 1, 6),
    (3, 2, "same", None, 1, 5),
    (4, 3, "valid", None, 1, 4),
    (3, 2, "same", 1, 1, 5),
    (2, 3, "valid", 2, 1, 4),
    (5, 4, "same", None, 1, 3),
    (3, 1, "same", None, 2, 7),
]


@pytest.mark.parametrize("k,s,p,op,d,steps", TRANSPOSE_CASES, ids=[f"k{c[0]}s{c[1]}-{c[2]}-op{c[3]}-d{c[4]}" for c in TRANSPOSE_CASES])
@pytest.mark.parametrize("df", ["channels_last", "channels_first"])
def test_conv1d_transpose_parity(layer_test, k, s, p, op, d, steps, df):
    kw = dict(filters=4, kernel_size=k, strides=s, padding=p, output_padding=op, dilation_rate=d, data_format=df)
    result = layer_test(L.Conv1DTranspose, kw, input_data=_x(steps, 3, df == "channels_first"), keras_parity=True,
                        weights=_random_weights, expected_num_trainable_weights=2)
    assert tuple(result.layer.kernel.shape) == (k, 4, 3)


def test_conv1d_transpose_layout_and_errors():
    layer = L.Conv1DTranspose(5, 3, strides=2, activation="relu")
    layer.build((None, 6, 2))
    assert isinstance(layer._torch_module, torch.nn.ConvTranspose1d)
    k = RNG.standard_normal((3, 5, 2)).astype("float32")
    layer.kernel.assign(k)
    np.testing.assert_array_equal(to_numpy(layer._torch_module.weight), k.transpose(2, 1, 0))
    assert L.Convolution1DTranspose is L.Conv1DTranspose
    with pytest.raises(ValueError, match="output_padding"):
        L.Conv1DTranspose(2, 3, strides=2, output_padding=2)
    with pytest.raises(ValueError, match="padding"):
        L.Conv1DTranspose(2, 3, padding="causal")
    with pytest.raises(ValueError, match="3-D input"):
        L.Conv1DTranspose(2, 3)(np.zeros((1, 4, 4, 2)))


SEPARABLE_CASES = [
    # kernel, strides, dilation, padding, depth_multiplier, steps
    (3, 1, 1, "valid", 1, 9),
    (3, 2, 1, "same", 2, 10),
    (4, 1, 1, "same", 1, 9),
    (3, 1, 2, "same", 3, 10),
    (2, 3, 1, "valid", 2, 11),
]


@pytest.mark.parametrize("k,s,d,p,m,steps", SEPARABLE_CASES, ids=[f"k{c[0]}s{c[1]}d{c[2]}-{c[3]}-m{c[4]}" for c in SEPARABLE_CASES])
@pytest.mark.parametrize("df", ["channels_last", "channels_first"])
def test_separable_and_depthwise_conv1d_parity(layer_test, k, s, d, p, m, steps, df):
    x = _x(steps, 3, df == "channels_first")
    common = dict(kernel_size=k, strides=s, dilation_rate=d, padding=p, depth_multiplier=m, data_format=df)
    sep = layer_test(L.SeparableConv1D, dict(filters=4, **common), input_data=x, keras_parity=True, weights=_random_weights,
                     expected_num_trainable_weights=3)
    assert [tuple(w.shape) for w in sep.layer.weights] == [(k, 3, m), (1, 3 * m, 4), (4,)]
    dw = layer_test(L.DepthwiseConv1D, common, input_data=x, keras_parity=True, weights=_random_weights,
                    expected_num_trainable_weights=2)
    assert [tuple(w.shape) for w in dw.layer.weights] == [(k, 3, m), (3 * m,)]


def test_separable_and_depthwise_conv1d_modules_and_errors(layer_test):
    layer_test(L.SeparableConv1D, dict(filters=2, kernel_size=2, activation="softmax", use_bias=False), input_data=_x(6, 3),
               keras_parity=True, weights=_random_weights, expected_num_trainable_weights=2)
    layer = L.DepthwiseConv1D(3, depth_multiplier=2)
    layer.build((None, 8, 3))
    conv = layer._torch_module
    assert isinstance(conv, torch.nn.Conv1d) and conv.groups == 3 and tuple(conv.weight.shape) == (6, 1, 3)
    k = np.arange(18, dtype="float32").reshape(3, 3, 2)
    layer.kernel.assign(k)
    # torch's output channel i * mult + m is Keras's kernel[:, i, m]
    np.testing.assert_array_equal(to_numpy(conv.weight)[:, 0, :], k.reshape(3, 6).T)
    layer = L.SeparableConv1D(4, 3)
    layer.build((None, 8, 3))
    assert list(dict(layer._torch_module.named_children())) == ["depthwise", "pointwise"]
    assert L.SeparableConvolution1D is L.SeparableConv1D
    with pytest.raises(ValueError, match="padding"):
        L.SeparableConv1D(2, 3, padding="causal")
    with pytest.raises(ValueError, match="depth_multiplier"):
        L.DepthwiseConv1D(3, depth_multiplier=0)
    with pytest.raises(ValueError, match="longer than"):
        L.DepthwiseConv1D(5)(np.zeros((1, 4, 2)))


# --- MaxPooling1D / AveragePooling1D ------------------------------------

def np_pool1d(x, pool, stride, padding, mode):
    """TensorFlow's 1-D pooling on (batch, steps, channels): 'same' pads with
    the odd step at the end, and the padding is left out of maxima and averages."""
    n, steps, c = x.shape
    if padding == "same":
        lo, hi = A.same_padding(steps, pool, stride)
        out_len = math.ceil(steps / stride)
    else:
        lo = hi = 0
        out_len = (steps - pool) // stride + 1
    xp = np.pad(x.astype("float64"), ((0, 0), (lo, hi), (0, 0)), constant_values=np.nan)
    out = np.empty((n, out_len, c))
    for i in range(out_len):
        win = xp[:, i * stride:i * stride + pool, :]
        out[:, i, :] = np.nanmax(win, axis=1) if mode == "max" else np.nanmean(win, axis=1)
    return out


POOL_CASES = [(2, None, "valid", 10), (3, None, "valid", 10), (3, 1, "same", 7), (2, 1, "same", 7), (3, 2, "same", 10),
              (2, 2, "same", 9), (4, 3, "same", 11), (3, 2, "valid", 9)]


@pytest.mark.parametrize("p,s,pad,steps", POOL_CASES, ids=[f"p{p}s{s}-{pad}-{n}" for p, s, pad, n in POOL_CASES])
@pytest.mark.parametrize("df", ["channels_last", "channels_first"])
@pytest.mark.parametrize("cls,mode", [("MaxPooling1D", "max"), ("AveragePooling1D", "avg")])
def test_pooling1d(layer_test, cls, mode, p, s, pad, steps, df):
    kw = dict(pool_size=p, strides=s, padding=pad, data_format=df)
    x = _x(steps, 3, df == "channels_first")
    ref = np_pool1d(x if df == "channels_last" else x.transpose(0, 2, 1), p, s or p, pad, mode)
    if df == "channels_first":
        ref = ref.transpose(0, 2, 1)
    lo, hi = A.same_padding(steps, p, s or p) if pad == "same" else (0, 0)
    # Keras 3's torch backend pads uneven 'same' averages by replicating the
    # edge (keras-team/keras#23233): there the numpy reference decides.
    parity = mode == "max" or lo == hi
    result = layer_test(getattr(L, cls), kw, input_data=x, keras_parity=parity, expected_output_shape=ref.shape,
                        expected_num_trainable_weights=0, expected_num_non_trainable_weights=0)
    assert_close_f32(to_numpy(result.output), ref, terms=p)


def test_pooling1d_modules_and_defaults():
    assert L.MaxPooling1D().pool_size == (2,) and L.MaxPooling1D().strides == (2,)
    assert L.AveragePooling1D().pool_size == (2,)
    assert L.MaxPool1D is L.MaxPooling1D and L.AvgPool1D is L.AveragePooling1D
    layer = L.MaxPooling1D(3)
    layer.build((None, 9, 2))
    assert isinstance(layer._torch_module, torch.nn.MaxPool1d)
    layer = L.AveragePooling1D(3)
    layer.build((None, 9, 2))
    assert isinstance(layer._torch_module, torch.nn.AvgPool1d)


def test_pooling1d_bad_input():
    with pytest.raises(ValueError, match="padding"):
        L.MaxPooling1D(2, padding="causal")
    with pytest.raises(ValueError, match="3-D input"):
        L.MaxPooling1D(2)(np.zeros((2, 4, 4, 1)))
    with pytest.raises(ValueError, match="longer than"):
        L.AveragePooling1D(5)(np.zeros((2, 4, 1)))
    with pytest.raises(ValueError, match="pool_size"):
        L.MaxPooling1D(0)


# --- GlobalAveragePooling1D / GlobalMaxPooling1D ------------------------

@pytest.mark.parametrize("cls", ["GlobalAveragePooling1D", "GlobalMaxPooling1D"])
@pytest.mark.parametrize("df", ["channels_last", "channels_first"])
@pytest.mark.parametrize("keepdims", [False, True])
def test_global_pooling1d_parity(layer_test, cls, df, keepdims):
    x = _x(7, 4, df == "channels_first")
    got = to_numpy(layer_test(getattr(L, cls), dict(data_format=df, keepdims=keepdims), input_data=x, keras_parity=True,
                              expected_num_trainable_weights=0).output)
    axis = 1 if df == "channels_last" else 2
    ref = x.mean(axis=axis, keepdims=keepdims) if "Average" in cls else x.max(axis=axis, keepdims=keepdims)
    assert_close_f32(got, ref, terms=7)


@pytest.mark.parametrize("df", ["channels_last", "channels_first"])
@pytest.mark.parametrize("keepdims", [False, True])
def test_global_average_pooling1d_mask_matches_keras(keras, df, keepdims):
    x = _x(6, 3, df == "channels_first")
    mask = np.array([[True, True, False, True, False, False], [True] * 6])
    got = to_numpy(L.GlobalAveragePooling1D(df, keepdims)(x, mask=mask))
    want = to_numpy(keras.layers.GlobalAveragePooling1D(df, keepdims)(x, mask=mask))
    assert_close_f32(got, want, terms=6)
    seq = x if df == "channels_last" else x.transpose(0, 2, 1)
    assert_close_f32(got.reshape(2, 3)[0], seq[0, [0, 1, 3]].mean(axis=0), terms=6)
    assert L.GlobalAveragePooling1D().supports_masking
    assert L.GlobalAveragePooling1D().compute_mask(x, mask) is None


def test_global_pooling1d_bad_input():
    with pytest.raises(ValueError, match="3-D input"):
        L.GlobalMaxPooling1D()(np.zeros((2, 4)))
    with pytest.raises(ValueError, match="`mask` must have shape"):
        L.GlobalAveragePooling1D()(np.zeros((2, 4, 3)), mask=np.ones((2, 5), bool))
    assert L.GlobalAvgPool1D is L.GlobalAveragePooling1D and L.GlobalMaxPool1D is L.GlobalMaxPooling1D


# --- UpSampling1D, ZeroPadding1D, Cropping1D, RepeatVector --------------

@pytest.mark.parametrize("size", [1, 2, 3])
def test_up_sampling1d(layer_test, size):
    x = _x(4, 3)
    got = to_numpy(layer_test(L.UpSampling1D, dict(size=size), input_data=x, keras_parity=True,
                              expected_num_trainable_weights=0).output)
    np.testing.assert_array_equal(got, np.repeat(x, size, axis=1))


@pytest.mark.parametrize("padding", [1, (0, 2), (3, 1)])
@pytest.mark.parametrize("df", ["channels_last", "channels_first"])
def test_zero_padding1d(layer_test, padding, df):
    x = _x(5, 3, df == "channels_first")
    got = to_numpy(layer_test(L.ZeroPadding1D, dict(padding=padding, data_format=df), input_data=x, keras_parity=True,
                              expected_num_trainable_weights=0).output)
    lo, hi = (padding, padding) if isinstance(padding, int) else padding
    pads = ((0, 0), (lo, hi), (0, 0)) if df == "channels_last" else ((0, 0), (0, 0), (lo, hi))
    np.testing.assert_array_equal(got, np.pad(x, pads))


@pytest.mark.parametrize("cropping", [1, (0, 2), (3, 0), (1, 1)])
def test_cropping1d(layer_test, cropping):
    x = _x(6, 3)
    got = to_numpy(layer_test(L.Cropping1D, dict(cropping=cropping), input_data=x, keras_parity=True,
                              expected_num_trainable_weights=0).output)
    lo, hi = (cropping, cropping) if isinstance(cropping, int) else cropping
    np.testing.assert_array_equal(got, x[:, lo:6 - hi])


@pytest.mark.parametrize("n", [1, 4])
def test_repeat_vector(layer_test, n):
    x = RNG.standard_normal((3, 5)).astype("float32")
    got = to_numpy(layer_test(L.RepeatVector, dict(n=n), input_data=x, keras_parity=True, expected_output_shape=(3, n, 5),
                              expected_num_trainable_weights=0).output)
    np.testing.assert_array_equal(got, np.repeat(x[:, None], n, axis=1))


def test_reshaping1d_bad_input():
    with pytest.raises(TypeError, match="size"):
        L.UpSampling1D(2.0)
    with pytest.raises(ValueError, match="size"):
        L.UpSampling1D(0)
    with pytest.raises(TypeError, match="`n`"):
        L.RepeatVector("3")
    with pytest.raises(ValueError, match="`n`"):
        L.RepeatVector(0)
    with pytest.raises(ValueError, match="2-D input"):
        L.RepeatVector(2)(np.zeros((2, 3, 4)))
    with pytest.raises(ValueError, match="padding"):
        L.ZeroPadding1D(-1)
    with pytest.raises(ValueError, match="smaller than the input length"):
        L.Cropping1D((2, 3))(np.zeros((1, 5, 2)))
    with pytest.raises(ValueError, match="3-D input"):
        L.UpSampling1D()(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="3-D input"):
        L.ZeroPadding1D()(np.zeros((2, 3)))


# --- SpatialDropout1D ---------------------------------------------------

def test_spatial_dropout1d(layer_test):
    x = np.ones((4, 6, 8), "float32")
    layer_test(L.SpatialDropout1D, dict(rate=0.5), input_data=x, keras_parity=True, expected_output=x,
               expected_num_trainable_weights=0, run_training_check=False)
    for seed in (None, 3):
        layer = L.SpatialDropout1D(0.5, seed=seed)
        assert isinstance(layer._torch_module, torch.nn.Dropout1d)
        y = to_numpy(layer(x, training=True))
        # whole channels of each sample are dropped at every step, the rest scaled by 2
        assert (((y == 0).all(axis=1)) | ((y == 2).all(axis=1))).all()
        assert (y == 0).any() and (y == 2).any()
    a = to_numpy(L.SpatialDropout1D(0.5, seed=3)(x, training=True))
    b = to_numpy(L.SpatialDropout1D(0.5, seed=3)(x, training=True))
    np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="3-D input"):
        L.SpatialDropout1D(0.5)(np.ones((2, 4, 4, 3)))


# --- in models ----------------------------------------------------------

@pytest.mark.parametrize("shape", [(2, 5, 3), (2, 3, 2, 2, 3)])
def test_flatten_over_rank_3_and_5(layer_test, shape):
    x = RNG.standard_normal(shape).astype("float32")
    for df in ("channels_last", "channels_first"):
        layer_test(L.Flatten, dict(data_format=df), input_data=x, keras_parity=True)


def _copy_weights(model, keras_model):
    for ours, theirs in zip(model.layers, keras_model.layers):
        ws = [np.asarray(to_numpy(w)) for w in theirs.get_weights()]
        rng = np.random.default_rng(len(ws))
        ws = [w + 0.1 * rng.standard_normal(w.shape).astype("float32") for w in ws]  # biases not all zero
        theirs.set_weights(ws)
        ours.set_weights(ws)


def _both(keras, build):
    return build(kerasish), build(keras)


@pytest.mark.parametrize("df", ["channels_last", "channels_first"])
def test_sequential_conv_pool_gap_dense_matches_keras(keras, df):
    def build(k):
        return k.Sequential([
            k.Input((20, 4) if df == "channels_last" else (4, 20)),
            k.layers.Conv1D(8, 3, padding="causal", activation="relu", data_format=df),
            k.layers.MaxPooling1D(2, padding="same", data_format=df),
            k.layers.Conv1D(6, 3, strides=2, padding="same", data_format=df),
            k.layers.GlobalAveragePooling1D(data_format=df),
            k.layers.Dense(3, activation="softmax"),
        ])

    model, keras_model = _both(keras, build)
    _copy_weights(model, keras_model)
    x = _x(20, 4, df == "channels_first", batch=5)
    got = to_numpy(model.predict(x, verbose=0))
    want = to_numpy(keras_model.predict(x, verbose=0))
    assert got.shape == (5, 3)
    assert_close_f32(got, want, terms=24, depth=3)


def test_sequential_conv_flatten_dense_matches_keras(keras):
    def build(k):
        return k.Sequential([
            k.Input((12, 3)),
            k.layers.Conv1D(5, 4, activation="tanh"),
            k.layers.Flatten(),
            k.layers.Dense(2),
        ])

    model, keras_model = _both(keras, build)
    _copy_weights(model, keras_model)
    x = _x(12, 3, batch=4)
    assert_close_f32(to_numpy(model(x)), to_numpy(keras_model(x)), terms=45, depth=2)


def test_functional_conv1d_concatenate_and_training(keras):
    def build(k):
        inp = k.Input((16, 3))
        a = k.layers.Conv1D(4, 3, padding="same", name="a")(inp)
        b = k.layers.Conv1D(2, 5, padding="causal", dilation_rate=2, name="b")(inp)
        h = k.layers.Concatenate()([a, b])
        h = k.layers.AveragePooling1D(2)(h)
        h = k.layers.UpSampling1D(2)(h)
        h = k.layers.GlobalMaxPooling1D()(h)
        return k.Model(inp, k.layers.Dense(1)(h))

    model, keras_model = _both(keras, build)
    _copy_weights(model, keras_model)
    x = _x(16, 3, batch=6)
    assert_close_f32(to_numpy(model(x)), to_numpy(keras_model(x)), terms=24, depth=3)
    # trains and round-trips through a .keras file
    model.compile("adam", "mse")
    y = RNG.standard_normal((6, 1)).astype("float32")
    history = model.fit(x, y, epochs=3, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_loads_a_keras_file_with_the_1d_layers(keras, tmp_path):
    inp = keras.Input((12, 3))
    h = keras.layers.ZeroPadding1D((1, 2))(inp)
    h = keras.layers.Conv1D(4, 3, padding="causal", groups=1, name="c")(h)
    h = keras.layers.Cropping1D(1)(h)
    h = keras.layers.SpatialDropout1D(0.2)(h)
    h = keras.layers.MaxPool1D(2)(h)
    h = keras.layers.GlobalAvgPool1D()(h)
    h = keras.layers.RepeatVector(2)(h)
    out = keras.layers.Flatten()(h)
    keras_model = keras.Model(inp, out)
    path = str(tmp_path / "seq.keras")
    keras_model.save(path)
    model = kerasish.saving.load_model(path)
    x = _x(12, 3, batch=3)
    assert_close_f32(to_numpy(model(x)), to_numpy(keras_model(x)), terms=12)


def test_embedding_of_rank3_ids_keeps_keras_axis_order(keras):
    ids = np.random.default_rng(0).integers(0, 10, size=(2, 3, 5))
    theirs = keras.layers.Embedding(10, 4)
    ref = theirs(ids)
    ours = L.Embedding(10, 4)
    ours(ids)
    ours.set_weights([np.asarray(w) for w in theirs.get_weights()])
    np.testing.assert_allclose(to_numpy(ours(ids)), to_numpy(ref), rtol=1e-6)
    inputs = kerasish.Input((3, 5), dtype="int64")
    model = kerasish.Model(inputs, ours(inputs))
    assert model.output_shape == (None, 3, 5, 4)
    np.testing.assert_allclose(to_numpy(model(ids)), to_numpy(ref), rtol=1e-6)
