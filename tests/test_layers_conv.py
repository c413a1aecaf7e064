"""The convolutional family (Conv2D, DepthwiseConv2D, SeparableConv2D,
Conv2DTranspose) against Keras 3 (torch backend) as the oracle."""

import itertools
import warnings

import numpy as np
import pytest
import torch

import kerasish
from kerasish import layers as L

from conftest import _plain, assert_close_f32, assert_config_like_keras, to_numpy

RNG = np.random.default_rng(1234)


def _x(shape, channels_first=False, seed=None):
    """A random batch of 2 images of spatial ``shape`` (h, w, c) in the right layout."""
    rng = RNG if seed is None else np.random.default_rng(seed)
    h, w, c = shape
    x = rng.standard_normal((2, h, w, c)).astype("float32")
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2)) if channels_first else x


def _conv_cases():
    """Every kernel 1-5 x (stride, dilation) x padding, cycling input sizes,
    data formats and filter counts through the cases."""
    sizes = [(7, 8), (8, 9), (9, 7), (8, 8), (7, 7), (9, 9)]
    out = []
    combos = [(s, 1) for s in (1, 2, 3)] + [(1, 2)]
    for i, (k, (s, d), p) in enumerate(itertools.product(range(1, 6), combos, ("valid", "same"))):
        h, w = sizes[i % len(sizes)]
        if p == "valid" and (k - 1) * d + 1 > min(h, w):
            h, w = 9, 9
        out.append((k, s, d, p, (h, w), "channels_first" if i % 3 == 2 else "channels_last"))
    return out


CONV_CASES = _conv_cases()


def _ids(cases):
    return ["k{}-s{}-d{}-{}-{}x{}-{}".format(k, s, d, p, h, w, "cf" if df == "channels_first" else "cl") for k, s, d, p, (h, w), df in cases]


# ----------------------------------------------------------------------------
# Conv2D
# ----------------------------------------------------------------------------
@pytest.mark.parametrize("k,s,d,p,hw,df", CONV_CASES, ids=_ids(CONV_CASES))
def test_conv2d_parity_grid(layer_test, k, s, d, p, hw, df):
    filters = 1 + (k + s) % 4
    kw = dict(kernel_size=k, strides=s, dilation_rate=d, padding=p, data_format=df)
    x = _x(hw + (3,), df == "channels_first")
    layer_test(L.Conv2D, dict(filters=filters, **kw), input_data=x, keras_parity=True,
               expected_num_trainable_weights=2, expected_num_non_trainable_weights=0, expected_num_losses=0)


@pytest.mark.parametrize("k", [(2, 3), (4, 1), (3, 5)])
@pytest.mark.parametrize("s", [1, (2, 3), (3, 1)])
def test_conv2d_rectangular_kernels_and_strides(layer_test, k, s):
    for p in ("valid", "same"):
        kw = dict(filters=3, kernel_size=k, strides=s, padding=p)
        layer_test(L.Conv2D, kw, input_data=_x((8, 9, 2)), keras_parity=True, expected_num_trainable_weights=2)


@pytest.mark.parametrize("groups,cin,filters", [(2, 4, 6), (3, 6, 3), (6, 6, 12)])
@pytest.mark.parametrize("df", ["channels_last", "channels_first"])
def test_conv2d_groups(layer_test, groups, cin, filters, df):
    kw = dict(filters=filters, kernel_size=3, padding="same", strides=2, groups=groups, data_format=df)
    layer_test(L.Conv2D, kw, input_data=_x((9, 8, cin), df == "channels_first"), keras_parity=True, expected_num_trainable_weights=2)


@pytest.mark.parametrize("act", ["relu", "sigmoid", "tanh", "softmax", "gelu", "swish"])
@pytest.mark.parametrize("df", ["channels_last", "channels_first"])
def test_conv2d_activations_and_no_bias(layer_test, act, df):
    kw = dict(filters=4, kernel_size=3, padding="same", activation=act, use_bias=False, data_format=df)
    result = layer_test(L.Conv2D, kw, input_data=_x((7, 8, 3), df == "channels_first"), keras_parity=True,
                        expected_num_trainable_weights=1)
    assert [w.name for w in result.layer.weights] == ["kernel"]


def test_conv2d_softmax_over_channels_in_a_model():
    # softmax must run over Keras's channel axis also when the tensor is held NCHW inside a model
    inp = kerasish.Input((6, 7, 3))
    out = L.Conv2D(5, 3, padding="same", activation="softmax")(inp)
    y = to_numpy(kerasish.Model(inp, out)(_x((6, 7, 3))))
    np.testing.assert_allclose(y.sum(-1), 1.0, atol=1e-5)


SOBEL_X = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype="float32")
IMAGE = np.array([[0, 50, 0, 29], [0, 80, 31, 2], [33, 90, 0, 75], [0, 9, 0, 95]], dtype="float32")


def test_conv2d_sobel_worked_example(keras):
    layer = L.Conv2D(1, 3, use_bias=False)
    x = IMAGE.reshape(1, 4, 4, 1)
    layer(x)
    layer.set_weights([SOBEL_X.reshape(3, 3, 1, 1)])
    y = to_numpy(layer(x))[0, :, :, 0]
    # By hand (Keras convolutions are cross-correlations):
    #  top left:     [0 50 0; 0 80 31; 33 90 0]   -> (0) + (2*31) + (-33)          = 29
    #  top right:    [50 0 29; 80 31 2; 90 0 75]  -> (-50+29) + (-160+4) + (-90+75) = -192
    #  bottom left:  [0 80 31; 33 90 0; 0 9 0]    -> (31) + (-66) + (0)             = -35
    #  bottom right: [80 31 2; 90 0 75; 9 0 95]   -> (-80+2) + (-180+150) + (-9+95) = -22
    np.testing.assert_array_equal(y, [[29, -192], [-35, -22]])
    kr = keras.layers.Conv2D(1, 3, use_bias=False)
    kr.build((1, 4, 4, 1))
    kr.set_weights([SOBEL_X.reshape(3, 3, 1, 1)])
    np.testing.assert_allclose(y, to_numpy(kr(x))[0, :, :, 0], atol=1e-4)


def _np_correlate_same(img, kernel):
    kh, kw = kernel.shape
    padded = np.pad(img, ((kh // 2, kh // 2), (kw // 2, kw // 2)))
    out = np.zeros_like(img)
    for i in range(img.shape[0]):
        for j in range(img.shape[1]):
            out[i, j] = (padded[i:i + kh, j:j + kw] * kernel).sum()
    return out


def test_conv2d_laplacian_edge_filter_same_padding():
    kernel = np.array([[0, -1, 0], [-1, 4, -1], [0, -1, 0]], dtype="float32")
    img = np.random.default_rng(2).integers(0, 255, size=(9, 8)).astype("float32")
    layer = L.Conv2D(1, 3, padding="same", use_bias=False)
    layer(img.reshape(1, 9, 8, 1))
    layer.set_weights([kernel.reshape(3, 3, 1, 1)])
    y = to_numpy(layer(img.reshape(1, 9, 8, 1)))[0, :, :, 0]
    np.testing.assert_allclose(y, _np_correlate_same(img, kernel), atol=1e-3)
    # a flat image has no edges inside
    flat = np.full((1, 5, 5, 1), 7.0, dtype="float32")
    assert np.all(to_numpy(layer(flat))[0, 1:-1, 1:-1, 0] == 0)


def test_conv2d_bad_inputs():
    with pytest.raises(ValueError, match="conv2d.*4-D|Conv2D.*4-D"):
        L.Conv2D(4, 3)(kerasish.Input((10,)))
    with pytest.raises(ValueError, match="Conv2D.*kernel.*larger"):
        L.Conv2D(4, 5)(np.zeros((1, 4, 4, 1), dtype="float32"))
    with pytest.raises(ValueError, match="Conv2D.*kernel.*larger"):
        L.Conv2D(4, 3, dilation_rate=3)(kerasish.Input((6, 6, 1)))
    with pytest.raises(ValueError, match="Conv2D.*padding.*middle"):
        L.Conv2D(4, 3, padding="middle")
    with pytest.raises(ValueError, match="Conv2D.*filters"):
        L.Conv2D(0, 3)
    with pytest.raises(ValueError, match="Conv2D.*kernel_size"):
        L.Conv2D(4, 0)
    with pytest.raises(ValueError, match="Conv2D.*strides"):
        L.Conv2D(4, 3, strides=(1, 0))
    with pytest.raises(ValueError, match="Conv2D.*filters.*groups"):
        L.Conv2D(5, 3, groups=2)
    with pytest.raises(ValueError, match="Conv2D.*channels.*groups=2"):
        L.Conv2D(4, 3, groups=2)(kerasish.Input((8, 8, 3)))
    with pytest.raises(ValueError, match="Conv2D.*strides.*dilation_rate"):
        L.Conv2D(4, 3, strides=2, dilation_rate=2)
    with pytest.raises(ValueError, match="Conv2D.*data_format"):
        L.Conv2D(4, 3, data_format="channels_middle")
    layer = L.Conv2D(4, 3)
    layer(np.zeros((1, 8, 8, 3), dtype="float32"))
    with pytest.raises(ValueError, match="built for 3 input channels"):
        layer(np.zeros((1, 8, 8, 2), dtype="float32"))


# ----------------------------------------------------------------------------
# DepthwiseConv2D and SeparableConv2D
# ----------------------------------------------------------------------------
DW_CASES = CONV_CASES[::2] + [c for c in CONV_CASES[1::2] if c[3] == "same"]


@pytest.mark.parametrize("k,s,d,p,hw,df", DW_CASES, ids=_ids(DW_CASES))
def test_depthwise_conv2d_parity_grid(layer_test, k, s, d, p, hw, df):
    mult = 1 + k % 3
    kw = dict(kernel_size=k, strides=s, dilation_rate=d, padding=p, data_format=df, depth_multiplier=mult)
    x = _x(hw + (3,), df == "channels_first")
    layer_test(L.DepthwiseConv2D, kw, input_data=x, keras_parity=True,
               expected_num_trainable_weights=2, expected_num_non_trainable_weights=0)


@pytest.mark.parametrize("k,s,d,p,hw,df", DW_CASES, ids=_ids(DW_CASES))
def test_separable_conv2d_parity_grid(layer_test, k, s, d, p, hw, df):
    mult = 1 + (k + 1) % 3
    kw = dict(filters=5, kernel_size=k, strides=s, dilation_rate=d, padding=p, data_format=df, depth_multiplier=mult)
    x = _x(hw + (3,), df == "channels_first")
    layer_test(L.SeparableConv2D, kw, input_data=x, keras_parity=True,
               expected_num_trainable_weights=3, expected_num_non_trainable_weights=0)


@pytest.mark.parametrize("act", ["relu", "softmax"])
@pytest.mark.parametrize("df", ["channels_last", "channels_first"])
def test_depthwise_and_separable_activation_no_bias(layer_test, act, df):
    x = _x((7, 8, 4), df == "channels_first")
    kw = dict(kernel_size=3, padding="same", activation=act, use_bias=False, data_format=df)
    dw = layer_test(L.DepthwiseConv2D, dict(depth_multiplier=2, **kw), input_data=x, keras_parity=True, expected_num_trainable_weights=1).layer
    assert [w.name for w in dw.weights] == ["kernel"]
    sep = layer_test(L.SeparableConv2D, dict(filters=3, **kw), input_data=x, keras_parity=True, expected_num_trainable_weights=2).layer
    assert [w.name for w in sep.weights] == ["depthwise_kernel", "pointwise_kernel"]


def test_depthwise_kernel_layout():
    # Keras kernel[..., i, m] is torch output channel i * mult + m of a groups=in conv
    layer = L.DepthwiseConv2D(3, depth_multiplier=2)
    layer.build((None, 8, 8, 3))
    conv = layer.torch_module
    assert isinstance(conv, torch.nn.Conv2d) and conv.groups == 3 and tuple(conv.weight.shape) == (6, 1, 3, 3)
    k = np.arange(3 * 3 * 3 * 2, dtype="float32").reshape(3, 3, 3, 2)
    layer.set_weights([k, np.zeros(6, dtype="float32")])
    w = conv.weight.detach().numpy()
    for i in range(3):
        for m in range(2):
            np.testing.assert_array_equal(w[i * 2 + m, 0], k[:, :, i, m])
    np.testing.assert_array_equal(layer.get_weights()[0], k)
    assert layer.weights[0].shape == (3, 3, 3, 2) and layer.weights[1].shape == (6,)


def test_separable_native_module():
    layer = L.SeparableConv2D(8, 3, depth_multiplier=2, name="sep")
    layer.build((None, 10, 10, 4))
    seq = layer.torch_module
    assert isinstance(seq, torch.nn.Sequential)
    assert seq.depthwise.groups == 4 and seq.depthwise.out_channels == 8 and seq.depthwise.bias is None
    assert seq.pointwise.kernel_size == (1, 1) and seq.pointwise.out_channels == 8
    assert [tuple(w.shape) for w in layer.weights] == [(3, 3, 4, 2), (1, 1, 8, 8), (8,)]
    inp = kerasish.Input((10, 10, 4))
    model = kerasish.Model(inp, layer(inp))
    assert list(model.state_dict()) == ["sep.depthwise.weight", "sep.pointwise.weight", "sep.pointwise.bias"]


def test_depthwise_separable_bad_inputs():
    with pytest.raises(ValueError, match="DepthwiseConv2D.*depth_multiplier"):
        L.DepthwiseConv2D(3, depth_multiplier=0)
    with pytest.raises(ValueError, match="SeparableConv2D.*filters"):
        L.SeparableConv2D(0, 3)
    with pytest.raises(ValueError, match="SeparableConv2D.*padding"):
        L.SeparableConv2D(4, 3, padding="full")
    with pytest.raises(ValueError, match="DepthwiseConv2D.*4-D"):
        L.DepthwiseConv2D(3)(kerasish.Input((10,)))
    with pytest.raises(ValueError, match="SeparableConv2D.*kernel.*larger"):
        L.SeparableConv2D(2, 4)(np.zeros((1, 3, 8, 2), dtype="float32"))


# ----------------------------------------------------------------------------
# Conv2DTranspose
# ----------------------------------------------------------------------------
def _transpose_cases():
    out = []
    sizes = [(5, 6), (6, 5), (7, 7), (4, 4), (1, 2), (3, 8)]
    i = 0
    for k in range(1, 6):
        for s, d in [(1, 1), (2, 1), (3, 1), (1, 2)]:
            for p in ("valid", "same"):
                for op in [None] + list(range(s)):
                    out.append((k, s, d, p, op, sizes[i % len(sizes)], "channels_first" if i % 4 == 3 else "channels_last"))
                    i += 1
    return out


TRANSPOSE_CASES = _transpose_cases()


@pytest.mark.parametrize("k,s,d,p,op,hw,df", TRANSPOSE_CASES,
                         ids=[f"k{k}-s{s}-d{d}-{p}-op{op}-{h}x{w}-{df[9]}" for k, s, d, p, op, (h, w), df in TRANSPOSE_CASES])
def test_conv2d_transpose_parity_grid(layer_test, k, s, d, p, op, hw, df):
    kw = dict(filters=2, kernel_size=k, strides=s, dilation_rate=d, padding=p, output_padding=op, data_format=df)
    x = _x(hw + (3,), df == "channels_first")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        layer_test(L.Conv2DTranspose, kw, input_data=x, keras_parity=True,
                   expected_num_trainable_weights=2, expected_num_non_trainable_weights=0)


def test_conv2d_transpose_mixed_axes(layer_test):
    kw = dict(filters=3, kernel_size=(2, 3), strides=(3, 2), padding="same", output_padding=(1, 0), activation="softmax")
    layer_test(L.Conv2DTranspose, kw, input_data=_x((4, 5, 2)), keras_parity=True, expected_output_shape=(2, 10, 9, 3),
               expected_num_trainable_weights=2)
    kw = dict(filters=3, kernel_size=(4, 1), strides=(2, 3), padding="valid", use_bias=False)
    layer_test(L.Conv2DTranspose, kw, input_data=_x((4, 5, 2)), keras_parity=True, expected_num_trainable_weights=1)


def test_conv2d_transpose_hand_example():
    # stride 2, 'valid', 2x2 kernel of ones: each input pixel becomes a 2x2 block
    layer = L.Conv2DTranspose(1, 2, strides=2, use_bias=False)
    x = np.array([[1.0, 2.0], [3.0, 4.0]], dtype="float32").reshape(1, 2, 2, 1)
    layer(x)
    layer.set_weights([np.ones((2, 2, 1, 1), dtype="float32")])
    y = to_numpy(layer(x))[0, :, :, 0]
    np.testing.assert_array_equal(y, np.kron([[1, 2], [3, 4]], np.ones((2, 2))))
    assert isinstance(layer.torch_module, torch.nn.ConvTranspose2d)
    assert tuple(layer.torch_module.weight.shape) == (1, 1, 2, 2)
    assert layer.weights[0].shape == (2, 2, 1, 1)


def test_conv2d_transpose_kernel_layout():
    layer = L.Conv2DTranspose(5, (2, 3))
    layer.build((None, 4, 4, 3))
    assert tuple(layer.torch_module.weight.shape) == (3, 5, 2, 3)  # torch (in, filters, kh, kw)
    assert layer.weights[0].shape == (2, 3, 5, 3)  # Keras (kh, kw, filters, in)
    k = np.random.default_rng(0).standard_normal((2, 3, 5, 3)).astype("float32")
    layer.set_weights([k, np.zeros(5, dtype="float32")])
    np.testing.assert_array_equal(layer.torch_module.weight.detach().numpy()[1, 4], k[:, :, 4, 1])


def test_conv2d_transpose_bad_inputs():
    with pytest.raises(ValueError, match="Conv2DTranspose.*output_padding"):
        L.Conv2DTranspose(4, 3, strides=2, output_padding=2)
    with pytest.raises(ValueError, match="Conv2DTranspose.*output_padding"):
        L.Conv2DTranspose(4, 3, output_padding=-1)
    with pytest.raises(ValueError, match="Conv2DTranspose.*filters"):
        L.Conv2DTranspose(0, 3)
    with pytest.raises(ValueError, match="Conv2DTranspose.*padding"):
        L.Conv2DTranspose(4, 3, padding="causal")
    with pytest.raises(ValueError, match="Conv2DTranspose.*4-D"):
        L.Conv2DTranspose(4, 3)(kerasish.Input((10,)))


# ----------------------------------------------------------------------------
# Shared: configs, models, size changes
# ----------------------------------------------------------------------------
def _layer_pairs(keras):
    return [
        (L.Conv2D, keras.layers.Conv2D, dict(filters=4, kernel_size=(3, 2), strides=2, padding="same", activation="relu",
                                             kernel_regularizer="l2", use_bias=False, groups=2)),
        (L.DepthwiseConv2D, keras.layers.DepthwiseConv2D, dict(kernel_size=3, depth_multiplier=3, dilation_rate=2, activation="tanh",
                                                               depthwise_initializer="he_normal", data_format="channels_first")),
        (L.SeparableConv2D, keras.layers.SeparableConv2D, dict(filters=6, kernel_size=3, strides=(1, 2), depth_multiplier=2,
                                                               pointwise_initializer="zeros", bias_regularizer="l2")),
        (L.Conv2DTranspose, keras.layers.Conv2DTranspose, dict(filters=3, kernel_size=4, strides=3, padding="same",
                                                               output_padding=(2, 1), activation="sigmoid")),
        (L.Conv2DTranspose, keras.layers.Conv2DTranspose, dict(filters=3, kernel_size=2)),
    ]


def test_configs_match_keras_and_round_trip(keras):
    for ours, theirs, kw in _layer_pairs(keras):
        kl, kr = ours(name="layer_x", **kw), theirs(name="layer_x", **kw)
        assert_config_like_keras(kl, kr)
        again = ours.from_config(kl.get_config())
        assert again.get_config() == kl.get_config()
        from_keras = ours.from_config(kr.get_config())
        assert _plain(from_keras.get_config()) == _plain(kl.get_config())


def test_aliases():
    assert L.SeparableConvolution2D is L.SeparableConv2D
    assert L.Convolution2DTranspose is L.Conv2DTranspose
    assert L.Convolution2D is L.Conv2D
    kerasish.clear_session()
    assert L.SeparableConv2D(2, 3).name == "separable_conv2d"
    assert L.DepthwiseConv2D(3).name == "depthwise_conv2d"
    assert L.Conv2DTranspose(2, 3).name == "conv2d_transpose"


@pytest.mark.parametrize("make", [
    lambda df: L.Conv2D(4, 3, strides=2, padding="same", activation="softmax", data_format=df),
    lambda df: L.Conv2D(4, 2, padding="same", dilation_rate=2, data_format=df),
    lambda df: L.DepthwiseConv2D(3, strides=2, padding="same", depth_multiplier=2, data_format=df),
    lambda df: L.SeparableConv2D(4, 3, strides=3, padding="same", activation="softmax", data_format=df),
    lambda df: L.Conv2DTranspose(4, 3, strides=2, padding="same", data_format=df),
    lambda df: L.Conv2DTranspose(4, 2, strides=3, output_padding=2, activation="softmax", data_format=df),
], ids=["conv", "conv-dil", "depthwise", "separable", "transpose", "transpose-op"])
@pytest.mark.parametrize("df", ["channels_last", "channels_first"])
@pytest.mark.parametrize("known", [True, False], ids=["static", "dynamic"])
def test_in_functional_model_matches_standalone(make, df, known):
    cf = df == "channels_first"
    x = _x((7, 8, 3), cf)
    spatial = (7, 8) if known else (None, None)
    inp = kerasish.Input((3,) + spatial if cf else spatial + (3,))
    layer = make(df)
    out = layer(inp)
    model = kerasish.Model(inp, out)
    got, want = to_numpy(model(x)), to_numpy(layer(x))
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, atol=1e-6)
    if known:
        expected = (None,) + got.shape[1:]
    else:  # unknown height and width stay unknown; the channel count is known
        expected = (None, got.shape[1], None, None) if cf else (None, None, None, got.shape[3])
    assert tuple(out.shape) == expected


@pytest.mark.parametrize("cls", ["Conv2D", "DepthwiseConv2D", "SeparableConv2D"])
def test_same_padding_follows_the_input_size_after_build(keras, cls):
    # stride-2 'same' padding depends on the input size; a layer built on 8x8
    # must still pad a 7x7 input the Keras way (and the reverse).
    args = (4, 3) if cls != "DepthwiseConv2D" else (3,)
    for first, second in [((8, 8), (7, 9)), ((7, 7), (8, 6))]:
        kl, kr = getattr(L, cls)(*args, strides=2, padding="same"), getattr(keras.layers, cls)(*args, strides=2, padding="same")
        x1, x2 = _x(first + (2,)), _x(second + (2,))
        kr(x1)
        kl(x1)
        kl.set_weights([to_numpy(w) for w in kr.get_weights()])
        assert_close_f32(kl(x2), kr(x2), terms=3 * 3 * 2)
        assert_close_f32(kl(x1), kr(x1), terms=3 * 3 * 2)


def test_training_through_a_conv_model():
    inp = kerasish.Input((8, 8, 2))
    x = L.SeparableConv2D(4, 3, padding="same", activation="relu")(inp)
    x = L.DepthwiseConv2D(3, strides=2, padding="same")(x)
    x = L.Conv2DTranspose(2, 3, strides=2, padding="same")(x)
    model = kerasish.Model(inp, x)
    params = list(model.parameters())
    assert len(params) == 7
    loss = model(torch.randn(2, 8, 8, 2)).square().mean()
    loss.backward()
    assert all(p.grad is not None for p in params)


# ----------------------------------------------------------------------
# ReLU after a convolution or Dense runs in place on the fresh output
# ----------------------------------------------------------------------
@pytest.mark.parametrize("make", [lambda: L.Conv2D(4, 3, padding="same", activation="relu"),
                                  lambda: L.SeparableConv2D(4, 3, activation="relu"),
                                  lambda: L.Conv2DTranspose(3, 3, strides=2, padding="same", activation="relu"),
                                  lambda: L.Dense(5, activation="relu")], ids=["conv", "separable", "transpose", "dense"])
def test_in_place_relu_gives_the_out_of_place_values_and_gradients(make):
    relu_layer, plain_layer = make(), make()
    x = torch.randn(3, 6, 6, 2)
    relu_layer(x), plain_layer(x)
    plain_layer.activation = kerasish.activations.get("linear")
    plain_layer.set_weights(relu_layer.get_weights())
    xa, xb = x.clone().requires_grad_(), x.clone().requires_grad_()
    got, ref = relu_layer(xa), torch.relu(plain_layer(xb))
    assert torch.equal(got, ref)
    g = torch.randn_like(got)
    got.backward(g), ref.backward(g)
    assert torch.equal(xa.grad, xb.grad)
    for p, q in zip(relu_layer.parameters(), plain_layer.parameters()):
        assert torch.equal(p.grad, q.grad)


def test_a_forward_hook_on_the_torch_module_still_sees_pre_activation_values():
    layer = L.Conv2D(4, 3, padding="same", activation="relu")
    x = torch.randn(2, 6, 6, 3)
    layer(x)
    seen = []
    handle = layer._torch_module.register_forward_hook(lambda m, i, o: seen.append(o))
    out = layer(x)
    handle.remove()
    assert (seen[0] < 0).any() and (out >= 0).all()  # the hook's tensor was not rectified in place
    assert torch.equal(out.permute(0, 3, 1, 2), torch.relu(seen[0]))


def test_predict_keeps_nan_through_conv_and_relu():
    # oneDNN's fused Conv2D + ReLU would map NaN to 0 (max(x, 0)); torch.relu keeps it, and so must predict
    model = kerasish.Sequential([L.Input((8, 8, 3)), L.Conv2D(4, 3, padding="same", activation="relu"), L.MaxPooling2D()])
    model.compile(optimizer="sgd", loss="mse")
    x = RNG.standard_normal((2, 8, 8, 3)).astype("float32")
    x[0, 3, 3, 0] = np.nan
    got = model.predict(x, verbose=0)
    ref = to_numpy(model(torch.from_numpy(x).requires_grad_()))  # the plain path, gradients recorded
    assert np.isnan(got).sum() == np.isnan(ref).sum() > 0
    np.testing.assert_array_equal(np.nan_to_num(got, nan=7.0), np.nan_to_num(ref, nan=7.0))


@pytest.mark.parametrize("layer_cls", [L.Conv2D, L.DepthwiseConv2D, L.SeparableConv2D, L.Conv2DTranspose])
def test_strided_1x1_convolutions_train(layer_cls):
    """torch 2.14's backward of a strided 1x1 convolution on a channels_last
    input corrupts the heap (``free(): invalid size``; plain
    ``nn.Conv2d(3, 2, 1, stride=2)`` on ``randn(2, 8, 8, 3).permute(0, 3, 1, 2)``
    aborts the process; so does ConvTranspose2d). kerasish runs such a layer
    as a 1x1 stride-1 convolution of every s-th pixel (a transposed one on a
    contiguous input): the same values, and training works (ResNet's shortcut
    convolutions)."""
    kwargs = {"kernel_size": 1, "strides": 2}
    if layer_cls is not L.DepthwiseConv2D:
        kwargs["filters"] = 4
    x = torch.randn(2, 8, 8, 3)
    layer = layer_cls(**kwargs)
    out = layer(x)
    with torch.no_grad():  # the inference path: torch's strided kernel, as before
        reference = layer(x)
    torch.testing.assert_close(out, reference, rtol=1e-5, atol=1e-6)
    assert out.shape[1:3] == ((16, 16) if layer_cls is L.Conv2DTranspose else (4, 4))
    xg = x.clone().requires_grad_()
    for _ in range(5):  # the corruption shows within a few steps
        layer(xg).sum().backward()
    assert all(w.value.grad is not None and torch.isfinite(w.value.grad).all() for w in layer.trainable_weights)
    if layer_cls is not L.Conv2DTranspose:  # only every s-th pixel is read
        assert xg.grad[:, 1::2].abs().sum() == 0 and xg.grad[:, ::2, ::2].abs().sum() > 0
