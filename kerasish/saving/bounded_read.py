"""Reading untrusted files within bounds: the one JSON decoder every reader
uses (size and nesting capped), and HDF5 access that follows no links and
checks a dataset's declared shape and dtype before reading it.

A file is data chosen by whoever wrote it. Its declared sizes are checked
against what the model needs before anything is inflated or allocated, and
every refusal is a ValueError naming the file and the entry.
"""

from __future__ import annotations

import json
import re

import h5py
import numpy as np

# config.json / metadata.json / an HDF5 model_config attribute: a real model's
# config is a few MB at most (a 1000-layer functional model is ~2 MB).
MAX_CONFIG_BYTES = 64 * 2**20
# Deepest JSON nesting a config may have. A nested model adds ~6 levels, a
# functional config's inbound nodes ~8: 256 leaves room for dozens of nested
# models, and keeps json (and the deserializers' recursion) far from Python's
# recursion limit.
MAX_JSON_DEPTH = 256

# A JSON string literal (escapes included), written unrolled so that the
# regex engine runs in linear time on long strings.
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")


def json_depth(text: str) -> int:
    """The deepest nesting of ``[``/``{`` in JSON ``text`` (outside strings),
    computed without recursion."""
    brackets = _NOT_BRACKET.sub("", _JSON_STRING.sub("", text))
    if not brackets:
        return 0
    codes = np.frombuffer(brackets.encode("ascii"), dtype=np.uint8)
    steps = np.where((codes == ord("[")) | (codes == ord("{")), 1, -1)
    return int(np.cumsum(steps).max())


def decode_json(raw, source, what: str, object_hook=None, max_bytes: int = MAX_CONFIG_BYTES):
    """Decode a config's JSON, refusing what is too large or too deeply nested.

    Args:
        raw: ``str`` or ``bytes`` (UTF-8).
        source: the file, named in errors.
        what: the entry (``"config.json"``, ``"the 'model_config' attribute"``).
        object_hook: passed to ``json.loads``.
        max_bytes: the size limit.

    Raises:
        ValueError: naming ``source`` and ``what``: too large, nested deeper
            than :data:`MAX_JSON_DEPTH`, not UTF-8 or not JSON.

    Example:
        >>> from kerasish.saving.bounded_read import decode_json
        >>> decode_json(b'{"a": [1, 2]}', "m.keras", "config.json")
        {'a': [1, 2]}
        >>> decode_json("[" * 1000 + "]" * 1000, "m.keras", "config.json")
        Traceback (most recent call last):
        ...
        ValueError: 'm.keras': config.json is nested 1000 levels deep, more than the 256 a model config may have.
    """
    if len(raw) > max_bytes:
        raise ValueError(f"'{source}': {what} is {len(raw)} bytes, more than the {max_bytes} a model config may have.")
    try:
        text = raw.decode("utf-8") if isinstance(raw, (bytes, bytearray, np.bytes_)) else str(raw)
    except UnicodeDecodeError as e:
        raise ValueError(f"'{source}': {what} is not valid UTF-8 text: {e}") from e
    depth = json_depth(text)
    if depth > MAX_JSON_DEPTH:
        raise ValueError(f"'{source}': {what} is nested {depth} levels deep, more than the {MAX_JSON_DEPTH} a model config may have.")
    try:
        return json.loads(text, object_hook=object_hook)
    except (json.JSONDecodeError, RecursionError) as e:
        raise ValueError(f"'{source}': {what} is not valid JSON: {e}") from e


def h5_get(group, path: str, filepath, want=None):
    """``group[path]`` following hard links only, or None where ``path`` is absent.

    Args:
        want: ``h5py.Group`` or ``h5py.Dataset`` to require a kind (None: any).

    Raises:
        ValueError: a part of ``path`` is a soft or external link (HDF5 would
            follow it, to another file on the machine), or not of kind ``want``.
    """
    current = group
    for part in path.split("/"):
        if not part or not isinstance(current, h5py.Group):
            raise ValueError(f"Invalid entry '{path}' in '{filepath}' (under '{group.name}').")
        link = current.get(part, getlink=True)
        if link is None:
            return None
        if not isinstance(link, h5py.HardLink):
            raise ValueError(
                f"'{filepath}': the entry '{current.name.rstrip('/')}/{part}' is an HDF5 {type(link).__name__}; "
                "kerasish follows no links in weight files (one could read another file on this machine)."
            )
        current = current[part]
    if want is not None and not isinstance(current, want):
        raise ValueError(f"'{filepath}': the entry '{current.name}' is not an HDF5 {want.__name__[0].lower() + want.__name__[1:]}.")
    return current


def h5_require(group, path: str, filepath, want=None):
    """:func:`h5_get`, but a missing entry is a ValueError naming it."""
    found = h5_get(group, path, filepath, want)
    if found is None:
        raise ValueError(f"'{filepath}' is missing the entry '{path}' (under '{group.name}').")
    return found


def h5_children(group, filepath) -> list:
    """The names in ``group``, refusing any member that is a link."""
    names = list(group.keys())
    for name in names:
        h5_get(group, name, filepath)
    return names


def check_dataset(ds, filepath) -> None:
    """Refuse a dataset that is not numeric before any of it is read."""
    if not isinstance(ds, h5py.Dataset):
        raise ValueError(f"'{filepath}': the entry '{ds.name}' is not an HDF5 dataset.")
    if ds.dtype.kind not in "biuf":
        raise ValueError(f"'{filepath}': the entry '{ds.name}' holds {ds.dtype}, not numbers.")
