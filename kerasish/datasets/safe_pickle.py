"""A pickle reader that runs no code the file names: for the CIFAR archives.

The CIFAR "python version" archives hold Python 2 pickles of numpy arrays and
lists. ``pickle.load`` would call any function or class the file names (the
``GLOBAL`` / ``STACK_GLOBAL`` opcodes), which is how a pickle runs code.
:class:`RestrictedUnpickler` resolves those names to a handful of small
validating stand-ins written here and refuses everything else, so reading a
hostile file raises ``pickle.UnpicklingError`` and nothing runs.

Example:
    >>> import pickle, numpy as np
    >>> from kerasish.datasets.safe_pickle import restricted_loads
    >>> restricted_loads(pickle.dumps({b"data": np.arange(3, dtype=np.uint8)}, protocol=2))[b"data"].tolist()
    [0, 1, 2]
"""

from __future__ import annotations

import io
import pickle
import re

import numpy as np

_NUMERIC_CODE = re.compile(r"^(?:b1|[iuf][1248]|f2|f16|c8|c16|c32)$")


class _NDArrayMarker:
    """Stands for ``numpy.ndarray`` in a pickle; it cannot be called."""

    def __repr__(self):
        return "<numpy.ndarray marker>"


_NDARRAY = _NDArrayMarker()


def _text(value, what: str) -> str:
    if isinstance(value, bytes):
        value = value.decode("ascii")
    if not isinstance(value, str):
        raise pickle.UnpicklingError(f"Unexpected {what} in pickle: {value!r}.")
    return value


class _DTypeSpec:
    """Record of a pickled ``numpy.dtype(code, align, copy)`` plus its state.

    Only plain numeric codes (``u1``, ``i8``, ``f4``...) are accepted, with
    no fields, sub-arrays or object items.
    """

    code = None
    byteorder = "|"

    def __init__(self, code, align=False, copy=False, *rest):
        code = _text(code, "dtype code")
        if rest or not _NUMERIC_CODE.match(code):
            raise pickle.UnpicklingError(f"Refusing numpy dtype {code!r} in pickle (only plain numeric dtypes).")
        self.code = code
        self.byteorder = "|"

    def __setstate__(self, state):
        if not isinstance(state, tuple) or len(state) not in (8, 9):
            raise pickle.UnpicklingError(f"Unexpected numpy dtype state in pickle: {state!r}.")
        if any(item is not None for item in state[2:5]) or (len(state) == 9 and state[8]):
            raise pickle.UnpicklingError("Refusing structured numpy dtype in pickle.")
        order = _text(state[1], "byte order")
        if order not in ("|", "<", ">", "="):
            raise pickle.UnpicklingError(f"Unexpected byte order in pickle: {order!r}.")
        self.byteorder = order

    def resolve(self) -> np.dtype:
        if self.code is None:
            raise pickle.UnpicklingError("Incomplete numpy dtype in pickle.")
        dtype = np.dtype(self.code)
        return dtype.newbyteorder(self.byteorder) if self.byteorder in "<>" else dtype


class _ArraySpec:
    """Record of a pickled ``ndarray``; :meth:`__setstate__` builds the data.

    The state ``(version, shape, dtype, is_fortran, raw_bytes)`` is checked
    (shape of non-negative ints, a :class:`_DTypeSpec`, exactly
    ``prod(shape) * itemsize`` bytes) and turned into an array with
    ``np.frombuffer``: numpy's own ``__setstate__`` never sees file data.
    """

    array = None

    def __setstate__(self, state):
        if not isinstance(state, tuple) or len(state) not in (4, 5):
            raise pickle.UnpicklingError("Unexpected numpy array state in pickle.")
        shape, dtype, fortran, raw = state[-4:]
        if not isinstance(shape, tuple) or not all(type(n) is int and n >= 0 for n in shape):
            raise pickle.UnpicklingError(f"Unexpected numpy array shape in pickle: {shape!r}.")
        if not isinstance(dtype, _DTypeSpec):
            raise pickle.UnpicklingError("Unexpected numpy array dtype in pickle.")
        if isinstance(raw, str):  # pickles read with encoding="latin1"
            raw = raw.encode("latin1")
        if not isinstance(raw, (bytes, bytearray)):
            raise pickle.UnpicklingError("Unexpected numpy array data in pickle.")
        dt = dtype.resolve()
        count = int(np.prod(shape, dtype=np.int64))
        if len(raw) != count * dt.itemsize:
            raise pickle.UnpicklingError(
                f"numpy array data in pickle has {len(raw)} bytes, expected {count * dt.itemsize} "
                f"for shape {shape} and dtype {dt}."
            )
        self.array = np.frombuffer(raw, dtype=dt, count=count).reshape(shape, order="F" if fortran else "C")


def _reconstruct(subtype, shape, typecode):
    # numpy.core.multiarray._reconstruct(ndarray, (0,), b'b'): the empty
    # placeholder that BUILD then fills through __setstate__.
    if subtype is not _NDARRAY or shape != (0,) or typecode not in (b"b", "b"):
        raise pickle.UnpicklingError("Refusing numpy _reconstruct call with unexpected arguments in pickle.")
    return _ArraySpec()


def _codecs_encode(text, encoding="utf-8"):
    # Python 3 writes ``bytes`` in protocol-2 pickles as
    # _codecs.encode(str, "latin1"); only that exact conversion is allowed.
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise pickle.UnpicklingError("Refusing _codecs.encode call with unexpected arguments in pickle.")
    return text.encode("latin1")


_ALLOWED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy", "ndarray"): _NDARRAY,
    ("numpy", "dtype"): _DTypeSpec,
    ("_codecs", "encode"): _codecs_encode,
}


class RestrictedUnpickler(pickle.Unpickler):
    """A pickle reader that can only build dicts, lists, strings, numbers and
    plain numeric numpy arrays: exactly what the CIFAR batch files contain.

    Why this is safe: a pickle can only run code through the globals it names
    (``GLOBAL`` / ``STACK_GLOBAL`` opcodes, resolved by :meth:`find_class`),
    which ``REDUCE``/``NEWOBJ``/``BUILD`` then call. Here :meth:`find_class`
    never imports anything. It refuses every name with
    ``pickle.UnpicklingError``, except the five a numpy array pickle uses,
    and for those it returns stand-ins written in this module:
    ``numpy.ndarray`` becomes an inert marker that cannot be called;
    ``numpy.core.multiarray._reconstruct`` (either numpy spelling) and
    ``numpy.dtype`` become recorders that check their arguments and
    build nothing; ``_codecs.encode`` only accepts ``(str, "latin1")``.
    The recorded arrays are then made with ``np.frombuffer`` from a plain
    numeric dtype (no object or structured dtypes, so no pointers and no
    ``__setstate__`` of numpy called on file data) and an exactly sized
    byte string. ``persistent_load`` and out-of-band buffers are not set, so
    those opcodes fail too. A file such as one whose ``__reduce__`` names
    ``os.system`` therefore fails with ``UnpicklingError`` before anything
    runs.

    Use :func:`restricted_loads` / :func:`load_cifar_batch` rather than this
    class directly: they also swap the recorders for the finished arrays.
    """

    def find_class(self, module, name):
        try:
            return _ALLOWED_GLOBALS[(module, name)]
        except (KeyError, TypeError):
            raise pickle.UnpicklingError(
                f"Refusing to load global '{module}.{name}' from a dataset pickle: only numpy "
                "array data is accepted. The file may be corrupted or malicious."
            ) from None


def _finish(obj, depth=0):
    if depth > 20:
        raise pickle.UnpicklingError("Dataset pickle is nested too deeply.")
    if isinstance(obj, _ArraySpec):
        if obj.array is None:
            raise pickle.UnpicklingError("Incomplete numpy array in dataset pickle.")
        return obj.array
    if isinstance(obj, (_DTypeSpec, _NDArrayMarker)):
        raise pickle.UnpicklingError("Unexpected numpy object in dataset pickle.")
    if isinstance(obj, dict):
        return {_finish(k, depth + 1): _finish(v, depth + 1) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_finish(v, depth + 1) for v in obj]
    if isinstance(obj, tuple):
        return tuple(_finish(v, depth + 1) for v in obj)
    return obj


def restricted_load(fileobj, encoding: str = "bytes"):
    """Read one pickle from a binary file object with :class:`RestrictedUnpickler`.

    Args:
        fileobj: an open binary file.
        encoding: how Python 2 ``str`` objects are decoded; ``"bytes"`` (the
            CIFAR convention, as in Keras) keeps them as ``bytes``.

    Returns:
        The loaded object, numpy arrays finished.

    Raises:
        pickle.UnpicklingError: the pickle names anything else.
    """
    return _finish(RestrictedUnpickler(fileobj, encoding=encoding).load())


def restricted_loads(data: bytes, encoding: str = "bytes"):
    """:func:`restricted_load` on a ``bytes`` object."""
    return restricted_load(io.BytesIO(data), encoding=encoding)
