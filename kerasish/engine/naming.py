"""Keras-style automatic names: ``conv2d``, ``conv2d_1``, ... unique per session.

Keras 3 keeps one counter per name prefix for the whole Python session
(reset by ``clear_session()``), so the second Conv2D ever made is ``conv2d_1``
whatever model it ends up in. We do the same so that summaries, ``get_layer``
and weight files line up with what Keras users see.
"""

from __future__ import annotations

import re
import threading

_lock = threading.Lock()
_uids: dict[str, int] = {}


def to_snake_case(name: str) -> str:
    """``MaxPooling2D`` -> ``max_pooling2d``, ``ReLU`` -> ``re_lu`` (Keras's rule)."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    name = re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()
    return name


def unique_name(prefix: str) -> str:
    """Return ``prefix`` the first time, then ``prefix_1``, ``prefix_2``, ..."""
    with _lock:
        count = _uids.get(prefix, 0)
        _uids[prefix] = count + 1
    return prefix if count == 0 else f"{prefix}_{count}"


def auto_name(obj_or_cls) -> str:
    cls = obj_or_cls if isinstance(obj_or_cls, type) else type(obj_or_cls)
    return unique_name(to_snake_case(cls.__name__))


def clear_session() -> None:
    """Reset the name counters, as ``keras.backend.clear_session()`` does."""
    with _lock:
        _uids.clear()
