"""Merging layers (Add, Subtract, Multiply, Average, Maximum, Minimum,
Concatenate, Dot) and their functional forms against Keras 3."""

import numpy as np
import pytest
import torch

import kerasish
from kerasish import layers as L
from kerasish.layers import Input

from conftest import assert_close_f32, to_numpy

ELEMENTWISE = ["Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum"]

# Per-sample shapes of the inputs (batch 3 added), same rank or Keras's broadcasting.
SHAPE_SETS = [
    [(5,), (5,)],
    [(5,), (5,), (5,)],
    [(4, 5), (4, 5)],
    [(4, 5), (1, 5)],
    [(6, 7, 3), (6, 7, 3)],
    [(6, 7, 3), (6, 7, 3), (6, 7, 3)],
    [(6, 7, 3), (1, 1, 3)],
    [(6, 7, 3), (6, 1, 3), (1, 7, 1)],
    [(6, 7, 3), (3,)],  # mixed ranks: Keras adds axes after the batch one
    [(7, 3), (6, 7, 3)],
]


def _inputs(rng, shapes, batch=3):
    return [rng.normal(size=(batch,) + s).astype("float32") for s in shapes]


def _keras_model(keras, cls_name, shapes, **kw):
    ins = [keras.Input(s) for s in shapes]
    return keras.Model(ins, getattr(keras.layers, cls_name)(**kw)(ins))


def _our_model(cls_name, shapes, **kw):
    ins = [Input(s) for s in shapes]
    layer = getattr(L, cls_name)(**kw)
    return kerasish.Model(ins, layer(ins)), layer


@pytest.mark.parametrize(
    "cls_name, shapes",
    # Subtract takes exactly two inputs; the others any number.
    [(c, s) for c in ELEMENTWISE for s in SHAPE_SETS if c != "Subtract" or len(s) == 2],
)
def test_elementwise_parity(keras, layer_test, rng, cls_name, shapes):
    xs = _inputs(rng, shapes)
    # values (atol 1e-6: one elementwise op), shapes also through compute_output_shape,
    # weight counts, inside a functional model (internal NCHW for the rank-4 tensors)
    result = layer_test(getattr(L, cls_name), {}, input_data=xs, keras_parity=True, atol=1e-6,
                        expected_num_trainable_weights=0, expected_num_non_trainable_weights=0)
    expected = result.keras_output
    model, _ = _our_model(cls_name, shapes)
    np.testing.assert_allclose(to_numpy(model([torch.tensor(x) for x in xs])), expected, atol=1e-6)
    assert model.output_shape == _keras_model(keras, cls_name, shapes).output_shape
    assert result.layer.count_params() == 0


CONCAT_CASES = [
    ([(5,), (3,)], -1),
    ([(5,), (3,), (2,)], 1),
    ([(4, 5), (4, 2)], -1),
    ([(4, 5), (2, 5)], 1),
    ([(6, 7, 3), (6, 7, 5)], -1),
    ([(6, 7, 3), (6, 7, 5)], 3),
    ([(6, 7, 3), (2, 7, 3), (1, 7, 3)], 1),
    ([(6, 7, 3), (6, 2, 3)], 2),
    ([(6, 7, 3), (6, 2, 3)], -2),
    ([(6, 7, 3), (6, 7, 3)], 0),
]


@pytest.mark.parametrize("shapes,axis", CONCAT_CASES)
def test_concatenate_parity(keras, layer_test, rng, shapes, axis):
    xs = _inputs(rng, shapes)
    result = layer_test(L.Concatenate, {"axis": axis}, input_data=xs, keras_parity=True, atol=0.0,
                        expected_num_trainable_weights=0, expected_num_non_trainable_weights=0)
    expected, kl = result.keras_output, result.layer
    np.testing.assert_array_equal(to_numpy(result.output), expected)
    model, _ = _our_model("Concatenate", shapes, axis=axis)
    np.testing.assert_array_equal(to_numpy(model([torch.tensor(x) for x in xs])), expected)
    if axis != 0:
        assert model.output_shape == _keras_model(keras, "Concatenate", shapes, axis=axis).output_shape
    in_shapes = [(None,) + s for s in shapes]
    assert kl.compute_output_shape(in_shapes) == keras.layers.Concatenate(axis=axis).compute_output_shape(in_shapes)


def test_concatenate_unknown_sizes(keras):
    for shapes, axis in [([(None, 4, 3), (5, 4, 2)], -1), ([(None, 3), (4, 3)], 1), ([(5, 4, 2), (None, 4, 3)], -1)]:
        ours = L.concatenate([Input(s) for s in shapes], axis=axis).shape
        theirs = keras.layers.concatenate([keras.Input(s) for s in shapes], axis=axis).shape
        assert ours == theirs
    with pytest.raises(ValueError, match="matching shapes"):
        L.concatenate([Input((None, 4, 3)), Input((5, 4, 2))], axis=1)  # channels differ


DOT_CASES = [
    ([(5,), (5,)], 1, False),
    ([(5,), (5,)], -1, True),
    ([(3, 5), (3, 4)], 1, False),
    ([(3, 5), (4, 5)], (2, 2), False),
    ([(3, 5), (5, 4)], (2, 1), True),
    ([(3, 5), (5,)], (2, 1), False),
    ([(2, 3, 5), (4, 5)], (3, 2), False),
    ([(2, 3, 5), (5, 2, 6)], (3, 1), False),
]


@pytest.mark.parametrize("shapes,axes,normalize", DOT_CASES)
def test_dot_parity(keras, layer_test, rng, shapes, axes, normalize):
    xs = _inputs(rng, shapes)
    terms = max(x[0].size for x in xs)  # the dot products' length is at most one sample's size
    result = layer_test(L.Dot, dict(axes=axes, normalize=normalize), input_data=xs, keras_parity=True, terms=terms,
                        expected_num_trainable_weights=0)
    expected = result.keras_output
    model, _ = _our_model("Dot", shapes, axes=axes, normalize=normalize)
    assert_close_f32(model([torch.tensor(x) for x in xs]), expected, terms=terms)
    assert model.output_shape == _keras_model(keras, "Dot", shapes, axes=axes, normalize=normalize).output_shape


def test_functional_forms(rng):
    xs = [torch.tensor(x) for x in _inputs(rng, [(4, 4, 3), (4, 4, 3)])]
    a, b = xs
    torch.testing.assert_close(L.add(xs), a + b)
    torch.testing.assert_close(L.subtract(xs), a - b)
    torch.testing.assert_close(L.multiply(xs), a * b)
    torch.testing.assert_close(L.average(xs), (a + b) / 2)
    torch.testing.assert_close(L.maximum(xs), torch.maximum(a, b))
    torch.testing.assert_close(L.minimum(xs), torch.minimum(a, b))
    torch.testing.assert_close(L.concatenate(xs), torch.cat(xs, -1))
    torch.testing.assert_close(L.concatenate(xs, axis=1), torch.cat(xs, 1))
    torch.testing.assert_close(L.dot([a[:, 0, 0], b[:, 0, 0]], axes=1), (a[:, 0, 0] * b[:, 0, 0]).sum(-1, keepdim=True))
    layer_name = L.add([Input((3,)), Input((3,))], name="named_add")._keras_history.layer.name
    assert layer_name == "named_add"


def test_operators_on_symbolic_tensors(rng):
    """``x + y``, ``x - y``, ``x * y`` on KerasTensors make merging layers."""
    a, b = Input((4, 4, 3)), Input((4, 4, 3))
    model = kerasish.Model([a, b], (a + b) * b - a)
    assert [type(l).__name__ for l in model.layers[2:]] == ["Add", "Multiply", "Subtract"]
    xa, xb = (torch.tensor(x) for x in _inputs(rng, [(4, 4, 3), (4, 4, 3)]))
    torch.testing.assert_close(model([xa, xb]), (xa + xb) * xb - xa)


def test_residual_block_against_keras(keras, rng):
    """A small rank-4 model with a skip connection and a concat, against Keras."""
    x = rng.normal(size=(2, 6, 6, 3)).astype("float32")

    def build(LL, M, inp):
        y = LL.Conv2D(4, 3, padding="same", name="c1")(inp)
        z = LL.Conv2D(4, 1, name="c2")(inp)
        s = LL.Add(name="add")([y, z])
        m = LL.Maximum(name="max")([s, LL.Multiply(name="mul")([y, z])])
        cat = LL.Concatenate(name="cat")([m, inp, LL.Average(name="avg")([y, z])])
        cat2 = LL.Concatenate(axis=2, name="cat2")([m, s])
        out = LL.Minimum(name="min")([LL.Subtract(name="sub")([m, z]), y])
        return M(inp, [cat, cat2, out])

    theirs = build(keras.layers, keras.Model, keras.Input((6, 6, 3)))
    ours = build(L, kerasish.Model, Input((6, 6, 3)))
    for name in ("c1", "c2"):
        ours.get_layer(name).set_weights([to_numpy(w) for w in theirs.get_layer(name).get_weights()])
    got, expected = ours(torch.tensor(x)), theirs(x)
    assert len(got) == len(expected) == 3
    for g, e in zip(got, expected):
        assert_close_f32(g, e, terms=x[0].size)  # convolutions and sums over one sample at most
    assert ours.output_shape == theirs.output_shape


def test_config(keras):
    for cls_name, kw in [("Add", {}), ("Subtract", {}), ("Multiply", {}), ("Average", {}), ("Maximum", {}), ("Minimum", {}),
                         ("Concatenate", {"axis": 2}), ("Dot", {"axes": (1, 2), "normalize": True})]:
        kl = getattr(L, cls_name)(name="m", **kw)
        kr = getattr(keras.layers, cls_name)(name="m", **kw)
        ours, theirs = kl.get_config(), kr.get_config()
        ours.pop("dtype"), theirs.pop("dtype")
        assert ours == theirs
        assert type(kl).from_config(kl.get_config()).get_config() == kl.get_config()


def test_bad_input():
    a, b, c = Input((4, 5)), Input((4, 6)), Input((4, 5))
    with pytest.raises(ValueError, match=r"add_bad.*incompatible shapes.*\(None, 4, 5\).*\(None, 4, 6\)"):
        L.Add(name="add_bad")([a, b])
    with pytest.raises(ValueError, match=r"max_bad.*\(None, 4, 5\).*\(None, 4, 6\)"):
        L.maximum([a, b], name="max_bad")
    with pytest.raises(ValueError, match=r"cat_bad.*matching shapes.*\(None, 4, 5\).*\(None, 3, 6\)"):
        L.Concatenate(name="cat_bad")([a, Input((3, 6))])
    with pytest.raises(ValueError, match="cat_rank.*one rank"):
        L.concatenate([a, Input((5,))], name="cat_rank")
    with pytest.raises(ValueError, match="out of bounds"):
        L.concatenate([a, c], axis=3)
    with pytest.raises(ValueError, match=r"sub3.*exactly 2 inputs.*3"):
        L.Subtract(name="sub3")([a, c, c])
    with pytest.raises(ValueError, match="Subtract.*exactly 2"):
        L.subtract([a])
    with pytest.raises(ValueError, match="list of tensors"):
        L.Add()(a)
    with pytest.raises(ValueError, match="batch sizes"):
        L.Add()([Input((3,), batch_size=2), Input((3,), batch_size=4)])
    with pytest.raises(ValueError, match="dot_bad.*incompatible"):
        L.Dot(axes=2, name="dot_bad")([a, b])
    with pytest.raises(ValueError, match="Dot.*two elements"):
        L.Dot(axes=(1, 2, 3))
    with pytest.raises(ValueError, match="Concatenate.*axis"):
        L.Concatenate(axis="x")
    # Eager calls are checked too.
    with pytest.raises(ValueError, match="incompatible shapes"):
        L.Add()([np.zeros((2, 3), "float32"), np.zeros((2, 4), "float32")])
