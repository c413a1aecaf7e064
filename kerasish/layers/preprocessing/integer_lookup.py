"""IntegerLookup: integer tokens to contiguous indices (or back), on torch tensors."""

from __future__ import annotations

import numbers

import numpy as np
import torch

from kerasish.engine.layer import _to_tensor

from .index_lookup import IndexLookup


class IntegerLookup(IndexLookup):
    """Maps integer tokens from a vocabulary to contiguous indices, as Keras
    3's ``IntegerLookup`` (without TensorFlow).

    Lookups run on the input tensor's device: one ``torch.searchsorted``
    over the sorted vocabulary per call. OOV tokens go to the OOV index, or
    with ``num_oov_indices > 1`` to bucket ``token mod num_oov_indices``
    (``oov_method="floormod"``) or ``FarmHash64(str(token)) mod n``
    (``"farmhash"``), as Keras does.

    Args:
        max_tokens: cap on the vocabulary size (mask and OOV included).
        num_oov_indices: OOV indices (default 1; 0 makes an OOV input an error).
        mask_token: an integer mapped to 0 (int mode) or dropped (other modes).
        oov_token: what ``invert=True`` returns for OOV indices (``-1``).
        vocabulary: a list / array of ints or the path of a text file.
        vocabulary_dtype: ``"int64"`` only.
        idf_weights: per-token IDF weights (``output_mode="tf_idf"`` only).
        invert: map indices back to tokens.
        output_mode: ``"int"``, ``"one_hot"``, ``"multi_hot"``, ``"count"``,
            ``"tf_idf"``.
        sparse: must be False.
        pad_to_max_tokens: encoded outputs have ``max_tokens`` columns.
        oov_method: ``"floormod"`` or ``"farmhash"``.

    Input: an integer tensor / array / list, any shape. Output: int64
    indices of the same shape, or float32 encodings ``(..., depth)``.

    Example:
        >>> layer = IntegerLookup(vocabulary=[12, 36, 1138])
        >>> layer([[12, 1138], [42, 36]]).tolist()
        [[1, 3], [0, 2]]
    """

    _vocab_kind = "int"

    def __init__(self, max_tokens=None, num_oov_indices=1, mask_token=None, oov_token=-1, vocabulary=None, vocabulary_dtype="int64",
                 idf_weights=None, invert=False, output_mode="int", sparse=False, pad_to_max_tokens=False, oov_method="floormod",
                 salt=None, name=None, **kwargs):
        if vocabulary_dtype != "int64":
            raise ValueError(f"IntegerLookup: only vocabulary_dtype='int64' is supported. Received: vocabulary_dtype={vocabulary_dtype!r}")
        for arg, value in (("mask_token", mask_token), ("oov_token", oov_token)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, numbers.Integral)):
                raise ValueError(f"IntegerLookup: `{arg}` must be an integer or None. Received: {arg}={value!r}")
        super().__init__(max_tokens=max_tokens, num_oov_indices=num_oov_indices, mask_token=mask_token, oov_token=oov_token,
                         vocabulary=vocabulary, vocabulary_dtype=vocabulary_dtype, idf_weights=idf_weights, invert=invert,
                         output_mode=output_mode, sparse=sparse, pad_to_max_tokens=pad_to_max_tokens, oov_method=oov_method,
                         salt=salt, name=name, **kwargs)

    def _token(self, v):
        if isinstance(v, torch.Tensor):
            v = v.item()
        if isinstance(v, bool) or not isinstance(v, numbers.Integral):
            raise TypeError(f"IntegerLookup '{self.name}': vocabulary tokens must be integers, got {type(v).__name__} ({v!r}).")
        return int(v)

    def _parse_token(self, line):
        return int(line)

    def _adapt_tokens(self, data):
        if isinstance(data, torch.Tensor):
            data = data.detach().cpu().numpy()
        arr = np.asarray(data)
        if arr.dtype.kind not in "iu":
            arr = arr.astype("int64")
        return arr.astype("int64", copy=False)

    def _table(self, device):
        """The sorted keys, their indices and the inverse table, on ``device`` (cached)."""
        table = self._tables.get(device)
        if table is None:
            keys = torch.tensor(self._tokens, dtype=torch.int64) if self._tokens else torch.zeros(0, dtype=torch.int64)
            order = torch.argsort(keys)
            values = torch.arange(len(self._tokens), dtype=torch.int64) + self._token_start_index()
            inverse = torch.tensor([self.oov_token if v is None else v for v in self.get_vocabulary()] or [0], dtype=torch.int64)
            table = self._tables[device] = (keys[order].to(device), values[order].to(device), inverse.to(device))
        return table

    def call(self, inputs):
        x = _to_tensor(inputs)
        if x.is_floating_point() or x.dtype == torch.bool:
            x = x.to(torch.int64)
        elif x.dtype != torch.int64:
            x = x.to(torch.int64)
        keys, values, inverse = self._table(x.device)
        if self.invert:
            size = self.vocabulary_size()
            inside = (x >= 0) & (x < size)
            out = inverse[torch.where(inside, x, torch.zeros((), dtype=x.dtype, device=x.device))]
            return torch.where(inside, out, torch.full((), self.oov_token, dtype=torch.int64, device=x.device))
        if self.output_mode != "int":
            self._depth()
        if keys.numel():
            pos = torch.searchsorted(keys, x.reshape(-1)).clamp_(max=keys.numel() - 1).reshape(x.shape)
            found = keys[pos] == x
            ids = torch.where(found, values[pos], torch.full((), -1, dtype=torch.int64, device=x.device))
        else:
            found = torch.zeros(x.shape, dtype=torch.bool, device=x.device)
            ids = torch.full(x.shape, -1, dtype=torch.int64, device=x.device)
        oov = ~found
        if self.mask_token is not None:
            is_mask = x == self.mask_token
            ids = torch.where(is_mask, torch.full((), 0 if self.output_mode == "int" else -1, dtype=torch.int64, device=x.device), ids)
            oov = oov & ~is_mask
        start = self._oov_start_index()
        if self.num_oov_indices == 1:
            ids = torch.where(oov, torch.full((), start, dtype=torch.int64, device=x.device), ids)
        elif self.num_oov_indices > 1 and self.oov_method == "floormod":
            ids = torch.where(oov, torch.remainder(x, self.num_oov_indices) + start, ids)
        elif oov.any():  # 0 buckets (an error) or farmhash: the OOV values go through the host
            vals = x[oov].cpu().numpy()
            ids = ids.clone()
            ids[oov] = torch.from_numpy(self._oov_ids(vals)).to(x.device)
        return self._encode_ids(ids)

    def get_config(self):
        config = super().get_config()
        for key in ("oov_token", "mask_token"):
            if config[key] is not None:
                config[key] = int(config[key])
        if config["vocabulary"] is not None:
            config["vocabulary"] = [int(v) for v in config["vocabulary"]]
        return config
