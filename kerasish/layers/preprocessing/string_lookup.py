"""StringLookup: strings to integer indices (or back), strings handled on the host."""

from __future__ import annotations

import numpy as np
import torch

from .index_lookup import IndexLookup, as_str_array, fingerprint64


class StringLookup(IndexLookup):
    """Maps strings from a vocabulary to integer indices, as Keras 3's
    ``StringLookup`` (without TensorFlow).

    Inputs are Python strings: a list, a tuple or a numpy array of str (or
    bytes, decoded with ``encoding``), any shape. Outputs are torch tensors:
    int64 indices for ``output_mode="int"``, float32 encodings otherwise;
    ``invert=True`` maps int indices (a tensor, array or list) back to a
    numpy array of str.

    Index layout: the mask token (if any, int mode) at 0, then
    ``num_oov_indices`` OOV indices (an OOV string goes to bucket
    ``FarmHash64(s) % num_oov_indices``, as TF's ``to_hash_bucket_fast``),
    then the vocabulary.

    Args:
        max_tokens: cap on the vocabulary size (mask and OOV included).
        num_oov_indices: OOV buckets (default 1; 0 makes an OOV input an error).
        mask_token: a token mapped to 0 (int mode) or dropped (other modes).
        oov_token: the token ``invert=True`` returns for OOV indices (``"[UNK]"``).
        vocabulary: a list / array of strings or the path of a UTF-8 text file.
        idf_weights: per-token IDF weights (``output_mode="tf_idf"`` only).
        invert: map indices to strings.
        output_mode: ``"int"``, ``"one_hot"``, ``"multi_hot"``, ``"count"``,
            ``"tf_idf"``.
        pad_to_max_tokens: encoded outputs have ``max_tokens`` columns.
        sparse: must be False (no TensorFlow sparse tensors).
        encoding: the encoding of bytes inputs (``"utf-8"``).

    Input shape: any (strings); output shape: the input's for ``int``,
    ``(..., depth)`` for the encodings (``multi_hot`` / ``count`` /
    ``tf_idf`` reduce the last axis; a rank-1 input is one sample).

    Example:
        >>> layer = StringLookup(vocabulary=["a", "b", "c"])
        >>> layer([["a", "c"], ["d", "b"]]).tolist()
        [[1, 3], [0, 2]]
        >>> layer = StringLookup()
        >>> layer.adapt(["x", "y", "y"])
        >>> layer.get_vocabulary()
        ['[UNK]', 'y', 'x']
    """

    _takes_strings = True  # string inputs reach it as numpy arrays, in models too

    def __init__(self, max_tokens=None, num_oov_indices=1, mask_token=None, oov_token="[UNK]", vocabulary=None, idf_weights=None,
                 invert=False, output_mode="int", pad_to_max_tokens=False, sparse=False, encoding="utf-8", name=None, salt=None,
                 **kwargs):
        kwargs.pop("vocabulary_dtype", None)  # only "string" is valid; Keras leaves it out of the config
        self.encoding = encoding
        super().__init__(max_tokens=max_tokens, num_oov_indices=num_oov_indices, mask_token=mask_token, oov_token=oov_token,
                         vocabulary=vocabulary, idf_weights=idf_weights, invert=invert, output_mode=output_mode,
                         pad_to_max_tokens=pad_to_max_tokens, sparse=sparse, name=name, salt=salt, vocabulary_dtype="string", **kwargs)

    def _token(self, v):
        if isinstance(v, bytes):
            return v.decode(self.encoding)
        if not isinstance(v, str):
            raise TypeError(f"StringLookup '{self.name}': vocabulary tokens must be strings, got {type(v).__name__} ({v!r}).")
        return str(v)

    def _adapt_tokens(self, data):
        return as_str_array(data, self.encoding, f"StringLookup '{self.name}'")

    def _oov_buckets(self, values):
        # Strings are always hashed (FarmHash64), whatever oov_method says.
        n = self.num_oov_indices
        return np.fromiter((fingerprint64(v.encode("utf-8")) % n for v in values.tolist()), dtype="int64", count=values.size)

    def call(self, inputs):
        if self.invert:
            return self._invert(inputs)
        arr = as_str_array(inputs, self.encoding, f"StringLookup '{self.name}'")
        if self.output_mode != "int":
            self._depth()  # the vocabulary must be known before anything else
        ids = torch.from_numpy(self._string_ids(arr))
        return self._encode_ids(ids)

    def _invert(self, inputs):
        if isinstance(inputs, torch.Tensor):
            inputs = inputs.detach().cpu().numpy()
        idx = np.asarray(inputs)
        if idx.dtype.kind not in "iu":
            raise TypeError(f"StringLookup '{self.name}' (invert=True): expected integer indices, got dtype {idx.dtype}.")
        vocab = np.asarray(self.get_vocabulary() + [self.oov_token], dtype=object)
        size = len(vocab) - 1
        safe = np.where((idx >= 0) & (idx < size), idx, size)
        return vocab[safe]

    def get_config(self):
        config = super().get_config()
        del config["vocabulary_dtype"]
        config["encoding"] = self.encoding
        return config
