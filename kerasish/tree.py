"""Nested structures (``keras.tree``): one set of leaf rules for the whole library.

Built on `optree <https://github.com/metaopt/optree>`_ with Keras 3's rules, so a
structure flattens here exactly as ``keras.tree`` flattens it:

- nodes: ``list``, ``tuple``, ``namedtuple``, ``dict``, ``OrderedDict``,
  ``defaultdict``, ``deque`` (and ``torch.return_types``-style struct sequences);
  anything else, including other ``Mapping`` or ``tuple`` subclasses, is a leaf;
- ``None`` is a leaf (``flatten(None) == [None]``);
- a ``dict``'s values come in sorted key order, an ``OrderedDict``'s in its own
  order; packing gives a ``dict`` back with the keys in its original order;
- containers keep their type: a tuple stays a tuple, a list a list, a
  namedtuple the same namedtuple.

Example:

>>> from kerasish import tree
>>> tree.flatten({"b": 1, "a": (2, None)})
[2, None, 1]
>>> tree.pack_sequence_as({"b": 0, "a": (0, 0)}, [1, 2, 3])
{'b': 3, 'a': (1, 2)}
>>> tree.map_structure(lambda v: v * 10, [1, (2, 3)])
[10, (20, 30)]

This module imports nothing else of kerasish, so any part of it can use it.
"""

from collections import deque

import optree

__all__ = [
    "MAP_TO_NONE",
    "assert_same_structure",
    "flatten",
    "is_nested",
    "lists_to_tuples",
    "map_shape_structure",
    "map_structure",
    "map_structure_up_to",
    "pack_sequence_as",
    "traverse",
]

# Keras registers its own node types under this namespace; kerasish registers
# none, so the namespace only keeps us apart from other optree users' registrations.
_NAMESPACE = "keras"

# Every optree node type is an instance of one of these (namedtuples and struct
# sequences are tuples, OrderedDict and defaultdict are dicts): anything else is
# a leaf without asking optree, which keeps the common single-tensor case cheap.
_NODE_BASES = (list, tuple, dict, deque)


class MAP_TO_NONE:
    """Return this from a :func:`traverse` function to put ``None`` in that place."""


def _is_leaf(x, none_is_leaf=True):
    if not isinstance(x, _NODE_BASES):
        return x is not None or none_is_leaf
    return optree.tree_structure(x, none_is_leaf=none_is_leaf, namespace=_NAMESPACE).is_leaf()


def is_nested(structure):
    """Whether ``structure`` is a container the tree functions walk into.

    Args:
        structure: Any Python object.

    Returns:
        ``True`` for a list, tuple, namedtuple, dict, OrderedDict, defaultdict or
        deque; ``False`` for leaves (tensors, arrays, numbers, strings, ``None``).

    Example:

    >>> is_nested([1, 2]), is_nested((1,)), is_nested({"a": 1})
    (True, True, True)
    >>> is_nested(None), is_nested("ab")
    (False, False)
    """
    return not _is_leaf(structure)


def flatten(structure, *, none_is_leaf=True, is_leaf=None):
    """The leaves of a nested structure, as a list.

    Dict values come in sorted key order (``OrderedDict`` values in their own
    order), as in ``keras.tree.flatten``; :func:`pack_sequence_as` reads them back
    in the same order.

    Args:
        structure: A leaf or a nested structure.
        none_is_leaf: kerasish extension: ``False`` drops the ``None`` leaves
            (the default, ``True``, keeps them, as Keras does).
        is_leaf: kerasish extension: a predicate; a subtree for which it returns
            ``True`` is taken whole as one leaf (e.g. shape tuples).

    Returns:
        A list of the leaves.

    Example:

    >>> flatten([[1, 2, 3], [4, [5], [[6]]]])
    [1, 2, 3, 4, 5, 6]
    >>> flatten({100: "world!", 6: "Hello"})
    ['Hello', 'world!']
    >>> flatten(None), flatten([None, 1], none_is_leaf=False)
    ([None], [1])
    """
    if is_leaf is None:
        if not isinstance(structure, _NODE_BASES):
            return [structure] if structure is not None or none_is_leaf else []
        # A flat list or tuple of leaves (a layer's outputs, a model's inputs, per
        # batch) is its own flattening: cheaper in Python than a call into optree.
        if none_is_leaf and (type(structure) is list or type(structure) is tuple):
            for x in structure:
                if isinstance(x, _NODE_BASES):
                    break
            else:
                return list(structure)
    return optree.tree_leaves(structure, is_leaf=is_leaf, none_is_leaf=none_is_leaf, namespace=_NAMESPACE)


def pack_sequence_as(structure, flat_sequence):
    """Put the items of ``flat_sequence`` into the nesting of ``structure``.

    The inverse of :func:`flatten`: ``pack_sequence_as(s, flatten(s))`` equals
    ``s``. Dicts are filled in sorted key order and come back with their own key
    order.

    Args:
        structure: The nested structure to copy; its leaves are ignored.
        flat_sequence: As many items as ``structure`` has leaves.

    Returns:
        A structure like ``structure`` holding the items of ``flat_sequence``.

    Raises:
        ValueError: If the number of items does not match the number of leaves.

    Example:

    >>> pack_sequence_as({"key3": "", "key1": "", "key2": ""}, ["v1", "v2", "v3"])
    {'key3': 'v3', 'key1': 'v1', 'key2': 'v2'}
    >>> pack_sequence_as((("a", "b"), "c"), [1, 2, 3])
    ((1, 2), 3)
    """
    flat_sequence = list(flat_sequence)
    if not isinstance(structure, _NODE_BASES):
        if len(flat_sequence) != 1:
            raise ValueError(f"pack_sequence_as: a single leaf takes 1 item, got {len(flat_sequence)}.")
        return flat_sequence[0]
    kind = type(structure)
    if (kind is list or kind is tuple) and len(structure) == len(flat_sequence):
        for x in structure:  # flat: rebuild it directly, as flatten reads it
            if isinstance(x, _NODE_BASES):
                break
        else:
            return flat_sequence if kind is list else tuple(flat_sequence)
    spec = optree.tree_structure(structure, none_is_leaf=True, namespace=_NAMESPACE)
    if spec.num_leaves != len(flat_sequence):
        raise ValueError(
            f"pack_sequence_as: the structure has {spec.num_leaves} leaves but {len(flat_sequence)} items were given."
        )
    return spec.unflatten(flat_sequence)


def map_structure(func, *structures, none_is_leaf=True, is_leaf=None):
    """Apply ``func`` to the leaves of one or more structures of the same layout.

    Args:
        func: A callable taking one leaf from each structure.
        *structures: One or more nested structures, all nested the same way.
        none_is_leaf: If ``True`` (Keras's default), ``func`` is called on ``None``
            leaves too; if ``False``, ``None`` stays ``None`` without a call.
        is_leaf: kerasish extension: a predicate; a subtree for which it returns
            ``True`` is passed whole to ``func``.

    Returns:
        A structure like the first one, holding ``func``'s results.

    Raises:
        ValueError: If there are no structures, or they are nested differently.

    Example:

    >>> map_structure(lambda v: v**2, [[1], [2], [3]])
    [[1], [4], [9]]
    >>> map_structure(lambda x, y: x * y, (1, [2]), (3, [4]))
    (3, [8])
    >>> map_structure(lambda v: v + 1, [1, None], none_is_leaf=False)
    [2, None]
    """
    if not structures:
        raise ValueError("map_structure: give at least one structure.")
    if len(structures) == 1 and is_leaf is None and not isinstance(structures[0], _NODE_BASES):
        s = structures[0]
        return None if s is None and not none_is_leaf else func(s)
    if len(structures) > 1:
        for other in structures[1:]:
            assert_same_structure(structures[0], other)
    return optree.tree_map(func, *structures, is_leaf=is_leaf, none_is_leaf=none_is_leaf, namespace=_NAMESPACE)


def map_structure_up_to(shallow_structure, func, *structures):
    """Like :func:`map_structure`, but only down to the nesting of ``shallow_structure``:
    what lies deeper in ``structures`` is passed to ``func`` whole.

    Args:
        shallow_structure: A structure whose leaves mark where to stop.
        func: A callable taking one item from each of ``structures``.
        *structures: Structures nested at least as deep as ``shallow_structure``.

    Returns:
        A structure like ``shallow_structure`` holding ``func``'s results.

    Raises:
        ValueError: If there are no structures, or one is shallower than
            ``shallow_structure`` or nested differently.

    Example:

    >>> map_structure_up_to([None, None], len, [[1, 1], [2, 2]])
    [2, 2]
    >>> map_structure_up_to([None, [None, None]], str, [[1, 1], [2, 2]])
    ['[1, 1]', ['2', '2']]
    """
    if not structures:
        raise ValueError("map_structure_up_to: give at least one structure.")

    def call(shallow, *items):
        if not _is_leaf(shallow):
            raise ValueError("map_structure_up_to: a structure is shallower than `shallow_structure`.")
        return func(*items)

    try:
        return optree.tree_map(call, shallow_structure, *structures, none_is_leaf=True, namespace=_NAMESPACE)
    except ValueError as e:
        raise ValueError(f"map_structure_up_to: the structures do not match `shallow_structure`: {e}") from None


def assert_same_structure(a, b, check_types=None):
    """Raise ``ValueError`` unless ``a`` and ``b`` are nested the same way.

    Containers must match in type (a list is not a tuple; dict, OrderedDict and
    defaultdict count as the same) and in length or keys; leaves may differ.

    Args:
        a: A nested structure.
        b: Another nested structure.
        check_types: Ignored (deprecated in Keras too).

    Example:

    >>> assert_same_structure([1, (2, 3)], [4, (5, 6)])
    >>> assert_same_structure([1, 2], (1, 2))
    Traceback (most recent call last):
    ...
    ValueError: The two structures don't have the same nested structure: ...
    """
    def check(x, y):
        if not (_is_leaf(x) and _is_leaf(y)):
            raise ValueError("nested deeper on one side")

    try:
        optree.tree_map(check, a, b, none_is_leaf=True, namespace=_NAMESPACE)
    except ValueError as e:
        raise ValueError(f"The two structures don't have the same nested structure: {a!r} and {b!r} ({e}).") from None


def traverse(func, structure, top_down=True):
    """Apply ``func`` to every node and leaf, rebuilding the structure.

    Top-down, ``func`` sees each subtree before its children: a result other
    than ``None`` replaces the subtree (and its children are not visited);
    ``None`` means "keep it and go on into it". Bottom-up, ``func`` sees each
    subtree after its children were traversed, and ``None`` keeps that
    result. Return :class:`MAP_TO_NONE` to put ``None`` in a place.

    Args:
        func: A callable on one subtree, returning a replacement or ``None``.
        structure: A nested structure.
        top_down: Visit parents before (``True``) or after (``False``) their children.

    Returns:
        The rebuilt structure.

    Example:

    >>> traverse(lambda x: tuple(x) if isinstance(x, list) else None, [1, [2]], top_down=False)
    (1, (2,))
    """
    def children_traversed(node):
        if _is_leaf(node):
            return node
        children, spec = optree.tree_flatten(node, is_leaf=lambda x: x is not node, none_is_leaf=True, namespace=_NAMESPACE)
        return spec.unflatten([traverse(func, c, top_down=top_down) for c in children])

    if top_down:
        result = func(structure)
        if result is None:
            return children_traversed(structure)
    else:
        structure = children_traversed(structure)
        result = func(structure)
        if result is None:
            return structure
    return None if result is MAP_TO_NONE else result


def lists_to_tuples(structure):
    """The same structure with every list made a tuple.

    Example:

    >>> lists_to_tuples([1, {"a": [2]}])
    (1, {'a': (2,)})
    """
    return traverse(lambda x: tuple(x) if isinstance(x, list) else None, structure, top_down=False)


def _is_shape(x):
    return isinstance(x, (list, tuple)) and all(isinstance(d, (int, type(None))) for d in x)


def map_shape_structure(func, structure):
    """Apply ``func`` to every shape (a list or tuple of ints and ``None``) in a
    nested structure of shapes.

    Example:

    >>> map_shape_structure(len, {"a": (None, 3), "b": [(2, 4, 4), (2,)]})
    {'a': 2, 'b': [3, 1]}
    """
    return optree.tree_map(func, structure, is_leaf=_is_shape, none_is_leaf=True, namespace=_NAMESPACE)
