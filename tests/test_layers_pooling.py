"""The pooling family (MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D,
GlobalMaxPooling2D) against Keras 3 (torch backend) and a numpy reference."""

import itertools
import math

import numpy as np
import pytest
import torch

import kerasish
from kerasish import layers as L
from kerasish.layers import args as A

from conftest import assert_close_f32, to_numpy

RNG = np.random.default_rng(99)


def _x(h, w, c=3, channels_first=False):
    x = RNG.standard_normal((2, h, w, c)).astype("float32")
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2)) if channels_first else x


def _norm(v):
    if isinstance(v, (list, tuple)):
        return [_norm(a) for a in v]
    if isinstance(v, dict):
        return {k: _norm(a) for k, a in v.items()}
    return v


def np_pool(x, pool, strides, padding, mode):
    """TensorFlow's pooling on NHWC numpy: 'same' pads with the odd pixel at the
    end, and the padding is left out of maxima and averages."""
    n, h, w, c = x.shape
    (ph, pw), (sh, sw) = pool, strides
    if padding == "same":
        (t, b), (l, r) = A.same_padding(h, ph, sh), A.same_padding(w, pw, sw)
        oh, ow = math.ceil(h / sh), math.ceil(w / sw)
    else:
        t = b = l = r = 0
        oh, ow = (h - ph) // sh + 1, (w - pw) // sw + 1
    xp = np.pad(x.astype("float64"), ((0, 0), (t, b), (l, r), (0, 0)), constant_values=np.nan)
    out = np.empty((n, oh, ow, c))
    for i in range(oh):
        for j in range(ow):
            win = xp[:, i * sh:i * sh + ph, j * sw:j * sw + pw, :]
            out[:, i, j, :] = np.nanmax(win, axis=(1, 2)) if mode == "max" else np.nanmean(win, axis=(1, 2))
    return out


def _keras_torch_pads_evenly(shape, pool, strides, padding):
    """Keras 3.15's torch backend pads unevenly 'same' inputs by replicating
    the edge, which changes averages (keras-team/keras#23233 fixes that); the
    Keras comparison is skipped only there, and the numpy reference decides."""
    if padding == "valid":
        return True
    return all(t == b for t, b in (A.same_padding(s, k, st) for s, k, st in zip(shape, pool, strides)))


def _pool_cases():
    out = []
    sizes = [(7, 8), (8, 9), (9, 7), (8, 8), (9, 9), (7, 7)]
    i = 0
    for p, s, pad in itertools.product((2, 3), (None, 1, 2, 3), ("valid", "same")):
        for _ in range(2):
            out.append((p, s, pad, sizes[i % len(sizes)], "channels_first" if i % 3 == 1 else "channels_last"))
            i += 1
    return out


POOL_CASES = _pool_cases()
IDS = [f"p{p}-s{s}-{pad}-{h}x{w}-{df[9]}" for p, s, pad, (h, w), df in POOL_CASES]


@pytest.mark.parametrize("p,s,pad,hw,df", POOL_CASES, ids=IDS)
def test_max_pooling2d_parity_grid(layer_test, p, s, pad, hw, df):
    cf = df == "channels_first"
    x = _x(*hw, channels_first=cf)
    kw = dict(pool_size=p, strides=s, padding=pad, data_format=df)
    got = to_numpy(layer_test(L.MaxPooling2D, kw, input_data=x, keras_parity=True, expected_num_trainable_weights=0,
                              expected_num_non_trainable_weights=0).output)
    stride = p if s is None else s
    ref = np_pool(x.transpose(0, 2, 3, 1) if cf else x, (p, p), (stride, stride), pad, "max")
    np.testing.assert_allclose(got.transpose(0, 2, 3, 1) if cf else got, ref, atol=1e-6)


@pytest.mark.parametrize("p,s,pad,hw,df", POOL_CASES, ids=IDS)
def test_average_pooling2d_parity_grid(keras, layer_test, p, s, pad, hw, df):
    cf = df == "channels_first"
    x = _x(*hw, channels_first=cf)
    kw = dict(pool_size=p, strides=s, padding=pad, data_format=df)
    stride = p if s is None else s
    if _keras_torch_pads_evenly(hw, (p, p), (stride, stride), pad):
        got = to_numpy(layer_test(L.AveragePooling2D, kw, input_data=x, keras_parity=True, expected_num_trainable_weights=0).output)
    else:
        # Keras's torch backend pads unevenly here: the shape is Keras's, the values numpy's (below).
        shape = tuple(keras.layers.AveragePooling2D(**kw).compute_output_shape(x.shape))
        got = to_numpy(layer_test(L.AveragePooling2D, kw, input_data=x, expected_output_shape=shape, expected_num_trainable_weights=0).output)
    ref = np_pool(x.transpose(0, 2, 3, 1) if cf else x, (p, p), (stride, stride), pad, "avg")
    assert_close_f32(got.transpose(0, 2, 3, 1) if cf else got, ref, terms=p * p)


@pytest.mark.parametrize("pool,strides", [((2, 3), (1, 2)), ((3, 1), (2, 3)), ((1, 2), None)])
@pytest.mark.parametrize("pad", ["valid", "same"])
def test_rectangular_pools(layer_test, pool, strides, pad):
    x = _x(8, 9)
    kw = dict(pool_size=pool, strides=strides, padding=pad)
    layer_test(L.MaxPooling2D, kw, input_data=x, keras_parity=True)
    st = pool if strides is None else strides
    assert_close_f32(L.AveragePooling2D(**kw)(x), np_pool(x, pool, st, pad, "avg"), terms=int(np.prod(pool)))


def test_average_same_excludes_padding_by_hand():
    # 4x4 ramp, 3x3 windows, stride 2, 'same': pads (0, 1) on each axis.
    x = np.arange(16, dtype="float32").reshape(1, 4, 4, 1)
    y = to_numpy(L.AveragePooling2D(3, 2, padding="same")(x))[0, :, :, 0]
    # windows: rows {0,1,2} / {2,3}, cols {0,1,2} / {2,3}; only real pixels count
    expected = [[np.mean([0, 1, 2, 4, 5, 6, 8, 9, 10]), np.mean([2, 3, 6, 7, 10, 11])],
                [np.mean([8, 9, 10, 12, 13, 14]), np.mean([10, 11, 14, 15])]]
    assert_close_f32(y, expected, terms=9)
    # stride 1 with an even window: padding (0, 1), the last column averages 2 pixels
    y = to_numpy(L.AveragePooling2D(2, 1, padding="same")(x))[0, :, :, 0]
    assert y[0, 3] == pytest.approx((3 + 7) / 2) and y[3, 3] == 15.0
    # max pooling never picks the padding, even for all-negative inputs
    y = to_numpy(L.MaxPooling2D(3, 2, padding="same")(-x - 1))[0, :, :, 0]
    np.testing.assert_array_equal(y, [[-1, -3], [-9, -11]])


@pytest.mark.parametrize("cls", ["MaxPooling2D", "AveragePooling2D"])
def test_pooling_follows_the_input_size_after_build(keras, cls):
    for first, second in [((8, 8), (7, 9)), ((7, 7), (8, 6))]:
        layer = getattr(L, cls)(3, 2, padding="same")
        x1, x2 = _x(*first), _x(*second)
        layer(x1)
        for x in (x2, x1):
            assert_close_f32(layer(x), np_pool(x, (3, 3), (2, 2), "same", "max" if cls[0] == "M" else "avg"), terms=9)


def test_pooling_bad_inputs():
    with pytest.raises(ValueError, match="MaxPooling2D.*padding.*middle"):
        L.MaxPooling2D(padding="middle")
    with pytest.raises(ValueError, match="AveragePooling2D.*pool_size"):
        L.AveragePooling2D(0)
    with pytest.raises(ValueError, match="MaxPooling2D.*strides"):
        L.MaxPooling2D(2, strides=(2, 0))
    with pytest.raises(ValueError, match="MaxPooling2D.*4-D"):
        L.MaxPooling2D()(kerasish.Input((10,)))
    with pytest.raises(ValueError, match="AveragePooling2D.*larger"):
        L.AveragePooling2D(5)(np.zeros((1, 4, 8, 1), dtype="float32"))
    with pytest.raises(ValueError, match="MaxPooling2D.*data_format"):
        L.MaxPooling2D(data_format="NHWC")


# ----------------------------------------------------------------------------
# Global pooling
# ----------------------------------------------------------------------------
@pytest.mark.parametrize("cls", ["GlobalAveragePooling2D", "GlobalMaxPooling2D"])
@pytest.mark.parametrize("df", ["channels_last", "channels_first"])
@pytest.mark.parametrize("keepdims", [False, True])
def test_global_pooling_parity(layer_test, cls, df, keepdims):
    for hw in [(5, 6), (7, 7), (1, 3)]:
        x = _x(*hw, c=4, channels_first=df == "channels_first")
        out_shape = ((2, 1, 1, 4) if df == "channels_last" else (2, 4, 1, 1)) if keepdims else (2, 4)
        got = to_numpy(layer_test(getattr(L, cls), dict(data_format=df, keepdims=keepdims), input_data=x, keras_parity=True,
                                  expected_output_shape=out_shape, expected_num_trainable_weights=0).output)
        axes = (1, 2) if df == "channels_last" else (2, 3)
        ref = x.mean(axis=axes, keepdims=keepdims) if "Average" in cls else x.max(axis=axes, keepdims=keepdims)
        assert_close_f32(got, ref, terms=hw[0] * hw[1])


@pytest.mark.parametrize("cls", ["GlobalAveragePooling2D", "GlobalMaxPooling2D"])
@pytest.mark.parametrize("df", ["channels_last", "channels_first"])
@pytest.mark.parametrize("keepdims", [False, True])
def test_global_pooling_in_model(cls, df, keepdims):
    cf = df == "channels_first"
    x = _x(6, 5, c=4, channels_first=cf)
    for shape in [x.shape[1:], (4, None, None) if cf else (None, None, 4)]:
        inp = kerasish.Input(shape)
        layer = getattr(L, cls)(data_format=df, keepdims=keepdims)
        out = layer(inp)
        expected = ((None, 4, 1, 1) if cf else (None, 1, 1, 4)) if keepdims else (None, 4)
        assert tuple(out.shape) == expected
        y = to_numpy(kerasish.Model(inp, out)(x))
        np.testing.assert_allclose(y, to_numpy(layer(x)), atol=1e-6)


def test_global_pooling_after_conv_in_a_model(keras):
    # the classic CNN head: Conv2D -> GlobalAveragePooling2D -> Dense
    inp = kerasish.Input((9, 9, 3))
    x = L.Conv2D(6, 3, strides=2, padding="same", activation="relu", name="c")(inp)
    x = L.GlobalAveragePooling2D(name="g")(x)
    out = L.Dense(2, name="d")(x)
    model = kerasish.Model(inp, out)
    kinp = keras.Input((9, 9, 3))
    kx = keras.layers.Conv2D(6, 3, strides=2, padding="same", activation="relu")(kinp)
    kx = keras.layers.GlobalAveragePooling2D()(kx)
    kmodel = keras.Model(kinp, keras.layers.Dense(2)(kx))
    model.set_weights([to_numpy(w) for w in kmodel.get_weights()])
    x = _x(9, 9)
    assert_close_f32(model(x), kmodel(x), terms=x[0].size)


def test_global_pooling_bad_inputs():
    with pytest.raises(ValueError, match="GlobalAveragePooling2D.*4-D"):
        L.GlobalAveragePooling2D()(kerasish.Input((10, 3)))
    with pytest.raises(ValueError, match="GlobalMaxPooling2D.*4-D"):
        L.GlobalMaxPooling2D()(np.zeros((2, 3), dtype="float32"))
    with pytest.raises(ValueError, match="GlobalMaxPooling2D.*data_format"):
        L.GlobalMaxPooling2D(data_format="channels")


# ----------------------------------------------------------------------------
# Configs and names
# ----------------------------------------------------------------------------
def test_configs_match_keras_and_round_trip(keras):
    pairs = [
        ("MaxPooling2D", dict(pool_size=3, strides=(1, 2), padding="same", data_format="channels_first")),
        ("MaxPooling2D", dict()),
        ("AveragePooling2D", dict(pool_size=(2, 3), padding="valid")),
        ("GlobalAveragePooling2D", dict(keepdims=True)),
        ("GlobalMaxPooling2D", dict(data_format="channels_first")),
    ]
    for cls, kw in pairs:
        kl, kr = getattr(L, cls)(name="p", **kw), getattr(keras.layers, cls)(name="p", **kw)
        ours, theirs = _norm(kl.get_config()), _norm(kr.get_config())
        assert set(ours) == set(theirs), cls
        assert {k: v for k, v in ours.items() if k != "dtype"} == {k: v for k, v in theirs.items() if k != "dtype"}, cls
        assert getattr(L, cls).from_config(kl.get_config()).get_config() == kl.get_config()
        assert _norm(getattr(L, cls).from_config(kr.get_config()).get_config()) == ours


def test_aliases_and_names():
    assert L.GlobalAvgPool2D is L.GlobalAveragePooling2D
    assert L.GlobalMaxPool2D is L.GlobalMaxPooling2D
    assert L.MaxPool2D is L.MaxPooling2D and L.AvgPool2D is L.AveragePooling2D
    kerasish.clear_session()
    assert L.GlobalAveragePooling2D().name == "global_average_pooling2d"
    assert L.GlobalMaxPool2D().name == "global_max_pooling2d"
    layer = L.GlobalMaxPooling2D()
    layer(np.zeros((1, 3, 3, 2), dtype="float32"))
    assert layer.weights == [] and layer.count_params() == 0


def test_pooling_chain_in_a_model():
    inp = kerasish.Input((9, 8, 2))
    x = L.MaxPooling2D(3, 2, padding="same")(inp)
    x = L.AveragePooling2D(3, 2, padding="same")(x)
    out = L.GlobalMaxPooling2D()(x)
    model = kerasish.Model(inp, out)
    x = torch.randn(3, 9, 8, 2)
    ref = np_pool(np_pool(x.numpy(), (3, 3), (2, 2), "same", "max"), (3, 3), (2, 2), "same", "avg").max(axis=(1, 2))
    assert_close_f32(model(x), ref, terms=9)


# ----------------------------------------------------------------------
# The 2x2 / stride 2 max pool's inference fast path (halving_max_pool)
# ----------------------------------------------------------------------
@pytest.mark.parametrize("hw", [(2, 2), (8, 8), (7, 9), (26, 26), (5, 2)])
def test_halving_max_pool_matches_max_pool2d_bit_for_bit(hw):
    from kerasish.layers.pooling.max_pool_kernels import halving_max_pool

    x = torch.randn(3, 5, *hw).contiguous(memory_format=torch.channels_last)
    x[0, 0, 0, 0] = float("nan")
    x[1, 2, -1, -1] = float("-inf")
    x[2] = 0.0  # every window tied, as after a ReLU
    ref, got = torch.nn.functional.max_pool2d(x, 2), halving_max_pool(x)
    assert got.shape == ref.shape and got.is_contiguous(memory_format=torch.channels_last)
    assert torch.equal(torch.isnan(got), torch.isnan(ref))
    assert torch.equal(got.nan_to_num(7.0), ref.nan_to_num(7.0))


@pytest.mark.parametrize("shape", [(1, 1, 6, 6), (4, 1, 5, 8), (2, 3, 3, 2)])
def test_halving_max_pool_reads_views_where_they_lie(shape):
    # the kernel builds its views from the tensor's storage: a batch slice
    # (storage offset), one channel and batch 1 (strides torch leaves free)
    # must read the same elements max_pool2d does
    from kerasish.layers.pooling.max_pool_kernels import halving_applies, halving_max_pool

    whole = torch.randn(shape[0] + 2, *shape[1:]).contiguous(memory_format=torch.channels_last)
    x = whole[1:-1]
    assert x.storage_offset() > 0 and halving_applies(x, "valid")
    got = halving_max_pool(x)
    assert torch.equal(got, torch.nn.functional.max_pool2d(x, 2))


def _count_halving(monkeypatch):
    from kerasish.layers.pooling import base_pooling

    calls = []
    real = base_pooling.halving_max_pool
    monkeypatch.setattr(base_pooling, "halving_max_pool", lambda x: calls.append(tuple(x.shape)) or real(x))
    return calls


def test_predict_takes_the_halving_max_pool_and_matches_the_reference(monkeypatch):
    calls = _count_halving(monkeypatch)
    model = kerasish.Sequential([L.Input((9, 8, 3)), L.Conv2D(4, 3, padding="same", activation="relu"), L.MaxPooling2D(),
                                 L.MaxPooling2D(padding="same"), L.Flatten()])
    x = RNG.standard_normal((5, 9, 8, 3)).astype("float32")
    got = model.predict(x, verbose=0)
    assert calls == [(5, 4, 9, 8), (5, 4, 4, 4)]  # both pools took it ('same' on even 4x4 pads nothing)
    conv = to_numpy(model.layers[0](x))
    ref = np_pool(np_pool(conv, (2, 2), (2, 2), "valid", "max"), (2, 2), (2, 2), "same", "max")
    np.testing.assert_array_equal(got, ref.reshape(5, -1).astype("float32"))


def test_halving_max_pool_is_left_out_where_it_would_differ(monkeypatch):
    calls = _count_halving(monkeypatch)
    # 'same' padding of an odd size pads: the module path
    odd = L.MaxPooling2D(padding="same")
    x = _x(5, 7)
    np.testing.assert_array_equal(to_numpy(odd(x)), np_pool(x, (2, 2), (2, 2), "same", "max").astype("float32"))
    # other windows and strides
    L.MaxPooling2D(3)(_x(8, 8))
    L.MaxPooling2D(2, 1)(_x(8, 8))
    assert calls == []
    # training: max_pool2d's gradient goes to one element of a tied window (as Keras's), so the fast path stays out
    layer = L.MaxPooling2D()
    t = torch.zeros(1, 4, 4, 2, requires_grad=True)
    layer(t).sum().backward()
    assert calls == [] and t.grad.sum().item() == 8.0 and set(t.grad.unique().tolist()) == {0.0, 1.0}


def test_compiled_and_exported_graphs_keep_the_max_pool_op():
    model = kerasish.Sequential([L.Input((8, 8, 2)), L.MaxPooling2D(), L.Flatten()])
    model.eval()
    with torch.no_grad():
        program = torch.export.export(model, (torch.zeros(1, 8, 8, 2),))
    targets = " ".join(str(n.target) for n in program.graph.nodes)
    assert "max_pool2d" in targets and "maximum" not in targets


def test_a_hooked_max_pool_module_runs_itself_so_its_hooks_fire(monkeypatch):
    calls = _count_halving(monkeypatch)
    layer = L.MaxPooling2D()
    x = _x(8, 8)
    layer(x)
    calls.clear()
    seen = []
    handle = layer._torch_module.register_forward_hook(lambda m, i, o: seen.append(o.shape))
    with torch.no_grad():
        y = layer(x)
    handle.remove()
    assert seen == [torch.Size([2, 3, 4, 4])] and calls == []
    np.testing.assert_array_equal(to_numpy(y), np_pool(x, (2, 2), (2, 2), "valid", "max").astype("float32"))
    with torch.no_grad():
        layer(x)
    assert calls == [(2, 3, 8, 8)]  # hook removed: the fast kernel again


def test_fast_kernels_step_aside_under_vmap():
    # vmap's batched tensors cannot say whether they are channels_last: the plain kernels run
    model = kerasish.Sequential([L.Input((8, 8, 3)), L.Conv2D(4, 3, padding="same", activation="relu"), L.MaxPooling2D(),
                                 L.Flatten(), L.Dense(2)])
    x = torch.randn(5, 8, 8, 3)
    with torch.no_grad():
        ref = model(x)
        got = torch.vmap(lambda t: model(t[None])[0])(x)
    torch.testing.assert_close(got, ref)


def test_average_pooling_defaults_to_a_2x2_window_as_in_keras_2():
    # Keras 2 scripts write AveragePooling2D() (Keras 3 requires pool_size)
    layer = L.AveragePooling2D()
    assert layer.pool_size == (2, 2) and layer.strides == (2, 2)
    x = _x(6, 4)
    np.testing.assert_allclose(to_numpy(layer(x)), np_pool(x, (2, 2), (2, 2), "valid", "avg"), rtol=1e-6)
    assert L.AvgPool2D.from_config(layer.get_config()).pool_size == (2, 2)
