"""IndexLookup: the vocabulary table shared by StringLookup and IntegerLookup
(and, through StringLookup, TextVectorization), as Keras 3 builds them.

Keras runs these layers on TensorFlow lookup tables. Here the vocabulary is a
Python dict on the host: string tokens are Python ``str`` looked up with one
``dict`` access each (adapt counts them with ``collections.Counter``), integer
tokens with one vectorized ``torch.searchsorted`` on the tensor's own device;
the encoded output
(``one_hot`` / ``multi_hot`` / ``count`` / ``tf_idf``) is built with torch.
Vocabulary order, OOV buckets (floormod for integers, FarmHash64 for strings),
the TF-IDF weights and the ``vocabulary.txt`` asset follow Keras 3 exactly.
"""

from __future__ import annotations

import collections
import itertools
import os

import farmhash
import numpy as np
import torch

from kerasish.engine.keras_tensor import KerasTensor
from kerasish.engine.layer import Layer
from kerasish.saving.object_registration import in_safe_mode, loading_weight_limit

_OUTPUT_MODES = ("int", "one_hot", "multi_hot", "count", "tf_idf")
VOCABULARY_ASSET = "vocabulary.txt"

# Keras puts an OOV string into bucket ``Fingerprint64(s) % n`` (FarmHash, what TF's
# ``to_hash_bucket_fast`` buckets with); pyfarmhash is that function, as Hashing uses it.
fingerprint64 = farmhash.fingerprint64


# --------------------------------------------------------------------------
# Host-side helpers
# --------------------------------------------------------------------------
def as_str_array(x, encoding="utf-8", who="StringLookup"):
    """Strings (a str, list, tuple or numpy array of str / bytes) as a numpy
    unicode array of the same shape."""
    if isinstance(x, torch.Tensor):
        raise TypeError(f"{who}: expected strings (a list or numpy array of str), got a torch tensor of dtype {x.dtype}.")
    arr = np.asarray(x)
    if arr.dtype.kind == "U":
        return arr
    if arr.dtype.kind == "S":
        return np.char.decode(arr, encoding)
    if arr.dtype.kind == "O":
        flat = [v.decode(encoding) if isinstance(v, bytes) else v for v in arr.reshape(-1).tolist()]
        if not all(isinstance(v, str) for v in flat):
            bad = next(type(v).__name__ for v in flat if not isinstance(v, str))
            raise TypeError(f"{who}: expected strings, got an element of type {bad}.")
        out = np.asarray(flat, dtype=str) if flat else np.zeros((0,), dtype="<U1")
        return out.reshape(arr.shape)
    raise TypeError(f"{who}: expected strings (a list or numpy array of str), got an array of dtype {arr.dtype}.")


def first_of_batch(batch):
    """``(x, y[, sample_weight])`` batches of a dataset give ``x``."""
    if isinstance(batch, tuple) and len(batch) in (2, 3) and not isinstance(batch[0], (str, bytes, int, float)):
        return batch[0]
    return batch


def iter_batches(data, steps, batch_size=None):
    """The batches ``adapt`` reads: arrays and lists are one batch (or chunks
    of ``batch_size`` rows), other iterables (datasets, generators) give theirs."""
    if isinstance(data, (list, tuple, np.ndarray, torch.Tensor, str, bytes)):
        if batch_size and not isinstance(data, (str, bytes)) and len(data) > batch_size:
            for start in range(0, len(data), batch_size):
                yield data[start:start + batch_size], True
        else:
            yield data, True
        return
    if not hasattr(data, "__iter__"):
        raise TypeError(f"adapt(): unsupported data of type {type(data).__name__}; pass an array, a list or an iterable of batches.")
    for i, batch in enumerate(data):
        if steps is not None and i >= steps:
            break
        yield first_of_batch(batch), False


class _NoOOVIndex(Exception):
    """An OOV token met with ``num_oov_indices=0`` (turned into a ValueError)."""


class _StringTable(dict):
    """token -> id for calls on strings: the vocabulary plus the mask token;
    a missing token is OOV and goes to ``miss(token)`` (its bucket's id), so a
    lookup is one ``dict`` access whether the token is known or not."""

    __slots__ = ("miss",)

    def __missing__(self, token):
        return self.miss(token)


def encode(ids: torch.Tensor, mode: str, depth: int, idf=None) -> torch.Tensor:
    """Keras's ``encode_categorical_inputs`` on int64 ``ids``; an id outside
    ``[0, depth)`` (a dropped mask, padding) counts nowhere.

    Rank 1 is one sample for ``multi_hot`` / ``count`` / ``tf_idf`` (as TF's
    bincount), and one token per element for ``one_hot``.
    """
    if ids.dim() == 0:
        ids = ids.reshape(1)
    valid = (ids >= 0) & (ids < depth)
    safe = torch.where(valid, ids, torch.zeros((), dtype=ids.dtype, device=ids.device))
    if mode == "one_hot":
        if ids.dim() > 1 and ids.shape[-1] == 1:
            safe, valid = safe[..., 0], valid[..., 0]
        out = torch.zeros(*safe.shape, depth, dtype=torch.float32, device=ids.device)
        out.scatter_(-1, safe.unsqueeze(-1), valid.unsqueeze(-1).to(torch.float32))
        return out
    if ids.dim() > 2 and mode != "multi_hot":
        raise ValueError(
            f"When output_mode is '{mode}', the maximum supported input rank is 2. Received an input of shape {tuple(ids.shape)}."
        )
    flat_safe = safe.reshape(-1, safe.shape[-1])
    flat_valid = valid.reshape(-1, valid.shape[-1]).to(torch.float32)
    out = torch.zeros(flat_safe.shape[0], depth, dtype=torch.float32, device=ids.device)
    out.scatter_add_(1, flat_safe, flat_valid)
    out = out.reshape(*safe.shape[:-1], depth)
    if mode == "multi_hot":
        return (out > 0).to(torch.float32)
    if mode == "tf_idf":
        out = out * idf.to(device=out.device, dtype=torch.float32)
    return out


def _plain(v):
    """numpy scalars -> Python scalars (configs and vocabularies are JSON)."""
    return v.item() if isinstance(v, np.generic) else v


def listify(x):
    if x is None:
        return None
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    if isinstance(x, np.ndarray):
        return x.tolist()
    return [_plain(v) for v in x]


class IndexLookup(Layer):
    """Maps values from a vocabulary to integer indices (or the inverse).

    The base of :class:`StringLookup` and :class:`IntegerLookup`, not used
    directly. Indices are laid out as Keras lays them out: the mask token (int
    mode only) at 0, then ``num_oov_indices`` OOV buckets, then the
    vocabulary, most frequent first.

    Args:
        max_tokens: cap on the vocabulary size, mask and OOV included; None: none.
        num_oov_indices: OOV buckets (0: an OOV input is an error; >1: OOV
            values are spread over the buckets by hash / floormod).
        mask_token: the token mapped to 0 (int mode) or dropped (other modes).
        oov_token: what ``invert=True`` returns for an unknown index.
        vocabulary_dtype: ``"string"`` or ``"int64"``.
        vocabulary: a list / array of tokens, or the path of a UTF-8 text file
            with one token per line.
        idf_weights: with ``output_mode="tf_idf"`` and a vocabulary: the
            inverse document frequency of each token.
        invert: map indices back to tokens (``output_mode="int"`` only).
        output_mode: ``"int"``, ``"one_hot"``, ``"multi_hot"``, ``"count"``
            or ``"tf_idf"``.
        pad_to_max_tokens: encoded outputs have ``max_tokens`` columns.
        sparse: not supported (TensorFlow sparse tensors): must be False.
        oov_method: ``"floormod"`` or ``"farmhash"`` (integer OOV buckets).
    """

    _vocab_kind = "string"

    def __init__(self, max_tokens, num_oov_indices, mask_token, oov_token, vocabulary_dtype, vocabulary=None, idf_weights=None,
                 invert=False, output_mode="int", sparse=False, pad_to_max_tokens=False, oov_method="floormod", name=None, salt=None,
                 **kwargs):
        who = type(self).__name__
        frozen = kwargs.pop("vocabulary_size", None)
        has_input_vocabulary = kwargs.pop("has_input_vocabulary", vocabulary is not None)
        if max_tokens is not None and (isinstance(max_tokens, bool) or not isinstance(max_tokens, (int, np.integer)) or max_tokens <= 1):
            raise ValueError(f"{who}: if set, `max_tokens` must be an integer greater than 1. Received: max_tokens={max_tokens!r}")
        if pad_to_max_tokens and max_tokens is None:
            raise ValueError(f"{who}: if pad_to_max_tokens is True, `max_tokens` must be set. Received: max_tokens={max_tokens}")
        if isinstance(num_oov_indices, bool) or not isinstance(num_oov_indices, (int, np.integer)) or num_oov_indices < 0:
            raise ValueError(f"{who}: `num_oov_indices` must be an integer >= 0. Received: num_oov_indices={num_oov_indices!r}")
        if oov_method not in ("floormod", "farmhash"):
            raise ValueError(f"{who}: `oov_method` must be 'floormod' or 'farmhash'. Received: oov_method={oov_method!r}")
        if salt is not None:
            raise ValueError(f"{who}: `salt` (SipHash OOV buckets) is not supported by kerasish. Received: salt={salt!r}")
        output_mode = {"binary": "multi_hot", "tf-idf": "tf_idf"}.get(output_mode, output_mode)
        if output_mode not in _OUTPUT_MODES:
            raise ValueError(f"{who}: `output_mode` must be one of {_OUTPUT_MODES}. Received: output_mode={output_mode!r}")
        if invert and output_mode != "int":
            raise ValueError(f"{who}: `output_mode` must be 'int' when `invert` is true. Received: output_mode={output_mode!r}")
        if sparse:
            raise ValueError(f"{who}: `sparse=True` needs TensorFlow sparse tensors; kerasish returns dense tensors. Received: sparse={sparse!r}")
        if idf_weights is not None and output_mode != "tf_idf":
            raise ValueError(f"{who}: `idf_weights` should only be set if `output_mode` is 'tf_idf'. Received: output_mode={output_mode!r}")
        if output_mode == "tf_idf" and has_input_vocabulary and idf_weights is None:
            raise ValueError(f"{who}: when `vocabulary` is given with output_mode='tf_idf', `idf_weights` must be given too.")
        super().__init__(name=name, **kwargs)
        self.invert = bool(invert)
        self.max_tokens = None if max_tokens is None else int(max_tokens)
        self.num_oov_indices = int(num_oov_indices)
        self.mask_token = mask_token
        self.oov_token = oov_token
        self.output_mode = output_mode
        self.sparse = False
        self.pad_to_max_tokens = bool(pad_to_max_tokens)
        self.vocabulary_dtype = vocabulary_dtype
        self.oov_method = oov_method
        self.salt = None
        self._frozen_vocab_size = frozen
        self._has_input_vocabulary = bool(has_input_vocabulary)
        self.input_vocabulary = None if isinstance(vocabulary, str) else vocabulary
        self.input_idf_weights = idf_weights
        self._tokens: list = []
        self._index: dict = {}
        self._tables = {}  # device -> tensors of the integer table (IntegerLookup)
        self._str_table = None  # the _StringTable of string calls, built on first use
        self._idf_var = None
        self.reset_state()
        if vocabulary is not None:
            self.set_vocabulary(vocabulary, idf_weights)
        elif output_mode == "tf_idf" and frozen is not None:
            # Rebuilt from a file's config: the weight the file's idf_weights load into.
            self._set_idf(np.zeros(self.max_tokens if self.pad_to_max_tokens else int(frozen), dtype="float32"))
        self.built = True

    # ------------------------------------------------------------------
    # Indices
    # ------------------------------------------------------------------
    def _oov_start_index(self):
        return 1 if self.mask_token is not None and self.output_mode == "int" else 0

    def _token_start_index(self):
        return self._oov_start_index() + self.num_oov_indices

    def vocabulary_size(self):
        """The size of the vocabulary, mask and OOV indices included."""
        return self._token_start_index() + len(self._tokens)

    def get_vocabulary(self, include_special_tokens=True):
        """The vocabulary: a token's position is its index when
        ``include_special_tokens`` (mask and OOV tokens first)."""
        tokens = [_plain(t) for t in self._tokens]
        if not include_special_tokens:
            return tokens
        return [self.mask_token] * self._oov_start_index() + [self.oov_token] * self.num_oov_indices + tokens

    def _depth(self):
        if self.pad_to_max_tokens:
            return self.max_tokens
        if self._frozen_vocab_size is None:
            raise ValueError(
                f"Layer '{self.name}' ({type(self).__name__}): with output_mode='{self.output_mode}' and pad_to_max_tokens=False, "
                "set the vocabulary (the `vocabulary` argument or adapt()) before calling the layer."
            )
        return self._frozen_vocab_size

    def _record_vocabulary_size(self):
        new = self.vocabulary_size()
        if self.output_mode != "int" and not self.pad_to_max_tokens and self._frozen_vocab_size is not None and new != self._frozen_vocab_size:
            raise ValueError(
                f"Layer '{self.name}' ({type(self).__name__}): with output_mode='{self.output_mode}' and pad_to_max_tokens=False, "
                f"the vocabulary size cannot change after it is set. Old vocab size is {self._frozen_vocab_size}, new vocab size is {new}"
            )
        self._frozen_vocab_size = new

    # ------------------------------------------------------------------
    # Setting the vocabulary
    # ------------------------------------------------------------------
    def _parse_token(self, line):
        return line

    def _read_vocabulary_file(self, path):
        who = f"{type(self).__name__} '{self.name}'"
        if loading_weight_limit() is not None and in_safe_mode():
            raise ValueError(
                f"{who}: refusing to read the vocabulary file '{path}' named by a model file in safe mode "
                "(it could read any file); pass safe_mode=False to the loader if you trust the file."
            )
        if not os.path.isfile(path):
            raise ValueError(f"{who}: the vocabulary file '{path}' does not exist.")
        with open(path, "rb") as f:
            raw = f.read()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            raise ValueError(f"{who}: the vocabulary file '{path}' is not UTF-8 text ({e}).") from None
        lines = [ln[:-1] if ln.endswith("\r") else ln for ln in text.split("\n")]
        while lines and lines[-1] == "":
            lines.pop()
        try:
            return [self._parse_token(ln) for ln in lines]
        except ValueError:
            raise ValueError(f"{who}: the vocabulary file '{path}' holds a line that is not a {self.vocabulary_dtype} token.") from None

    def set_vocabulary(self, vocabulary, idf_weights=None):
        """Set the vocabulary (and, for ``tf_idf``, the IDF weights) directly.

        Args:
            vocabulary: a list / tuple / 1-D array or tensor of tokens, or the
                path of a UTF-8 text file with one token per line. It may
                start with the special tokens (mask, OOV) in index order.
            idf_weights: one weight per vocabulary entry (``tf_idf`` only).
        """
        who = f"{type(self).__name__} '{self.name}'"
        if self.output_mode == "tf_idf":
            if idf_weights is None:
                raise ValueError(f"{who}: `idf_weights` must be set if output_mode is 'tf_idf'.")
        elif idf_weights is not None:
            raise ValueError(f"{who}: `idf_weights` should only be set if output_mode is 'tf_idf'. Received: output_mode={self.output_mode}")
        if isinstance(vocabulary, str):
            if self.output_mode == "tf_idf":
                raise ValueError(f"{who}: output_mode 'tf_idf' does not support loading a vocabulary from a file.")
            vocabulary = self._read_vocabulary_file(vocabulary)
        vocabulary = self._normalize_vocabulary(vocabulary)
        if len(vocabulary) == 0:
            raise ValueError(f"{who}: cannot set an empty vocabulary. Received: vocabulary={vocabulary}")
        token_start = self._token_start_index()
        special = [self.mask_token] * self._oov_start_index() + [self.oov_token] * self.num_oov_indices
        found_special = vocabulary[:token_start] == special
        tokens = vocabulary[token_start:] if found_special else vocabulary
        repeated = [t for t, c in collections.Counter(tokens).items() if c > 1]
        if repeated:
            raise ValueError(f"{who}: the vocabulary has repeated terms; make it unique. The repeated terms are: {repeated}")
        if self.mask_token is not None and self.mask_token in tokens:
            raise ValueError(
                f"{who}: found the reserved mask token {self.mask_token!r} at an unexpected place in `vocabulary` (index "
                f"{len(vocabulary) - 1 - vocabulary[::-1].index(self.mask_token)}). Either remove all mask and OOV tokens, "
                f"or include them only at the start of the vocabulary in this order: {special}."
            )
        if self.oov_token is not None and self.invert and self.oov_token in tokens:
            raise ValueError(
                f"{who}: found the reserved OOV token {self.oov_token!r} at an unexpected place in `vocabulary`. Either remove "
                f"all mask and OOV tokens, or include them only at the start of the vocabulary in this order: {special}."
            )
        if self.max_tokens is not None and token_start + len(tokens) > self.max_tokens:
            raise ValueError(
                f"{who}: attempted to set a vocabulary larger than the maximum vocab size. Received vocabulary size is "
                f"{token_start + len(tokens)}; `max_tokens` is {self.max_tokens}."
            )
        idf = None
        if self.output_mode == "tf_idf":
            idf = np.asarray(listify(idf_weights) if isinstance(idf_weights, torch.Tensor) else idf_weights, dtype="float64")
            if idf.ndim != 1:
                raise ValueError(f"{who}: TF-IDF weights must be a 1-D array. Received shape {idf.shape}.")
            if len(idf) != len(vocabulary):
                raise ValueError(
                    f"{who}: `idf_weights` must be the same length as vocabulary. len(idf_weights) is {len(idf)}; "
                    f"len(vocabulary) is {len(vocabulary)}"
                )
            front, front_value = (0, 0.0) if found_special else (token_start, float(np.average(idf)))
            back = self.max_tokens - front - len(idf) if self.pad_to_max_tokens else 0
            idf = np.pad(idf, (front, back), constant_values=(front_value, 0.0)).astype("float32")
        self._set_tokens(tokens)
        self._record_vocabulary_size()
        if idf is not None:
            self._set_idf(idf)

    def _normalize_vocabulary(self, vocabulary):
        if isinstance(vocabulary, torch.Tensor):
            vocabulary = vocabulary.detach().cpu().numpy()
        if isinstance(vocabulary, np.ndarray):
            if vocabulary.ndim != 1:
                raise ValueError(f"{type(self).__name__} '{self.name}': `vocabulary` must be 1-D. Received shape {vocabulary.shape}.")
            vocabulary = vocabulary.tolist()
        return [self._token(v) for v in vocabulary]

    def _token(self, v):
        return _plain(v)

    def _set_tokens(self, tokens):
        self._tokens = list(tokens)
        start = self._token_start_index()
        self._index = dict(zip(self._tokens, range(start, start + len(self._tokens))))
        self._tables = {}
        self._str_table = None

    def _set_idf(self, idf):
        tensor = torch.as_tensor(np.asarray(idf, dtype="float32"))
        if self._idf_var is None:
            self._idf_var = self.add_weight(name="idf_weights", shape=tuple(tensor.shape), initializer="zeros", trainable=False)
        self._buffers["idf_weights"] = tensor.to(self._buffers["idf_weights"].device)

    def _weight_store_keys(self):
        # Keras stores the weights under this name (save_own_variables).
        return ["idf_weights"] if self._idf_var is not None else []

    # ------------------------------------------------------------------
    # adapt
    # ------------------------------------------------------------------
    def reset_state(self):
        self._token_counts = collections.Counter()
        self._document_counts = collections.Counter()
        self._num_documents = 0

    def _adapt_tokens(self, data):
        """A batch as a numpy array of tokens."""
        return np.asarray(data)

    def update_state(self, data):
        """Count the tokens of one batch (rank 1 is one document, as Keras)."""
        if self._has_input_vocabulary:
            raise ValueError(f"Cannot adapt layer '{self.name}' after setting a static vocabulary via the `vocabulary` argument or `set_vocabulary()`.")
        if isinstance(data, list) and data and isinstance(data[0], list):  # ragged rows of tokens
            if self._vocab_kind == "string" and all(type(t) is str for t in itertools.chain.from_iterable(data)):
                self._count_rows(data)
                return
            rows = data
            flat = np.asarray([t for r in rows for t in r], dtype=str if self._vocab_kind == "string" else "int64")
        else:
            arr = self._adapt_tokens(data)
            if arr.ndim == 0:
                arr = arr.reshape(1)
            if arr.ndim == 1:
                arr = arr[None]
            rows = arr.reshape(arr.shape[0], -1) if arr.shape[0] else arr.reshape(0, 0)
            flat = arr.reshape(-1)
        if flat.size and self._vocab_kind == "string":
            self._token_counts.update(flat.tolist())  # Counter's C loop beats np.unique on strings
        elif flat.size:
            uniq, counts = np.unique(flat, return_counts=True)
            self._token_counts.update(dict(zip(uniq.tolist(), counts.tolist())))
        if self.output_mode == "tf_idf":
            for r in rows:
                self._document_counts.update(set(r.tolist() if isinstance(r, np.ndarray) else r))
            self._num_documents += len(rows)

    def _count_rows(self, rows):
        """Count one batch of documents: an iterable of lists of tokens
        (Python ``str`` for strings, as the vocabulary stores them)."""
        if self._has_input_vocabulary:
            raise ValueError(f"Cannot adapt layer '{self.name}' after setting a static vocabulary via the `vocabulary` argument or `set_vocabulary()`.")
        counts = self._token_counts
        if self.output_mode != "tf_idf":
            for r in rows:  # row by row: each row is counted while fresh in cache
                counts.update(r)
            return
        docs, n = self._document_counts, 0
        for r in rows:
            counts.update(r)
            docs.update(set(r))
            n += 1
        self._num_documents += n

    def finalize_state(self):
        if self._has_input_vocabulary or not self._token_counts:
            self._record_vocabulary_size()
            return
        counts = self._token_counts
        for special in (self.mask_token, self.oov_token):
            if special is not None:
                counts.pop(special, None)
        # Keras: np.lexsort((tokens, counts))[::-1]: count descending, ties by token
        # descending; two stable sorts (tokens, then counts) order it without tuple keys.
        tokens = sorted(counts, reverse=True)
        tokens.sort(key=counts.__getitem__, reverse=True)
        if self.max_tokens:
            tokens = tokens[: self.max_tokens - self._token_start_index()]
        self._set_tokens(tokens)
        if self.output_mode == "tf_idf":
            docs = np.asarray([self._document_counts[t] for t in tokens], dtype="float64")
            idf = np.log(1.0 + self._num_documents / (1.0 + docs)).astype("float32")
            mean = np.float32(idf.mean(dtype="float32")) if idf.size else np.float32(0)
            back = self.max_tokens - self._token_start_index() - len(idf) if self.pad_to_max_tokens else 0
            idf = np.concatenate([np.full(self._token_start_index(), mean, "float32"), idf, np.zeros(back, "float32")])
            self._set_idf(idf)
        self.reset_state()
        self._record_vocabulary_size()

    def adapt(self, data, steps=None):
        """Learn the vocabulary from ``data``: tokens by frequency (ties: the
        greater token first), cut at ``max_tokens``; ``tf_idf`` also learns
        each token's document frequency.

        Args:
            data: an array or list of tokens (one batch), or an iterable of
                batches (a kerasish Dataset, a generator); ``(x, y)`` batches
                give ``x``.
            steps: read at most this many batches of an iterable.
        """
        self.reset_state()
        for batch, whole in iter_batches(data, steps):
            if whole:
                arr = self._adapt_tokens(batch)
                if arr.ndim == 1:
                    arr = arr[:, None]  # an array: each element a document
                batch = arr
            self.update_state(batch)
        self.finalize_state()

    # ------------------------------------------------------------------
    # Calling
    # ------------------------------------------------------------------
    def _oov_bucket(self, value):
        """OOV bucket (0..num_oov_indices-1) of one value (FarmHash64 of its text)."""
        return fingerprint64(str(value).encode("utf-8")) % self.num_oov_indices

    def _oov_buckets(self, values):
        """OOV bucket of each value of a numpy array."""
        return np.fromiter(map(self._oov_bucket, values.tolist()), dtype="int64", count=values.size)

    def _string_table(self):
        """The :class:`_StringTable` of calls (cached until the vocabulary changes)."""
        table = self._str_table
        if table is None:
            table = _StringTable(self._index)
            if self.mask_token is not None:
                table[self.mask_token] = 0 if self.output_mode == "int" else -1  # the encoders drop -1
            start, n = self._oov_start_index(), self.num_oov_indices
            if n == 1:
                table.miss = lambda token: start
            elif n > 1:
                buckets = {}  # the hash is pure Python: once per distinct OOV token

                def miss(token):
                    b = buckets.get(token)
                    if b is None:
                        b = fingerprint64(token.encode("utf-8")) % n + start  # as StringLookup's buckets
                        if len(buckets) < 100_000:
                            buckets[token] = b
                    return b

                table.miss = miss
            else:
                def miss(token):
                    raise _NoOOVIndex

                table.miss = miss
            self._str_table = table
        return table

    def _lookup_strings(self, tokens):
        """int64 numpy ids of a list of str tokens (a mask token is -1
        outside int mode: the encoders drop it)."""
        table = self._string_table()
        try:
            return np.fromiter(map(table.__getitem__, tokens), dtype="int64", count=len(tokens))
        except _NoOOVIndex:
            raise self._no_oov_error(sorted({t for t in tokens if t not in table})) from None

    def _lookup_rows(self, rows, width=None):
        """Ids of rows of str tokens, each row cut to its first ``width``
        tokens (all if None): ``(flat int64 ids, int64 row lengths)``."""
        table = self._string_table()
        get = table.__getitem__
        ids, lengths = [], []
        rows = iter(rows)
        r = ()
        try:
            for r in rows:
                if width is not None and len(r) > width:
                    r = r[:width]
                lengths.append(len(r))
                ids.extend(map(get, r))
        except _NoOOVIndex:
            # the rows before this one had no OOV token: list this row's and the later ones'
            oov = {t for t in r if t not in table}
            for r in rows:
                oov.update(t for t in r[:width] if t not in table)
            raise self._no_oov_error(sorted(oov)) from None
        return np.fromiter(ids, dtype="int64", count=len(ids)), np.fromiter(lengths, dtype="int64", count=len(lengths))

    def _string_ids(self, arr):
        """Host lookup of a numpy unicode array: int64 ids of the same shape."""
        return self._lookup_strings(arr.reshape(-1).tolist()).reshape(arr.shape)

    def _no_oov_error(self, values):
        return ValueError(
            f"Layer '{self.name}' ({type(self).__name__}): when `num_oov_indices=0` all inputs should be in the vocabulary, "
            f"found OOV values {list(values)[:10]}; consider setting `num_oov_indices=1`."
        )

    def _oov_ids(self, values):
        start = self._oov_start_index()
        if self.num_oov_indices == 0:
            raise self._no_oov_error(values.tolist())
        if self.num_oov_indices == 1:
            return np.full(values.shape, start, dtype="int64")
        return self._oov_buckets(values) + start

    def _encode_ids(self, ids: torch.Tensor):
        if self.output_mode == "int":
            return ids
        idf = self._buffers["idf_weights"] if self.output_mode == "tf_idf" and self._idf_var is not None else None
        if self.output_mode == "tf_idf" and idf is None:
            raise ValueError(f"Layer '{self.name}' ({type(self).__name__}): output_mode='tf_idf' needs idf weights: adapt the layer or give them.")
        return encode(ids, self.output_mode, self._depth(), idf)

    def __call__(self, *args, **kwargs):
        inputs = args[0] if args else kwargs.pop("inputs", None)
        if isinstance(inputs, KerasTensor):
            return super().__call__(*args, **kwargs)
        return self.call(inputs)

    def _symbolic_call(self, inputs, *args, **kwargs):
        outputs = super()._symbolic_call(inputs, *args, **kwargs)
        outputs.dtype = self._output_dtype()
        return outputs

    def _output_dtype(self):
        if self.invert:
            return self.vocabulary_dtype
        return "int64" if self.output_mode == "int" else "float32"

    def native_call(self, inputs, training=False, **kwargs):
        return self.call(inputs)

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if self.output_mode == "int":
            return input_shape
        depth = self.max_tokens if self.pad_to_max_tokens else self._frozen_vocab_size
        if self.output_mode == "one_hot":
            if len(input_shape) > 1 and input_shape[-1] == 1:
                return input_shape[:-1] + (depth,)
            return input_shape + (depth,)
        return input_shape[:-1] + (depth,)

    # ------------------------------------------------------------------
    # Assets (the vocabulary in a .keras file) and config
    # ------------------------------------------------------------------
    def save_assets(self, dir_path):
        """Write ``vocabulary.txt`` (UTF-8, one token a line, special tokens
        included) into ``dir_path``, unless the vocabulary is in the config."""
        if self.input_vocabulary is not None:
            return
        with open(os.path.join(dir_path, VOCABULARY_ASSET), "w", encoding="utf-8", newline="") as f:
            f.write("\n".join(str(w) for w in self.get_vocabulary(include_special_tokens=True)))

    def load_assets(self, dir_path):
        """Read the vocabulary :meth:`save_assets` wrote (Keras's layout)."""
        if self.input_vocabulary is not None:
            return
        path = os.path.join(dir_path, VOCABULARY_ASSET)
        if not os.path.isfile(path):
            if len(self._tokens) or not self._frozen_vocab_size or self._frozen_vocab_size <= self._token_start_index():
                return  # never adapted, or already loaded (TextVectorization's own copy)
            raise ValueError(
                f"Layer '{self.name}' ({type(self).__name__}) was saved with a vocabulary of {self._frozen_vocab_size} entries, "
                f"but the file has no '{VOCABULARY_ASSET}' asset for it."
            )
        with open(path, "rb") as f:
            raw = f.read()
        try:
            lines = raw.decode("utf-8").split("\n")
        except UnicodeDecodeError as e:
            raise ValueError(f"Layer '{self.name}' ({type(self).__name__}): the '{VOCABULARY_ASSET}' asset is not UTF-8 text ({e}).") from None
        while lines and lines[-1] == "":
            lines.pop()
        try:
            values = [self._parse_token(ln) for ln in lines]
        except ValueError:
            raise ValueError(f"Layer '{self.name}' ({type(self).__name__}): the '{VOCABULARY_ASSET}' asset holds a line that is not a {self.vocabulary_dtype} token.") from None
        has_input = self._has_input_vocabulary
        self._has_input_vocabulary = False
        try:
            if self.output_mode == "tf_idf":
                idf = self._buffers["idf_weights"].cpu().numpy() if self._idf_var is not None else np.zeros(len(values), "float32")
                self.set_vocabulary(values, idf_weights=idf[: len(values)])
                if self.pad_to_max_tokens:
                    self._set_idf(idf)  # keep the stored padding
            else:
                self.set_vocabulary(values)
        finally:
            self._has_input_vocabulary = has_input

    def get_build_config(self):
        return {}

    def build_from_config(self, config):
        self.built = True

    def get_config(self):
        return {
            **super().get_config(),
            "invert": self.invert,
            "max_tokens": self.max_tokens,
            "num_oov_indices": self.num_oov_indices,
            "oov_token": self.oov_token,
            "mask_token": self.mask_token,
            "output_mode": self.output_mode,
            "sparse": self.sparse,
            "pad_to_max_tokens": self.pad_to_max_tokens,
            "vocabulary_dtype": self.vocabulary_dtype,
            "idf_weights": listify(self.input_idf_weights),
            "vocabulary": listify(self.input_vocabulary),
            "vocabulary_size": self._frozen_vocab_size,
            "oov_method": self.oov_method,
            "salt": self.salt,
        }

