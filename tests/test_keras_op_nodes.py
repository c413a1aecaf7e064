"""Keras 3 records arithmetic on symbolic tensors (``x + 3.0``, ``x * y``, ``-x``, ``x ** 2``) as
operation nodes of module ``keras.src.ops.numpy``; its files load into kerasish as TensorOp /
merge layers and predict the same."""

import numpy as np
import pytest

import kerasish
from tests.conftest import assert_close_f32


def test_keras_file_with_arithmetic_op_nodes_predicts_the_same(keras, tmp_path):
    x = keras.Input((3,))
    y = keras.layers.Dense(3)(x)
    z = (y + 3.0) * (1 / 6.0)
    w = z + y  # two tensors: the Add merge layer
    u = -(2.0 - w)  # a number on the left, then negation
    s = (u / 4.0) ** 2
    theirs = keras.Model(x, [s, w * y])  # an op as the model's output too
    path = str(tmp_path / "ops.keras")
    theirs.save(path)
    ours = kerasish.models.load_model(path)
    # (Keras's op names count per session: compare by position)
    kinds = [type(layer).__name__ for layer in ours.layers]
    assert kinds == ["InputLayer", "Dense", "TensorOp", "TensorOp", "Add", "TensorOp", "TensorOp", "TensorOp",
                     "TensorOp", "Multiply"]
    ops = [(layer.op, layer.constant, layer.reverse) for layer in ours.layers if kinds[ours.layers.index(layer)] == "TensorOp"]
    assert ops == [("add", 3.0, False), ("multiply", 1 / 6.0, False), ("subtract", 2.0, True), ("negative", None, False),
                   ("true_divide", 4.0, False), ("power", 2, False)]
    data = np.random.default_rng(0).random((4, 3)).astype("float32")
    for got, want in zip(ours.predict(data, verbose=0), theirs.predict(data, verbose=0)):
        assert_close_f32(got, keras.ops.convert_to_numpy(want), terms=3)


def test_unsupported_op_node_is_named(keras, tmp_path):
    x = keras.Input((3,))
    theirs = keras.Model(x, x / keras.layers.Dense(3)(x))
    path = str(tmp_path / "div.keras")
    theirs.save(path)
    with pytest.raises(ValueError, match=r"operation 'true_divide(_\d+)?' \(TrueDivide of 2 tensor\(s\)"):
        kerasish.models.load_model(path)
