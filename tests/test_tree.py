"""kerasish.tree against keras.tree on the same nested inputs."""

import collections

import keras
import numpy as np
import pytest
from keras.src.tree import optree_impl

from kerasish import tree

# The oracle is Keras's optree implementation (its JAX/TensorFlow backends use
# it): under the torch backend `keras.tree` goes through torch's pytree and only
# sorts the keys of the outermost dict (see test_keras_torch_backend_sorts_top_dict).
K = optree_impl

Point = collections.namedtuple("Point", ["x", "y"])

STRUCTURES = [
    1,
    None,
    [1, 2, 3],
    (1, [2, (3, 4)]),
    {"b": 1, "a": 2, "c": {"z": 3, "y": 4}},
    {"b": [1, None], "a": (None, 2)},
    [None, None],
    Point(x=(1, 2), y={"k": 3, "j": 4}),
    collections.OrderedDict([("b", 1), ("a", 2)]),
    [np.arange(3), {"w": np.ones(2), "v": (np.zeros(1),)}],
    [],
    {},
]
IDS = [f"{i}-{type(s).__name__}" for i, s in enumerate(STRUCTURES)]


def _same(a, b):
    """Equal values, and equal container types all the way down."""
    assert type(a) is type(b), (a, b)
    if isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            _same(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _same(x, y)
    elif isinstance(a, np.ndarray):
        np.testing.assert_array_equal(a, b)
    else:
        assert a == b


@pytest.mark.parametrize("s", STRUCTURES, ids=IDS)
def test_flatten_matches_keras(s):
    _same(tree.flatten(s), K.flatten(s))


@pytest.mark.parametrize("s", STRUCTURES, ids=IDS)
def test_is_nested_matches_keras(s):
    assert tree.is_nested(s) == K.is_nested(s)


@pytest.mark.parametrize("s", STRUCTURES, ids=IDS)
def test_pack_sequence_as_matches_keras(s):
    flat = [f"v{i}" for i in range(len(K.flatten(s)))]
    ours = tree.pack_sequence_as(s, flat)
    _same(ours, K.pack_sequence_as(s, flat))
    _same(tree.flatten(ours), flat)  # round trip in the same (sorted) order


@pytest.mark.parametrize("s", STRUCTURES, ids=IDS)
def test_map_structure_matches_keras(s):
    fn = lambda v: ("leaf", None if v is None else str(v))  # noqa: E731
    _same(tree.map_structure(fn, s), K.map_structure(fn, s))
    _same(tree.map_structure(fn, s, none_is_leaf=False), K.map_structure(fn, s, none_is_leaf=False))


def test_dicts_sorted_and_key_order_kept():
    s = {"b": 1, "a": 2}
    assert tree.flatten(s) == [2, 1]
    packed = tree.pack_sequence_as(s, ["A", "B"])
    assert list(packed) == ["b", "a"] and packed == {"a": "A", "b": "B"}


def test_containers_keep_their_type():
    s = (1, [2, Point(3, 4)])
    out = tree.map_structure(lambda v: v * 2, s)
    assert out == (2, [4, Point(6, 8)])
    assert type(out) is tuple and type(out[1]) is list and type(out[1][1]) is Point


def test_map_structure_several_matches_keras():
    a, b = {"b": [1, 2], "a": 3}, {"a": 30, "b": [10, 20]}
    _same(tree.map_structure(lambda x, y: x + y, a, b), K.map_structure(lambda x, y: x + y, a, b))


@pytest.mark.parametrize("a,b", [([1, 2], (1, 2)), ([1, [2]], [1, 2]), ({"a": 1}, {"b": 1}), ([1], [1, 2])])
def test_mismatched_structures_raise_like_keras(a, b):
    with pytest.raises(ValueError):
        keras.tree.assert_same_structure(a, b)
    with pytest.raises(ValueError):
        tree.assert_same_structure(a, b)
    with pytest.raises(ValueError):
        tree.map_structure(lambda x, y: x, a, b)


def test_assert_same_structure_accepts_same_nesting():
    tree.assert_same_structure({"a": (1, [2])}, {"a": (3, [None])})


def test_map_structure_up_to_matches_keras():
    shallow, s = [None, [None, None]], [[1, 1], [2, (2,)]]
    _same(tree.map_structure_up_to(shallow, str, s), keras.tree.map_structure_up_to(shallow, str, s))
    with pytest.raises(ValueError):
        tree.map_structure_up_to([None, [None, None]], str, [[1, 1], 2])


def test_pack_sequence_as_wrong_count():
    with pytest.raises(ValueError, match="3 leaves but 2"):
        tree.pack_sequence_as([1, (2, 3)], ["a", "b"])
    with pytest.raises(ValueError, match="takes 1 item"):
        tree.pack_sequence_as(1, [])


@pytest.mark.parametrize("top_down", [True, False])
def test_traverse_matches_keras(top_down):
    s = [1, (2, [3]), {"b": [4], "a": 5}]

    def fn(x):
        if isinstance(x, list):
            return tuple(x)
        if x == 5:
            return keras.tree.MAP_TO_NONE if fn.keras else tree.MAP_TO_NONE
        return None

    fn.keras = True
    theirs = K.traverse(fn, s, top_down=top_down)
    fn.keras = False
    _same(tree.traverse(fn, s, top_down=top_down), theirs)


def test_lists_to_tuples_and_shapes_match_keras():
    s = [1, {"a": [2, (3, [4])]}]
    _same(tree.lists_to_tuples(s), K.lists_to_tuples(s))
    shapes = {"b": (None, 3), "a": [(2, 4), [5]]}
    _same(tree.map_shape_structure(len, shapes), K.map_shape_structure(len, shapes))


def test_extensions_none_and_is_leaf():
    assert tree.flatten({"b": None, "a": [1, None]}, none_is_leaf=False) == [1]
    shapes = [(None, 3), {"b": (2,), "a": (4, 5)}]
    assert tree.flatten(shapes, is_leaf=lambda x: isinstance(x, tuple)) == [(None, 3), (4, 5), (2,)]


def test_public_as_keras_tree():
    import kerasish

    assert kerasish.tree is tree


def test_keras_torch_backend_sorts_top_dict():
    """keras.tree under the torch backend agrees with us where it sorts (the top dict)."""
    s = {"b": [1, 2], "a": (3, {"k": 4})}
    assert tree.flatten(s) == keras.tree.flatten(s) == [3, 4, 1, 2]
    nested = {"c": {"z": 1, "y": 2}}
    assert tree.flatten(nested) == K.flatten(nested) == [2, 1]
