"""TextVectorization: raw strings to token ids or encodings, without TensorFlow.

Standardization, splitting and n-grams run on the host on Python lists of
``str`` (as TF's string ops do them: ASCII-only lowercasing, the same
punctuation set, ASCII whitespace); the lookup is a :class:`StringLookup`'s
dict; each batch's ids are filled into one numpy array, then one tensor.
"""

from __future__ import annotations

import itertools
import re

import numpy as np
import torch

from kerasish.engine.keras_tensor import KerasTensor
from kerasish.engine.layer import Layer

from .index_lookup import as_str_array, iter_batches, listify
from .string_lookup import StringLookup

# Keras's regex for "strip_punctuation" (all of string.punctuation).
_PUNCTUATION = re.compile(r'[!"#$%&()\*\+,-\./:;<=>?@\[\\\]^_`{|}~\']')
# tf.strings.lower without an encoding lowercases ASCII only.
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
# Both in one str.translate (its ASCII fast path beats lower() + re.sub).
_STRIP = {c: None for c in range(128) if _PUNCTUATION.match(chr(c))}
_LOWER_AND_STRIP = {**_ASCII_LOWER, **_STRIP}
# tf.strings.split's whitespace: ASCII space, \t \n \v \f \r (not \xa0, not U+3000).
_WHITESPACE = re.compile(r"[ \t\n\v\f\r]+")
_STANDARDIZE = ("lower_and_strip_punctuation", "lower", "strip_punctuation")
_SPLIT = ("whitespace", "character")
_OUTPUT_MODES = ("int", "one_hot", "multi_hot", "count", "tf_idf")


def _ascii_lower(s):
    # str.lower() is ASCII lowercasing on ASCII text; TF leaves non-ASCII letters alone.
    return s.lower() if s.isascii() else s.translate(_ASCII_LOWER)


def _split_whitespace(s):
    """``s`` split as tf.strings.split does (empty tokens dropped)."""
    # str.split() is the same split for ASCII text without \x1c-\x1f (it also splits on
    # those and on non-ASCII spaces, TF does not), and twice as fast.
    if s.isascii() and "\x1c" not in s and "\x1d" not in s and "\x1e" not in s and "\x1f" not in s:
        return s.split()
    return [t for t in _WHITESPACE.split(s) if t]


def _ngrams(tokens, widths):
    out = []
    for w in widths:
        out.extend(" ".join(tokens[i:i + w]) for i in range(len(tokens) - w + 1))
    return out


class TextVectorization(Layer):
    """Turns raw strings into token ids (or multi-hot / count / TF-IDF
    vectors), as Keras 3's ``TextVectorization`` without TensorFlow.

    Each string is standardized, split into tokens, optionally joined into
    n-grams, then looked up in the vocabulary (index 0: padding / the empty
    mask token, 1: OOV ``"[UNK]"``). Use it on data (``vectorizer(texts)``,
    or inside ``Dataset.map``) before the model, as Keras 3 recommends, or
    inside a model on a string input (``Input(shape=(1,), dtype="string")``):
    the strings then reach it as a numpy array, on the host.

    Args:
        max_tokens: cap on the vocabulary size (padding and OOV included).
        standardize: ``"lower_and_strip_punctuation"`` (default), ``"lower"``,
            ``"strip_punctuation"``, None, or a callable taking a numpy array
            of str and returning one of the same shape.
        split: ``"whitespace"`` (default), ``"character"``, None (each string
            is one token) or a callable taking a 1-D numpy array of str and
            returning one list of tokens per string.
        ngrams: None, an int ``n`` (1..n-grams) or a tuple of widths.
        output_mode: ``"int"``, ``"one_hot"``, ``"multi_hot"``, ``"count"``,
            ``"tf_idf"``.
        output_sequence_length: int mode: pad / truncate each row to this
            length (default: the longest row of the batch).
        pad_to_max_tokens: encoded outputs have ``max_tokens`` columns.
        vocabulary: a list of strings or the path of a UTF-8 text file.
        idf_weights: IDF weights for a given vocabulary (``tf_idf``).
        sparse / ragged: not supported (TensorFlow tensors): must be False.
        encoding: the encoding of bytes inputs.

    Input: a list / numpy array of str, shape ``(batch,)`` or ``(batch, 1)``.
    Output: int64 ``(batch, sequence_length)`` ids, or float32
    ``(batch, depth)`` encodings.

    Example:
        >>> vectorizer = TextVectorization(output_sequence_length=4)
        >>> vectorizer.adapt(["The cat sat.", "The dog!"])
        >>> vectorizer.get_vocabulary()
        ['', '[UNK]', 'the', 'sat', 'dog', 'cat']
        >>> vectorizer(["the cat ran"]).tolist()
        [[2, 5, 1, 0]]
    """

    _takes_strings = True  # string inputs reach it as numpy arrays, in models too

    def __init__(self, max_tokens=None, standardize="lower_and_strip_punctuation", split="whitespace", ngrams=None, output_mode="int",
                 output_sequence_length=None, pad_to_max_tokens=False, vocabulary=None, idf_weights=None, sparse=False, ragged=False,
                 encoding="utf-8", name=None, **kwargs):
        who = "TextVectorization"
        if sparse:
            raise ValueError(f"{who}: `sparse=True` needs TensorFlow sparse tensors; kerasish returns dense tensors. Received: sparse={sparse!r}")
        if ragged:
            raise ValueError(
                f"{who}: `ragged=True` needs TensorFlow ragged tensors; kerasish returns dense tensors padded with 0 "
                f"(set output_sequence_length, or leave it None to pad to the longest row). Received: ragged={ragged!r}"
            )
        if not (standardize is None or callable(standardize) or standardize in _STANDARDIZE):
            raise ValueError(f"{who}: `standardize` must be one of {_STANDARDIZE}, None or a callable. Received: standardize={standardize!r}")
        if not (split is None or callable(split) or split in _SPLIT):
            raise ValueError(f"{who}: `split` must be one of {_SPLIT}, None or a callable. Received: split={split!r}")
        output_mode = {"binary": "multi_hot", "tf-idf": "tf_idf"}.get(output_mode, output_mode)
        if output_mode not in _OUTPUT_MODES:
            raise ValueError(f"{who}: `output_mode` must be one of {_OUTPUT_MODES}. Received: output_mode={output_mode!r}")
        if isinstance(ngrams, list):
            ngrams = tuple(ngrams)
        if not (ngrams is None or (isinstance(ngrams, int) and not isinstance(ngrams, bool) and ngrams >= 1)
                or (isinstance(ngrams, tuple) and ngrams and all(isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in ngrams))):
            raise ValueError(f"{who}: `ngrams` must be None, a positive integer, or a tuple of positive integers. Received: ngrams={ngrams!r}")
        if output_mode == "int" and not (output_sequence_length is None or (isinstance(output_sequence_length, int)
                                                                          and not isinstance(output_sequence_length, bool)
                                                                          and output_sequence_length >= 0)):
            raise ValueError(f"{who}: `output_sequence_length` must be None or a non-negative integer. Received: output_sequence_length={output_sequence_length!r}")
        if output_mode != "int" and output_sequence_length is not None:
            raise ValueError(f"{who}: `output_sequence_length` must not be set if `output_mode` is not 'int'. Received output_sequence_length={output_sequence_length}.")
        has_input_vocabulary = kwargs.pop("has_input_vocabulary", vocabulary is not None)
        vocabulary_size = kwargs.pop("vocabulary_size", None)
        super().__init__(name=name, **kwargs)
        self._max_tokens = max_tokens
        self._standardize = standardize
        self._split = split
        self._ngrams_arg = ngrams
        self._ngrams = tuple(range(1, ngrams + 1)) if isinstance(ngrams, int) else ngrams
        self._ragged = False
        self._output_mode = output_mode
        self._output_sequence_length = output_sequence_length
        self._encoding = encoding
        self._has_input_vocabulary = has_input_vocabulary
        # As Keras: a StringLookup with "" as the mask (index 0, the padding).
        try:
            self._lookup_layer = StringLookup(max_tokens=max_tokens, vocabulary=vocabulary, idf_weights=idf_weights,
                                              pad_to_max_tokens=pad_to_max_tokens, mask_token="", output_mode=output_mode,
                                              has_input_vocabulary=has_input_vocabulary, encoding=encoding,
                                              vocabulary_size=vocabulary_size)
        except ValueError as e:  # the inner lookup's message, naming this layer (the one the user made)
            raise ValueError(re.sub(r"^StringLookup '[^']*'", f"TextVectorization '{self.name}'", str(e))) from None
        self._share_lookup_weights()
        self.built = True

    def _share_lookup_weights(self):
        # Keras saves the IDF weights under this layer too (save_own_variables delegates).
        var = self._lookup_layer._idf_var
        if var is not None and not any(v is var for v in self._variables):
            self._variables.append(var)

    def _weight_store_keys(self):
        return ["idf_weights"] if self._variables else []

    # ------------------------------------------------------------------
    # Vocabulary
    # ------------------------------------------------------------------
    def get_vocabulary(self, include_special_tokens=True):
        """The vocabulary (with ``""`` and ``"[UNK]"`` first unless
        ``include_special_tokens=False``)."""
        return self._lookup_layer.get_vocabulary(include_special_tokens)

    def vocabulary_size(self):
        """The vocabulary size, padding and OOV indices included."""
        return self._lookup_layer.vocabulary_size()

    def set_vocabulary(self, vocabulary, idf_weights=None):
        """Set the vocabulary (a list of strings or a UTF-8 file path) and,
        for ``tf_idf``, its IDF weights."""
        self._lookup_layer.set_vocabulary(vocabulary, idf_weights=idf_weights)
        self._share_lookup_weights()

    # ------------------------------------------------------------------
    # Preprocessing on the host
    # ------------------------------------------------------------------
    def _strings(self, inputs):
        """The input strings as a flat list of str and the input's shape."""
        # A list of str (the common case) skips the fixed-width numpy array.
        if isinstance(inputs, list) and inputs and all(type(v) is str for v in inputs):
            return inputs, (len(inputs),)
        arr = as_str_array(inputs, self._encoding, f"TextVectorization '{self.name}'")
        return arr.reshape(-1).tolist(), arr.shape

    def _standardized(self, flat, shape):
        """``flat`` (the strings of an input of ``shape``) standardized: an
        iterable of str (lazy for the built-in standardizations)."""
        std = self._standardize
        if std is None:
            return flat
        if callable(std):
            arr = np.asarray(flat, dtype=str).reshape(shape)
            out = as_str_array(std(arr), self._encoding, f"TextVectorization '{self.name}' (standardize)")
            if out.shape != arr.shape:
                raise ValueError(f"TextVectorization '{self.name}': the `standardize` callable returned shape {out.shape} for inputs of shape {arr.shape}.")
            return out.reshape(-1).tolist()
        if std == "lower":
            return map(_ascii_lower, flat)
        return map(str.translate, flat, itertools.repeat(_LOWER_AND_STRIP if std == "lower_and_strip_punctuation" else _STRIP))

    def _preprocess(self, inputs, lazy=False):
        """Strings -> either a numpy str array (``split=None``) or the token
        lists (of str), one per input row: a list, or with ``lazy`` an
        iterator that standardizes and splits each string as it is read (its
        tokens are then counted / looked up while still in the CPU cache)."""
        flat, shape = self._strings(inputs)
        flat = self._standardized(flat, shape)
        if self._split is None:
            flat = list(flat)
            arr = np.asarray(flat, dtype=str).reshape(shape) if flat else np.zeros(shape, dtype="<U1")
            if self._ngrams is not None:
                rows = arr.reshape(arr.shape[0], -1).tolist() if arr.ndim else [[arr.item()]]
                return [_ngrams(r, self._ngrams) for r in rows]
            return arr
        if len(shape) > 1 and (shape[-1] != 1 or len(shape) > 2):
            raise ValueError(
                f"TextVectorization '{self.name}': when splitting strings the input rank must be 1 or the last dimension "
                f"must be 1. Received: inputs.shape={shape} with rank={len(shape)}"
            )
        if self._split == "whitespace":
            rows = map(_split_whitespace, flat)
        elif self._split == "character":
            rows = map(list, flat)
        else:
            flat = list(flat)
            rows = self._split(np.asarray(flat, dtype=str) if flat else np.zeros((0,), dtype="<U1"))
            rows = [r if isinstance(r, list) else np.asarray(r).reshape(-1).tolist() for r in rows]
            if len(rows) != len(flat):
                raise ValueError(f"TextVectorization '{self.name}': the `split` callable returned {len(rows)} rows for {len(flat)} strings.")
            # tokens as the vocabulary stores them: str (numpy's str conversion, as before)
            rows = [r if all(type(t) is str for t in r) else np.asarray(r, dtype=str).reshape(-1).tolist() for r in rows]
        if self._ngrams is not None:
            rows = map(_ngrams, rows, itertools.repeat(self._ngrams))
        return rows if lazy else list(rows)

    # ------------------------------------------------------------------
    # adapt
    # ------------------------------------------------------------------
    def reset_state(self):
        self._lookup_layer.reset_state()

    def update_state(self, data):
        """Count the tokens of one batch of strings."""
        tokens = self._preprocess(data, lazy=True)
        if isinstance(tokens, np.ndarray):
            tokens = tokens.reshape(tokens.shape[0], -1).tolist() if tokens.ndim else [[tokens.item()]]
        self._lookup_layer._count_rows(tokens)

    def finalize_state(self):
        self._lookup_layer.finalize_state()
        self._share_lookup_weights()

    def adapt(self, data, batch_size=None, steps=None):
        """Learn the vocabulary (and IDF weights) from strings.

        Tokens are ordered by frequency, ties by the greater token first (as
        Keras), and cut at ``max_tokens``.

        Args:
            data: a list / numpy array of strings, or an iterable of batches
                of strings (a kerasish Dataset, a generator; ``(x, y)``
                batches give ``x``).
            batch_size: arrays are read this many strings at a time.
            steps: read at most this many batches of an iterable.
        """
        self.reset_state()
        for batch, _ in iter_batches(data, steps, batch_size):
            self.update_state(batch)
        self.finalize_state()

    # ------------------------------------------------------------------
    # Calling
    # ------------------------------------------------------------------
    def __call__(self, *args, **kwargs):
        inputs = args[0] if args else kwargs.pop("inputs", None)
        if isinstance(inputs, KerasTensor):  # a string Input: a node of a functional model
            return super().__call__(inputs, **kwargs)
        return self.call(inputs)

    def native_call(self, inputs, training=False, **kwargs):
        # in a model: the strings come as a numpy array, as they were given
        return self.call(inputs)

    def _output_dtype(self):
        return "int64" if self._output_mode == "int" else "float32"

    def call(self, inputs):
        lookup = self._lookup_layer
        if self._output_mode != "int":
            lookup._depth()
        tokens = self._preprocess(inputs, lazy=True)
        if isinstance(tokens, np.ndarray):  # split=None: one token per string, the input's shape
            ids = torch.from_numpy(lookup._string_ids(tokens))
            if self._output_mode == "int":
                return self._fit_length(ids)
            return lookup._encode_ids(ids)
        width = self._output_sequence_length if self._output_mode == "int" else None
        ids, lengths = lookup._lookup_rows(tokens, width)  # only the kept tokens are looked up
        if width is None:
            width = int(lengths.max()) if lengths.size else 0
        # int mode pads with 0 (the mask index); the encoders drop -1.
        out = np.full((lengths.size, width), 0 if self._output_mode == "int" else -1, dtype="int64")
        if ids.size:  # a boolean mask fills row-major: each row's ids, left-aligned
            out[np.arange(width) < lengths[:, None]] = ids
        out = torch.from_numpy(out)
        return out if self._output_mode == "int" else lookup._encode_ids(out)

    def _fit_length(self, ids):
        n = self._output_sequence_length
        if n is None:
            return ids
        ids = ids[..., :n]
        if ids.shape[-1] < n:
            ids = torch.nn.functional.pad(ids, (0, n - ids.shape[-1]))
        return ids

    def compute_output_shape(self, input_shape):
        if self._output_mode == "int":
            return (input_shape[0], self._output_sequence_length)
        input_shape = tuple(input_shape)
        if self._split is None:
            if len(input_shape) <= 1:
                input_shape = input_shape + (1,)
        else:
            input_shape = input_shape + (None,)
        return self._lookup_layer.compute_output_shape(input_shape)

    # ------------------------------------------------------------------
    # Assets and config
    # ------------------------------------------------------------------
    def save_assets(self, dir_path):
        """Write the adapted vocabulary as ``vocabulary.txt`` (Keras's layout)."""
        self._lookup_layer.save_assets(dir_path)

    def load_assets(self, dir_path):
        """Read the vocabulary :meth:`save_assets` wrote."""
        self._lookup_layer.load_assets(dir_path)
        self._share_lookup_weights()

    def get_build_config(self):
        return {"input_shape": [None, 1]}

    def build_from_config(self, config):
        self.built = True

    def get_config(self):
        lookup = self._lookup_layer
        return {
            **super().get_config(),
            "max_tokens": lookup.max_tokens,
            "standardize": self._standardize,
            "split": self._split,
            "ngrams": self._ngrams_arg,
            "output_mode": self._output_mode,
            "output_sequence_length": self._output_sequence_length,
            "pad_to_max_tokens": lookup.pad_to_max_tokens,
            "sparse": False,
            "ragged": False,
            "vocabulary": listify(lookup.input_vocabulary),
            "idf_weights": listify(lookup.input_idf_weights),
            "encoding": self._encoding,
            "vocabulary_size": self.vocabulary_size(),
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("standardize", "split"):
            value = config.get(key)
            if value is not None and not isinstance(value, str) and not callable(value):
                raise ValueError(
                    f"TextVectorization: a custom `{key}` function cannot be rebuilt from its config ({value!r}); "
                    f"construct the layer with the function and set its vocabulary instead."
                )
        if isinstance(config.get("ngrams"), list):
            config["ngrams"] = tuple(config["ngrams"])
        return super().from_config(config)
