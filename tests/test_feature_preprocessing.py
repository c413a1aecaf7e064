"""Feature preprocessing layers: Hashing, HashedCrossing, CategoryEncoding, Discretization.

CategoryEncoding and Discretization run on Keras 3's torch backend: compared
with Keras directly (the ``layer_test`` harness with parity; Discretization's
adapt against Keras's own quantile summary via ``update_state`` /
``finalize_state``, since Keras's ``adapt`` asks for TensorFlow).

Keras 3 runs Hashing and HashedCrossing on TensorFlow, which the project venv
has not: their expected values below were produced by the real Keras layers
in a separate venv with TensorFlow 2.21.0 and Keras 3.15.1 (TF backend).
"""

import numpy as np
import pytest
import torch

from kerasish import layers as L
from kerasish.layers.preprocessing.category_encoding import CategoryEncoding
from kerasish.layers.preprocessing.discretization import Discretization
from kerasish.layers.preprocessing.hashed_crossing import HashedCrossing
from kerasish.layers.preprocessing.hashing import Hashing
from kerasish.models import Model
from kerasish.testing import run_layer_test

# ----------------------------------------------------------------------
# Reference values: Keras 3.15.1 on TensorFlow 2.21.0
# ----------------------------------------------------------------------
DOC = [["A"], ["B"], ["C"], ["D"], ["E"]]
STRINGS = ["", "a", "hello", "é中😀", "x" * 17, "y" * 33, "z" * 65, "long " * 30]  # FarmHash's length paths
INTS = [0, -1, 7, 2**62, -(2**63), 2**63 - 1]
BIG = 2**31 - 1
TF_HASHING = {
    "strings_fast": [1699943623, 493484721, 441440317, 728306855, 760199915, 470090442, 172380598, 225743099],
    "strings_salt": [1897591445, 209488159, 1283770519, 286516923, 1642059827, 801871504, 423231279, 1865803519],  # salt=[1, 2**62 + 5]
    "ints_fast": [1633463888, 1833158626, 1080489176, 72338356, 379302079, 1686013924],
    "ints_salt": [477411095, 65832812, 745294864, 1212945941, 837008285, 536433333],  # salt=99
    "doc": [[1], [0], [1], [1], [2]],
    "doc_mask": [[1], [1], [0], [2], [2]],  # [["A"], ["B"], [""], ["C"], ["D"]], mask_value=""
    "doc_salt": [[1], [2], [1], [0], [2]],  # salt=[133, 137]
    "doc_salt1": [[0], [0], [2], [1], [0]],  # salt=133
    "int32": [[8, 0], [5, 9]],  # [[1, 2], [-3, 40]], num_bins=11
    "float": [[8, 1], [4, 9]],  # [[1.7, -2.5], [3.0, 1e10]], num_bins=11
    "int_mask": [[0, 4], [1, 0]],  # [[0, 5], [7, 0]], num_bins=5, mask_value=0
}
ABCDE = [["A", "B", "A"], ["C", "D", "E"]]
TF_HASHING_ENCODED = {  # num_bins=4
    ("one_hot", "column"): [[1.0, 0.0, 0.0, 0.0], [1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0]],  # [["A"], ["B"], ["C"]]
    ("one_hot", "matrix"): [[[1.0, 0.0, 0.0, 0.0], [1.0, 0.0, 0.0, 0.0]], [[0.0, 0.0, 0.0, 1.0], [0.0, 0.0, 0.0, 1.0]]],  # [["A", "B"], ["C", "D"]]
    ("multi_hot", "abcde"): [[1.0, 0.0, 0.0, 0.0], [1.0, 0.0, 0.0, 1.0]],
    ("count", "abcde"): [[3.0, 0.0, 0.0, 0.0], [1.0, 0.0, 0.0, 2.0]],
}
CROSS_A = np.array(INTS, dtype="int64")
CROSS_B = np.array([3, 1, 4, 1, 5, 9], dtype="int64")
TF_CROSSING = {
    "doc": [1, 4, 1, 1, 3],  # (["A", "B", "A", "B", "A"], [101, 101, 101, 102, 102]), num_bins=5
    "ints": [1046521105, 2005014143, 1066605173, 151846599, 1986121020, 1488035655],  # (CROSS_A, CROSS_B), num_bins=BIG
    "strings": [1880880937, 879466529, 543085145, 1034997188, 310461316, 429057071],  # (STRINGS[:6], STRINGS[2:8]), num_bins=BIG
    "mixed3": [129, 813, 835, 413, 761, 41],  # (STRINGS[:6], CROSS_A, STRINGS[2:8]), num_bins=1000
    "column_ints": [[0], [3], [1]],  # ([[1], [2], [3]], [[10], [20], [10]]), num_bins=7
    "one_hot_column": [[1.0, 0.0, 0.0, 0.0]] * 3,  # (CROSS_A[:3, None], CROSS_B[:3, None]), num_bins=4
    "scalar": 10,  # ("A", 7), num_bins=13
    "int32": [0, 10],  # ([1, 2], [3, 4]) int32, num_bins=13
}


def _list(t):
    return t.tolist() if isinstance(t, torch.Tensor) else t


# ----------------------------------------------------------------------
# Hashing
# ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "data, kwargs, key",
    [
        (STRINGS, {"num_bins": BIG}, "strings_fast"),
        (STRINGS, {"num_bins": BIG, "salt": [1, 2**62 + 5]}, "strings_salt"),
        (np.array(INTS, dtype="int64"), {"num_bins": BIG}, "ints_fast"),
        (np.array(INTS, dtype="int64"), {"num_bins": BIG, "salt": 99}, "ints_salt"),
        (DOC, {"num_bins": 3}, "doc"),
        ([["A"], ["B"], [""], ["C"], ["D"]], {"num_bins": 3, "mask_value": ""}, "doc_mask"),
        (DOC, {"num_bins": 3, "salt": [133, 137]}, "doc_salt"),
        (DOC, {"num_bins": 3, "salt": 133}, "doc_salt1"),
        (np.array([[1, 2], [-3, 40]], dtype="int32"), {"num_bins": 11}, "int32"),
        (np.array([[1.7, -2.5], [3.0, 1e10]], dtype="float32"), {"num_bins": 11}, "float"),
        (np.array([[0, 5], [7, 0]]), {"num_bins": 5, "mask_value": 0}, "int_mask"),
    ],
)
def test_hashing_matches_tensorflow(data, kwargs, key):
    out = Hashing(**kwargs)(data)
    assert out.dtype == torch.int64
    assert out.tolist() == TF_HASHING[key]


@pytest.mark.parametrize("as_array", [False, True])
def test_hashing_string_containers(as_array):
    # Python lists, numpy str arrays, bytes and object arrays hash alike.
    data = np.array(STRINGS) if as_array else STRINGS
    assert Hashing(num_bins=BIG)(data).tolist() == TF_HASHING["strings_fast"]
    encoded = np.array([s.encode("utf-8") for s in STRINGS], dtype=object)
    assert Hashing(num_bins=BIG)(encoded).tolist() == TF_HASHING["strings_fast"]
    assert Hashing(num_bins=4)("A").tolist() == 0  # a scalar stays a scalar (Keras: 0)


def test_hashing_mask_with_one_bin():
    # Keras: with one bin the mask reserves nothing; everything is bin 0.
    assert Hashing(num_bins=1, mask_value="")([["a", ""]]).tolist() == [[0, 0]]


@pytest.mark.parametrize(
    "mode, data, key",
    [
        ("one_hot", [["A"], ["B"], ["C"]], "column"),
        ("one_hot", [["A", "B"], ["C", "D"]], "matrix"),
        ("multi_hot", ABCDE, "abcde"),
        ("count", ABCDE, "abcde"),
    ],
)
def test_hashing_encoded_outputs(mode, data, key):
    layer = Hashing(num_bins=4, output_mode=mode)
    out = layer(data)
    assert out.dtype == torch.float32
    assert out.tolist() == TF_HASHING_ENCODED[(mode, key)]
    assert layer.compute_output_shape(np.array(data).shape) == tuple(out.shape)


def test_hashing_layer_harness_on_int_tensors():
    # Integer ids run through the engine: config round trip, symbolic call, a functional model.
    data = np.array(INTS, dtype="int64").reshape(2, 3)
    res = run_layer_test(
        Hashing, {"num_bins": BIG}, input_data=data, expected_output=np.array(TF_HASHING["ints_fast"]).reshape(2, 3),
        expected_output_shape=(2, 3), expected_output_dtype="int64", expected_num_trainable_weights=0,
    )
    assert res.checks == ["config", "symbolic", "eager", "model", "training"]
    run_layer_test(
        Hashing, {"num_bins": 4, "output_mode": "count", "salt": [3, 5], "mask_value": 0},
        input_data=np.array([[0, 1, 2], [3, 3, 0]]), expected_output_shape=(2, 4), expected_output_dtype="float32",
    )


def test_hashing_keeps_the_tensor_device_and_config():
    layer = Hashing(num_bins=7, salt=5, mask_value="", name="h")
    cfg = layer.get_config()
    # Keras's keys and values (its config for the same arguments, TF backend).
    assert {k: cfg[k] for k in ("num_bins", "salt", "mask_value", "output_mode", "sparse")} == {
        "num_bins": 7, "salt": [5, 5], "mask_value": "", "output_mode": "int", "sparse": False}
    assert cfg["dtype"]["config"]["name"] == "int64"
    clone = Hashing.from_config(cfg)
    assert clone(STRINGS).tolist() == layer(STRINGS).tolist()
    assert Hashing(num_bins=3, output_mode="one_hot").get_config()["dtype"]["config"]["name"] == "float32"


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"num_bins": 0}, "num_bins"),
        ({"num_bins": None}, "num_bins"),
        ({"num_bins": 3, "output_mode": "tf_idf"}, "output_mode"),
        ({"num_bins": 3, "sparse": True, "output_mode": "count"}, "sparse"),
        ({"num_bins": 3, "salt": "abc"}, "salt"),
        ({"num_bins": 3, "salt": [1, 2, 3]}, "salt"),
        ({"num_bins": 3, "dtype": "float32"}, "dtype"),
    ],
)
def test_hashing_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=f"Hashing.*{match}"):
        Hashing(**kwargs)


# ----------------------------------------------------------------------
# HashedCrossing
# ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "features, kwargs, key",
    [
        ((np.array(["A", "B", "A", "B", "A"]), np.array([101, 101, 101, 102, 102])), {"num_bins": 5}, "doc"),
        ((CROSS_A, CROSS_B), {"num_bins": BIG}, "ints"),
        ((torch.tensor(CROSS_A), torch.tensor(CROSS_B)), {"num_bins": BIG}, "ints"),
        ((STRINGS[:6], STRINGS[2:8]), {"num_bins": BIG}, "strings"),
        ((STRINGS[:6], CROSS_A, np.array(STRINGS[2:8])), {"num_bins": 1000}, "mixed3"),
        (([[1], [2], [3]], [[10], [20], [10]]), {"num_bins": 7}, "column_ints"),
        ((CROSS_A[:3, None], CROSS_B[:3, None]), {"num_bins": 4, "output_mode": "one_hot"}, "one_hot_column"),
        (("A", 7), {"num_bins": 13}, "scalar"),
        ((np.array([1, 2], dtype="int32"), np.array([3, 4], dtype="int32")), {"num_bins": 13}, "int32"),
    ],
)
def test_hashed_crossing_matches_tensorflow(features, kwargs, key):
    assert _list(HashedCrossing(**kwargs)(features)) == TF_CROSSING[key]


def test_hashed_crossing_one_hot_and_shapes():
    layer = HashedCrossing(num_bins=5, output_mode="one_hot")
    out = layer((np.array(["A", "B", "A", "B", "A"]), np.array([101, 101, 101, 102, 102])))
    assert out.dtype == torch.float32 and out.shape == (5, 5)
    assert out.argmax(-1).tolist() == TF_CROSSING["doc"]
    assert layer.compute_output_shape([(None,), (None,)]) == (None, 5)
    assert layer.compute_output_shape([(None, 1), (None, 1)]) == (None, 5)
    assert HashedCrossing(num_bins=5).compute_output_shape([(None, 1), (None, 1)]) == (None, 1)


def test_hashed_crossing_layer_harness_on_int_tensors():
    res = run_layer_test(
        HashedCrossing, {"num_bins": BIG}, input_data=[CROSS_A[:, None], CROSS_B[:, None]],
        expected_output=np.array(TF_CROSSING["ints"])[:, None], expected_output_shape=(6, 1), expected_output_dtype="int64",
    )
    assert "model" in res.checks


@pytest.mark.parametrize(
    "features, match",
    [
        ((np.array([1, 2]),), "at least two"),
        (np.array([1, 2]), "list or tuple"),
        ((np.array([[1, 2]]), np.array([[1, 2]])), r"\(batch, 1\)"),
        ((np.array([1, 2]), np.array([1, 2, 3])), "same shape"),
        ((np.array([1.5, 2.0]), np.array([1, 2])), "integers or strings"),
    ],
)
def test_hashed_crossing_bad_inputs(features, match):
    with pytest.raises(ValueError, match=f"HashedCrossing.*{match}"):
        HashedCrossing(num_bins=3)(features)


def test_hashed_crossing_bad_arguments_and_config():
    with pytest.raises(ValueError, match="HashedCrossing.*output_mode"):
        HashedCrossing(num_bins=3, output_mode="count")
    with pytest.raises(ValueError, match="HashedCrossing.*num_bins"):
        HashedCrossing(num_bins=0)
    with pytest.raises(ValueError, match="HashedCrossing.*sparse"):
        HashedCrossing(num_bins=3, sparse=True)
    cfg = HashedCrossing(num_bins=3, output_mode="one_hot").get_config()
    assert {k: cfg[k] for k in ("num_bins", "output_mode", "sparse")} == {"num_bins": 3, "output_mode": "one_hot", "sparse": False}
    assert HashedCrossing.from_config(cfg).get_config() == cfg


# ----------------------------------------------------------------------
# CategoryEncoding (Keras on torch is the oracle)
# ----------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["one_hot", "multi_hot", "count"])
@pytest.mark.parametrize("shape", [(6,), (4, 3), (4, 1)])
def test_category_encoding_parity(layer_test, rng, mode, shape):
    ids = rng.integers(0, 5, size=shape)
    layer_test(CategoryEncoding, {"num_tokens": 5, "output_mode": mode}, input_data=ids, keras_parity=True,
               expected_num_trainable_weights=0, run_symbolic_check=len(shape) > 1)


@pytest.mark.parametrize("mode", ["one_hot", "multi_hot", "count"])
def test_category_encoding_scalar_and_rank3_as_keras_eager(keras, rng, mode):
    # Keras's torch backend reduces axis 1 for multi_hot / count; its eager output is the spec.
    for ids in (np.array(3), rng.integers(0, 5, size=(2, 3, 4))):
        ours = CategoryEncoding(num_tokens=5, output_mode=mode)
        theirs = keras.ops.convert_to_numpy(keras.layers.CategoryEncoding(num_tokens=5, output_mode=mode)(ids))
        out = ours(ids)
        np.testing.assert_array_equal(out.numpy(), theirs)
        assert ours.compute_output_shape(ids.shape) == theirs.shape


def test_category_encoding_count_weights(keras, rng):
    ids = rng.integers(0, 4, size=(5, 3))
    w = rng.random((5, 3)).astype("float32")
    theirs = keras.ops.convert_to_numpy(keras.layers.CategoryEncoding(num_tokens=4, output_mode="count")(ids, count_weights=w))
    ours = CategoryEncoding(num_tokens=4, output_mode="count")(ids, count_weights=w)
    np.testing.assert_allclose(ours.numpy(), theirs, rtol=1e-6)
    assert ours.dtype == torch.float32
    with pytest.raises(ValueError, match="CategoryEncoding.*count_weights.*'count'"):
        CategoryEncoding(num_tokens=4, output_mode="multi_hot")(ids, count_weights=w)
    with pytest.raises(ValueError, match=r"CategoryEncoding.*count_weights.*\(5, 3\)"):
        CategoryEncoding(num_tokens=4, output_mode="count")(ids, count_weights=w[:, :2])


@pytest.mark.parametrize("bad", [5, -1])
def test_category_encoding_out_of_range_ids(bad):
    with pytest.raises(ValueError, match=rf"CategoryEncoding.*num_tokens=5.*value {bad}\b"):
        CategoryEncoding(num_tokens=5)(torch.tensor([[0, bad], [1, 2]]))


@pytest.mark.parametrize(
    "kwargs, match",
    [({"num_tokens": 0}, "num_tokens"), ({}, "num_tokens"), ({"num_tokens": 3, "output_mode": "int"}, "output_mode"),
     ({"num_tokens": 3, "sparse": True}, "sparse")],
)
def test_category_encoding_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=f"CategoryEncoding.*{match}"):
        CategoryEncoding(**kwargs)


def test_category_encoding_binary_alias_and_model(keras):
    layer = CategoryEncoding(num_tokens=4, output_mode="binary")
    assert layer.output_mode == "multi_hot"
    inputs = L.Input(shape=(3,), dtype="int64")
    model = Model(inputs, CategoryEncoding(num_tokens=4)(inputs))
    np.testing.assert_array_equal(model(torch.tensor([[0, 1, 1], [3, 3, 2]])).numpy(), [[1, 1, 0, 0], [0, 0, 1, 1]])


# ----------------------------------------------------------------------
# Discretization (Keras on torch is the oracle)
# ----------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["int", "one_hot", "multi_hot", "count"])
@pytest.mark.parametrize("shape", [(6, 1), (4, 3), (2, 3, 5)])
def test_discretization_parity(layer_test, rng, mode, shape):
    x = (rng.normal(size=shape) * 2).astype("float32")
    x.flat[0] = 0.5  # on a boundary: [0.5, ...) is the next bin, as numpy's digitize
    layer_test(Discretization, {"bin_boundaries": [-1.0, 0.0, 0.5, 2.0], "output_mode": mode}, input_data=x,
               keras_parity=True, keras_config_extra_keys=("trainable",), expected_num_trainable_weights=0)


def _keras_adapted(keras, batches, **kwargs):
    # Keras's adapt() needs TensorFlow for its type checks; its summary steps do not.
    k = keras.layers.Discretization(**kwargs)
    for b in batches:
        k.update_state(b)
    k.finalize_state()
    return k.bin_boundaries


@pytest.mark.parametrize("n, epsilon, num_bins", [(8, 0.01, 4), (1000, 0.01, 5), (1000, 0.07, 7), (333, 0.1, 3), (20000, 0.001, 10)])
def test_discretization_adapt_matches_keras(keras, rng, n, epsilon, num_bins):
    x = (rng.normal(size=(n, 1)) * 3).astype("float32")
    ours = Discretization(num_bins=num_bins, epsilon=epsilon)
    ours.adapt(x)
    assert ours.bin_boundaries == _keras_adapted(keras, [x], num_bins=num_bins, epsilon=epsilon)
    assert len(ours.bin_boundaries) == num_bins - 1
    batches = [x[i:i + 64] for i in range(0, n, 64)]
    batched = Discretization(num_bins=num_bins, epsilon=epsilon)
    batched.adapt(iter(batches))  # a generator of batches
    assert batched.bin_boundaries == _keras_adapted(keras, batches, num_bins=num_bins, epsilon=epsilon)


def test_discretization_adapt_forms_and_roundtrip(keras, rng):
    x = rng.normal(size=(300, 1)).astype("float32")
    batches = [x[i:i + 50] for i in range(0, 300, 50)]
    pairs = Discretization(num_bins=4)
    pairs.adapt([(b, np.zeros(len(b))) for b in batches], steps=3)  # (x, y) batches; only 3 read
    assert pairs.bin_boundaries == _keras_adapted(keras, batches[:3], num_bins=4)
    tensor = Discretization(num_bins=4)
    tensor.adapt(torch.from_numpy(x))
    assert tensor.bin_boundaries == _keras_adapted(keras, [x], num_bins=4)
    # The doc example, and an adapted layer's config round trip (both num_bins and boundaries).
    doc = np.array([[-1.5, 1.0, 3.4, 0.5], [0.0, 3.0, 1.3, 0.0]])
    layer = Discretization(num_bins=4, epsilon=0.01)
    layer.adapt(doc)
    assert layer(doc).tolist() == [[0, 2, 3, 2], [1, 3, 3, 1]]
    clone = Discretization.from_config(layer.get_config())
    assert clone.bin_boundaries == layer.bin_boundaries and clone(doc).tolist() == layer(doc).tolist()
    run_layer_test(Discretization, {"bin_boundaries": layer.bin_boundaries}, input_data=doc.astype("float32"),
                   expected_output=np.array([[0, 2, 3, 2], [1, 3, 3, 1]]), expected_output_dtype="int32")


def test_discretization_int_inputs_and_symbolic_dtype():
    layer = Discretization(bin_boundaries=[0, 1, 2])
    assert layer.get_config()["bin_boundaries"] == [0, 1, 2]  # kept as given, as Keras does
    assert layer(torch.tensor([[-1, 0, 1, 5]])).tolist() == [[0, 1, 2, 3]]
    inputs = L.Input(shape=(4,))
    out = layer(inputs)
    assert out.dtype == "int32" and out.shape == (None, 4)
    model = Model(inputs, layer(inputs))
    y = model(torch.tensor([[-1.0, 0.0, 1.5, 5.0]]))
    assert y.dtype == torch.int32 and y.tolist() == [[0, 1, 2, 3]]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({}, "num_bins.*bin_boundaries"),
        ({"num_bins": 3, "bin_boundaries": [0.0]}, "not both"),
        ({"num_bins": 0}, "num_bins"),
        ({"bin_boundaries": [1.0, 0.0]}, "increasing"),
        ({"bin_boundaries": [0.0], "output_mode": "tf_idf"}, "output_mode"),
        ({"bin_boundaries": [0.0], "output_mode": "count", "sparse": True}, "sparse"),
        ({"num_bins": 3, "epsilon": 0.0}, "epsilon"),
    ],
)
def test_discretization_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=f"Discretization.*{match}"):
        Discretization(**kwargs)


def test_discretization_unadapted_and_given_boundaries_errors():
    with pytest.raises(ValueError, match="Discretization.*adapt"):
        Discretization(num_bins=3)(np.zeros((2, 1)))
    with pytest.raises(ValueError, match="Discretization.*bin_boundaries"):
        Discretization(bin_boundaries=[0.0]).adapt(np.zeros((2, 1)))
