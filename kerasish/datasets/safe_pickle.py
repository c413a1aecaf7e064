"""A pickle reader that runs no code the file names: for the CIFAR archives
and the IMDB / Reuters ``.npz`` files.

The CIFAR "python version" archives hold Python 2 pickles of numpy arrays and
lists; ``imdb.npz`` and ``reuters.npz`` hold numpy *object* arrays of Python
lists of ints, which the ``.npy`` format stores as a pickle (:func:`load_npz`
reads them, with object arrays allowed only there). ``pickle.load`` would
call any function or class the file names (the ``GLOBAL`` / ``STACK_GLOBAL``
opcodes), which is how a pickle runs code.
:class:`RestrictedUnpickler` resolves those names to a handful of small
validating stand-ins written here and refuses everything else, so reading a
hostile file raises ``pickle.UnpicklingError`` and nothing runs.

It also bounds what a small file can make it build or do: the bytes read
(:data:`MAX_BYTES`), and the elements and bytes of the result counted as a
plain ``pickle.load`` user would see them, every shared (memo) reference
expanded (:data:`MAX_ELEMENTS`, :data:`MAX_BYTES`). Without that, a few
hundred bytes that reference one list from another through the memo
describe 10**20 elements; the refusal
(:class:`PickleLimitError`) comes before any of it is built. Only strings,
bytes and numbers may be dict keys or set items, so no hash of a deeply
shared tuple can run for ever either.

Example:
    >>> import pickle, numpy as np
    >>> from kerasish.datasets.safe_pickle import restricted_loads
    >>> restricted_loads(pickle.dumps({b"data": np.arange(3, dtype=np.uint8)}, protocol=2))[b"data"].tolist()
    [0, 1, 2]
"""

from __future__ import annotations

import io
import math
import pickle
import re
import struct
import zipfile

import numpy as np

_NUMERIC_CODE = re.compile(r"^(?:b1|[iuf][1248]|f2|f16|c8|c16|c32)$")
# numpy's object dtype as pickled on 32- and 64-bit builds.
_OBJECT_CODE = re.compile(r"^O[48]$")

#: Default cap on the bytes read from one pickle and on the bytes of the
#: result (array data, strings), shared references counted each time.
#: A CIFAR-10 batch is ~30 MB, CIFAR-100's training file ~150 MB.
MAX_BYTES = 1 << 30
#: Default cap on the elements of the result (container items, shared
#: references counted each time): a CIFAR-100 training file has ~150,000.
MAX_ELEMENTS = 10_000_000
# How deep the result may nest (CIFAR: a dict of lists and arrays, depth 2).
_MAX_DEPTH = 20
# What may be hashed while loading (dict keys, set items): hashing a tuple
# is recursive and uncached, so a shared tuple tree would hash for ever.
_HASHABLE_ATOMS = (str, bytes, int, float, bool, type(None))
# Leaves that hold no bytes worth counting: a list of only these (IMDB's
# reviews, millions of ids) is measured and finished in one step.
_NUMBERS = frozenset({int, float, bool, complex, type(None)})


class PickleLimitError(pickle.UnpicklingError, ValueError):
    """A dataset pickle would build more than the configured limits allow
    (see :data:`MAX_BYTES`, :data:`MAX_ELEMENTS`)."""


class _NDArrayMarker:
    """Stands for ``numpy.ndarray`` in a pickle; it cannot be called."""

    def __repr__(self):
        return "<numpy.ndarray marker>"

    def __setstate__(self, state):
        raise pickle.UnpicklingError("Unexpected BUILD of numpy.ndarray in dataset pickle.")


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
    no fields, sub-arrays or object items (see :class:`_ObjectDTypeSpec`).
    """

    code = None
    byteorder = "|"
    allow_object = False

    def __init__(self, code, align=False, copy=False, *rest):
        code = _text(code, "dtype code")
        if rest or not (_NUMERIC_CODE.match(code) or (self.allow_object and _OBJECT_CODE.match(code))):
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

    @property
    def is_object(self) -> bool:
        return self.code is not None and self.code.startswith("O")

    def resolve(self) -> np.dtype:
        if self.code is None:
            raise pickle.UnpicklingError("Incomplete numpy dtype in pickle.")
        if self.is_object:
            return np.dtype(object)
        dtype = np.dtype(self.code)
        return dtype.newbyteorder(self.byteorder) if self.byteorder in "<>" else dtype


class _ObjectDTypeSpec(_DTypeSpec):
    """:class:`_DTypeSpec` that also accepts numpy's object dtype (``O8``):
    the array's items are then the pickle's own (already restricted) objects,
    never pointers, so this is as safe; only :func:`load_npz` enables it."""

    allow_object = True


class _ArraySpec:
    """Record of a pickled ``ndarray``; :meth:`__setstate__` builds the data.

    The state ``(version, shape, dtype, is_fortran, raw_bytes)`` is checked
    (shape of non-negative ints, a :class:`_DTypeSpec`, exactly
    ``prod(shape) * itemsize`` bytes) and turned into an array with
    ``np.frombuffer``: numpy's own ``__setstate__`` never sees file data.
    """

    array = None
    # Object arrays: the pickled items (a list, finished by ``_finish``).
    items = None
    shape = None
    fortran = False

    def __setstate__(self, state):
        if not isinstance(state, tuple) or len(state) not in (4, 5):
            raise pickle.UnpicklingError("Unexpected numpy array state in pickle.")
        shape, dtype, fortran, raw = state[-4:]
        if not isinstance(shape, tuple) or not all(type(n) is int and n >= 0 for n in shape):
            raise pickle.UnpicklingError(f"Unexpected numpy array shape in pickle: {shape!r}.")
        if not isinstance(dtype, _DTypeSpec):
            raise pickle.UnpicklingError("Unexpected numpy array dtype in pickle.")
        count = math.prod(shape)  # exact: np.prod in int64 could wrap to a size that matches
        if dtype.is_object:
            # numpy pickles an object array's items as a list of the objects.
            if not isinstance(raw, list) or len(raw) != count:
                raise pickle.UnpicklingError(
                    f"numpy object array in pickle must carry a list of {count} items for shape {shape}.")
            self.items, self.shape, self.fortran = raw, shape, bool(fortran)
            return
        if isinstance(raw, str):  # pickles read with encoding="latin1"
            raw = raw.encode("latin1")
        if not isinstance(raw, (bytes, bytearray)):
            raise pickle.UnpicklingError("Unexpected numpy array data in pickle.")
        dt = dtype.resolve()
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


class _BoundedReader:
    """The file as the unpickler reads it: at most ``limit`` bytes in all.

    A pickle declares the length of each string before it (up to 2**64 for
    ``BINBYTES8``); asking the file for that many bytes would make it
    allocate them first, so a request over what is left of the budget is
    refused before the read.
    """

    def __init__(self, fileobj, limit):
        self._file = fileobj
        self._left = limit
        self._limit = limit

    def _take(self, n):
        if n > self._left:
            raise PickleLimitError(
                f"Dataset pickle asks to read {n} more bytes, beyond max_bytes={self._limit} in all: refusing it "
                "before reading. The file may be corrupted or malicious; raise the limit if it is genuine."
            )
        self._left -= n

    def read(self, n=-1):
        if n is None or n < 0:
            n = self._left + 1  # whole file: at most one byte past the limit, which then refuses
        self._take(n)
        data = self._file.read(n)
        self._left += n - len(data)
        return data

    def readline(self, size=-1):
        # Text opcodes (protocol 0): a line can only be as long as the budget.
        data = self._file.readline(self._left + 1)
        self._take(len(data))
        return data

    def readinto(self, buf):
        data = self.read(len(buf))
        buf[: len(data)] = data
        return len(data)


def _refuse_key(key):
    if not isinstance(key, _HASHABLE_ATOMS):
        raise pickle.UnpicklingError(
            f"Refusing a {type(key).__name__} as a dict key or set item in a dataset pickle (only strings, bytes "
            "and numbers)."
        )


class RestrictedUnpickler(pickle._Unpickler):
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
    those opcodes fail too, and ``BUILD`` only reaches the two recorders.
    A file such as one whose ``__reduce__`` names ``os.system`` therefore
    fails with ``UnpicklingError`` before anything runs.

    Why it is bounded: this is Python's own pure-Python unpickler (the C one
    has no hook per opcode), reading through a byte budget, with the opcodes
    that hash (``SETITEM(S)``, ``DICT``, ``ADDITEMS``, ``FROZENSET``) taking
    only strings, bytes and numbers. Each opcode then costs time linear in
    its own bytes, and :func:`restricted_load` measures the result, shared
    references expanded, before it hands anything back.

    Use :func:`restricted_loads` / :func:`load_cifar_batch` rather than this
    class directly: they also swap the recorders for the finished arrays.
    """

    dispatch = dict(pickle._Unpickler.dispatch)

    def __init__(self, file, *, allow_object_arrays: bool = False, **kwargs):
        super().__init__(file, **kwargs)
        self._allow_object_arrays = allow_object_arrays

    def find_class(self, module, name):
        if self._allow_object_arrays and (module, name) == ("numpy", "dtype"):
            return _ObjectDTypeSpec
        try:
            return _ALLOWED_GLOBALS[(module, name)]
        except (KeyError, TypeError):
            raise pickle.UnpicklingError(
                f"Refusing to load global '{module}.{name}' from a dataset pickle: only numpy "
                "array data is accepted. The file may be corrupted or malicious."
            ) from None

    def _load_setitem(self):
        _refuse_key(self.stack[-2])
        pickle._Unpickler.load_setitem(self)

    def _load_setitems(self):
        for key in self.stack[::2]:
            _refuse_key(key)
        pickle._Unpickler.load_setitems(self)

    def _load_dict(self):
        for key in self.stack[::2]:
            _refuse_key(key)
        pickle._Unpickler.load_dict(self)

    def _load_set_items(self, method):
        for item in self.stack:
            _refuse_key(item)
        method(self)

    def _load_build(self):
        if not isinstance(self.stack[-2], (_ArraySpec, _DTypeSpec, _NDArrayMarker)):
            raise pickle.UnpicklingError(
                f"Refusing BUILD of a {type(self.stack[-2]).__name__} in a dataset pickle (only numpy arrays)."
            )
        pickle._Unpickler.load_build(self)

    dispatch[pickle.SETITEM[0]] = _load_setitem
    dispatch[pickle.SETITEMS[0]] = _load_setitems
    dispatch[pickle.DICT[0]] = _load_dict
    dispatch[pickle.ADDITEMS[0]] = lambda self: self._load_set_items(pickle._Unpickler.load_additems)
    dispatch[pickle.FROZENSET[0]] = lambda self: self._load_set_items(pickle._Unpickler.load_frozenset)
    dispatch[pickle.BUILD[0]] = _load_build


def _measure(obj, limits, depth=0, sizes=None, open_ids=None):
    """``(elements, bytes)`` of ``obj`` as a tree (shared parts counted each
    time they are referenced), in time linear in the distinct objects:
    each one is measured once (``sizes``, by id). Refuses cycles, nesting
    past ``_MAX_DEPTH`` and totals over ``limits`` as soon as they appear."""
    if sizes is None:
        sizes, open_ids = {}, set()
    if depth > _MAX_DEPTH:
        raise pickle.UnpicklingError("Dataset pickle is nested too deeply.")
    if type(obj) in _NUMBERS:
        return (1, 0)
    key = id(obj)
    if key in sizes:
        return sizes[key]
    if type(obj) is list and all(type(v) in _NUMBERS for v in obj):
        size = (1 + len(obj), 0)
        if size[0] > limits[0]:
            raise PickleLimitError(
                f"Dataset pickle would build at least {size[0]} elements (max_elements={limits[0]}), its shared "
                "references expanded: refusing it. The file may be corrupted or malicious; raise the limit if it "
                "is genuine."
            )
    elif isinstance(obj, _ArraySpec) and obj.items is None:
        size = (1, 0 if obj.array is None else obj.array.nbytes)
    elif isinstance(obj, (bytes, bytearray, str)):
        size = (1, len(obj))
    elif isinstance(obj, (dict, list, tuple, set, frozenset, _ArraySpec)):
        if key in open_ids:
            raise pickle.UnpicklingError("Dataset pickle holds a reference cycle.")
        open_ids.add(key)
        if isinstance(obj, _ArraySpec):  # an object array: its items
            items = obj.items
        else:
            items = [v for kv in obj.items() for v in kv] if isinstance(obj, dict) else obj
        elements, nbytes = 1, 0
        for item in items:
            e, b = _measure(item, limits, depth + 1, sizes, open_ids)
            elements += e
            nbytes += b
            if elements > limits[0] or nbytes > limits[1]:
                what = f"{elements} elements (max_elements={limits[0]})" if elements > limits[0] else \
                    f"{nbytes} bytes (max_bytes={limits[1]})"
                raise PickleLimitError(
                    f"Dataset pickle would build at least {what}, its shared references expanded: refusing it. "
                    "The file may be corrupted or malicious; raise the limit if it is genuine."
                )
        open_ids.discard(key)
        size = (elements, nbytes)
    else:
        size = (1, 0)
    sizes[key] = size
    return size


def _finish(obj, done):
    """The loaded object with the recorders swapped for their arrays; shared
    references stay shared (``done``, by id), as ``pickle.load`` keeps them."""
    if type(obj) in _NUMBERS:
        return obj
    key = id(obj)
    if key in done:
        return done[key]
    if type(obj) is list and all(type(v) in _NUMBERS for v in obj):
        out = obj  # nothing to swap: the unpickler's own fresh list
    elif isinstance(obj, _ArraySpec) and obj.items is not None:
        flat = np.empty(len(obj.items), dtype=object)
        for i, item in enumerate(obj.items):  # one by one: equal-length lists must stay lists
            flat[i] = _finish(item, done)
        out = flat.reshape(obj.shape, order="F" if obj.fortran else "C")
    elif isinstance(obj, _ArraySpec):
        if obj.array is None:
            raise pickle.UnpicklingError("Incomplete numpy array in dataset pickle.")
        out = obj.array
    elif isinstance(obj, (_DTypeSpec, _NDArrayMarker)) or callable(obj):
        raise pickle.UnpicklingError("Unexpected numpy object in dataset pickle.")
    elif isinstance(obj, dict):
        out = {_finish(k, done): _finish(v, done) for k, v in obj.items()}
    elif isinstance(obj, list):
        out = [_finish(v, done) for v in obj]
    elif isinstance(obj, tuple):
        out = tuple(_finish(v, done) for v in obj)
    elif isinstance(obj, (set, frozenset)):
        out = type(obj)(_finish(v, done) for v in obj)
    else:
        out = obj
    done[key] = out
    return out


def restricted_load(fileobj, encoding: str = "bytes", max_bytes: int | None = None, max_elements: int | None = None,
                    allow_object_arrays: bool = False):
    """Read one pickle from a binary file object with :class:`RestrictedUnpickler`.

    Args:
        fileobj: an open binary file.
        encoding: how Python 2 ``str`` objects are decoded; ``"bytes"`` (the
            CIFAR convention, as in Keras) keeps them as ``bytes``.
        max_bytes: most bytes read from the file and most bytes in the
            result, shared references counted each time (default
            :data:`MAX_BYTES`, 1 GiB).
        max_elements: most elements in the result (container items and
            leaves, shared references counted each time; default
            :data:`MAX_ELEMENTS`, ten million).
        allow_object_arrays: also accept numpy object arrays (their items
            are objects of this same pickle, so no more than the rest).

    Returns:
        The loaded object, numpy arrays finished.

    Raises:
        pickle.UnpicklingError: the pickle names anything else, or is not a
            well-formed pickle.
        PickleLimitError: (an ``UnpicklingError`` and a ``ValueError``) the
            pickle exceeds ``max_bytes`` / ``max_elements``; nothing of that
            size has been built.

    Example:
        >>> import io, pickle
        >>> restricted_load(io.BytesIO(pickle.dumps([[1, 2]] * 3, protocol=2)))
        [[1, 2], [1, 2], [1, 2]]
        >>> inner = [0] * 10
        >>> restricted_load(io.BytesIO(pickle.dumps([inner] * 10, protocol=2)), max_elements=50)
        Traceback (most recent call last):
        ...
        kerasish.datasets.safe_pickle.PickleLimitError: Dataset pickle would build at least 56 elements (max_elements=50), its shared references expanded: refusing it. The file may be corrupted or malicious; raise the limit if it is genuine.
    """
    max_bytes = MAX_BYTES if max_bytes is None else int(max_bytes)
    max_elements = MAX_ELEMENTS if max_elements is None else int(max_elements)
    return _load(_BoundedReader(fileobj, max_bytes), encoding, max_bytes, max_elements, allow_object_arrays)


def _load(reader, encoding, max_bytes, max_elements, allow_object_arrays):
    """:func:`restricted_load` on a reader that already bounds its bytes."""
    unpickler = RestrictedUnpickler(reader, encoding=encoding, allow_object_arrays=allow_object_arrays)
    try:
        obj = unpickler.load()
    except (pickle.UnpicklingError, EOFError):
        raise
    except (KeyError, IndexError, struct.error, AttributeError, TypeError, ValueError, RecursionError) as e:
        # The pure-Python unpickler's view of a malformed stream (unknown
        # opcode, stack underflow, bad argument); the C one says UnpicklingError.
        raise pickle.UnpicklingError(f"Malformed dataset pickle: {type(e).__name__}: {e}") from e
    finally:
        unpickler.memo.clear()
    _measure(obj, (max_elements, max_bytes))
    return _finish(obj, {})


def restricted_loads(data: bytes, encoding: str = "bytes", max_bytes: int | None = None, max_elements: int | None = None):
    """:func:`restricted_load` on a ``bytes`` object."""
    return restricted_load(io.BytesIO(data), encoding=encoding, max_bytes=max_bytes, max_elements=max_elements)


# Elements in a whole IMDB file (50,000 reviews, ~12 million word ids).
_NPZ_MAX_ELEMENTS = 100_000_000


def _read_npy(fileobj, source: str, max_elements: int):
    version = np.lib.format.read_magic(fileobj)
    if version == (1, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(fileobj)
    elif version in ((2, 0), (3, 0)):
        # 3.0 only differs by a UTF-8 header; the layout 2.0's reader skips is the same.
        shape, fortran, dtype = np.lib.format.read_array_header_2_0(fileobj)
    else:
        raise ValueError(f"Unsupported .npy format version {version} in {source}.")
    if not dtype.hasobject:
        fileobj.seek(0)
        return np.lib.format.read_array(fileobj, allow_pickle=False)
    if dtype != np.dtype(object):
        raise ValueError(f"Refusing the structured dtype {dtype} with object fields in {source}.")
    try:
        # ``fileobj`` is a bytes buffer of at most MAX_BYTES (load_npz): its reads
        # cannot allocate past it, so it is read directly, without
        # _BoundedReader's Python call per opcode (IMDB has ~12 million).
        out = _load(fileobj, "latin1", MAX_BYTES, max_elements, True)
    except (pickle.UnpicklingError, EOFError) as e:
        raise ValueError(f"Could not read the object array {source}: {e}") from e
    if not isinstance(out, np.ndarray) or out.dtype != object or out.shape != tuple(shape):
        raise ValueError(f"The object array {source} does not match its header (shape {shape}, dtype object).")
    return out


def load_npz(path: str, max_elements: int | None = None) -> dict:
    """Read every array of an ``.npz`` file, object arrays included, without
    ``np.load(allow_pickle=True)``.

    Numeric arrays are read by numpy with pickling disabled. An object array
    (``dtype=object``, e.g. IMDB's lists of word ids) is stored as a pickle
    of the whole array; it is read with :class:`RestrictedUnpickler`, object
    arrays allowed, so it can only hold lists, dicts, strings, numbers and
    numpy arrays, and must match the shape in its ``.npy`` header.

    Args:
        path: the ``.npz`` file.
        max_elements: most elements (ints, lists...) an object array may
            hold (default 100 million).

    Returns:
        A dict of the arrays by name (member name without ``.npy``).

    Raises:
        ValueError: the file is not a readable ``.npz`` (message names it),
            or an object array holds anything else.

    Example:
        >>> import io, numpy as np, tempfile, os
        >>> x = np.empty(2, dtype=object); x[0], x[1] = [1, 2], [3]
        >>> path = os.path.join(tempfile.mkdtemp(), "seqs.npz")
        >>> np.savez(path, x=x, y=np.array([0, 1]))
        >>> arrays = load_npz(path)
        >>> arrays["x"].tolist(), arrays["y"].tolist()
        ([[1, 2], [3]], [0, 1])
    """
    max_elements = _NPZ_MAX_ELEMENTS if max_elements is None else int(max_elements)
    arrays = {}
    try:
        with zipfile.ZipFile(path) as archive:
            for member in archive.namelist():
                if not member.endswith(".npy"):
                    continue
                with archive.open(member) as raw:
                    # Members are read one at a time (the zip stream cannot seek),
                    # at most MAX_BYTES each: a zip bomb stops there.
                    data = raw.read(MAX_BYTES + 1)
                if len(data) > MAX_BYTES:
                    raise ValueError(f"The member {member} of {path} is larger than {MAX_BYTES} bytes: refusing it.")
                buffer = io.BytesIO(data)
                arrays[member[: -len(".npy")]] = _read_npy(buffer, f"{path}:{member}", max_elements)
    except (zipfile.BadZipFile, OSError, EOFError) as e:
        raise ValueError(f"Could not read the .npz file {path}: {e}") from e
    return arrays
