"""Hashing: strings or integers to bin ids with TensorFlow's stable hashes.

Keras 3 hashes through TensorFlow; kerasish computes the same numbers without
it: each value becomes TF's string form (``tf.as_string``: decimal integers,
floats truncated to int64 first), hashed with FarmHash Fingerprint64
(``pyfarmhash``, TF's ``to_hash_bucket_fast``) or, with a ``salt``, keyed
SipHash-2-4 (``siphashc``, TF's ``to_hash_bucket_strong``); the bin is the
unsigned hash modulo the number of bins. Hashing runs on the host, value by
value, as a preprocessing step (as Keras runs it on TF's CPU).
"""

from __future__ import annotations

import numbers
import struct

import farmhash
import numpy as np
import siphashc
import torch

from kerasish.engine.keras_tensor import any_symbolic
from kerasish.engine.layer import Layer, torch_dtype

from .category_encoding import OUTPUT_MODES, check_output_mode, check_positive_int, encode_categorical, encoded_shape


def as_host_array(values, layer):
    """Python / numpy / torch values -> a numpy array (strings stay strings)."""
    if isinstance(values, torch.Tensor):
        return values.detach().cpu().numpy()
    if isinstance(values, (str, bytes)):
        return np.array(values, dtype=object)
    a = np.asarray(values)
    if a.dtype.kind not in "biufUSO":
        raise TypeError(f"{layer}: inputs must be strings or integers, got an array of dtype {a.dtype}.")
    return a


def as_tf_strings(a):
    """The flat values of numpy array ``a`` as ``tf.as_string`` writes them:
    strings (and bytes) as they are, integers in decimal, floats truncated to
    int64 first, booleans as ``true`` / ``false``."""
    flat = a.reshape(-1)
    if a.dtype.kind == "b":
        return np.where(flat, "true", "false")
    if a.dtype.kind == "f":
        flat = flat.astype(np.int64)
    if a.dtype.kind in "iuf":
        return flat.astype(str)
    return flat


def fingerprints(strings):
    """FarmHash Fingerprint64 (TF's ``tf.fingerprint``) of each string, as uint64."""
    return np.fromiter((farmhash.fingerprint64(s) for s in strings), dtype=np.uint64, count=len(strings))


def _siphashes(strings, key):
    """Keyed SipHash-2-4 of each string as TF's ``to_hash_bucket_strong`` keys
    it: the two uint64 key words, little-endian, make the 16-byte key."""
    k = struct.pack("<QQ", *key)
    return np.fromiter(
        (siphashc.siphash(k, s.encode("utf-8") if isinstance(s, str) else bytes(s)) for s in strings),
        dtype=np.uint64,
        count=len(strings),
    )


def _check_salt(salt):
    if salt is None:
        return None
    if isinstance(salt, numbers.Integral) and not isinstance(salt, bool):
        salt = [salt, salt]
    if (
        not isinstance(salt, (list, tuple))
        or len(salt) != 2
        or any(isinstance(s, bool) or not isinstance(s, numbers.Integral) or not 0 <= s < 2**63 for s in salt)
    ):
        raise ValueError(f"Hashing: `salt` must be an int in [0, 2**63) or a list of two. Received: salt={salt!r}")
    return [int(s) for s in salt]


class Hashing(Layer):
    """Hashes and bins categorical features (strings or integers).

    Each value goes to ``hash(value) % num_bins``, with TensorFlow's stable
    hash (the same bins as Keras on every platform): FarmHash64 by default,
    SipHash64 keyed by ``salt`` when one is given. Integers and floats
    (truncated) are hashed in their decimal string form, as TF does.

    Args:
        num_bins: number of bins, >= 1; includes the mask bin when
            ``mask_value`` is set (then values hash into bins 1..num_bins-1).
        mask_value: a value mapped to bin 0 (e.g. ``""``); None for no mask.
        salt: an unsigned int or a list of two: hash with SipHash64 keyed by it.
        output_mode: ``"int"`` (bin ids, int64), ``"one_hot"``,
            ``"multi_hot"`` or ``"count"`` (float32 vectors of ``num_bins``;
            see CategoryEncoding).
        sparse: must be False (kerasish returns dense tensors).

    Input: a string, a (nested) list or numpy array of strings, or integer
    values (lists, numpy arrays, torch tensors). Output: a torch tensor, the
    input's shape in ``"int"`` mode; on the input tensor's device, else CPU.

    Example:
        >>> from kerasish.layers.preprocessing.hashing import Hashing
        >>> Hashing(num_bins=3)([["A"], ["B"], ["C"], ["D"], ["E"]]).tolist()
        [[1], [0], [1], [1], [2]]
        >>> Hashing(num_bins=3, mask_value="")([["A"], [""]]).tolist()
        [[1], [0]]
    """

    _outputs_own_dtype = True
    _takes_strings = True  # string inputs reach it as numpy arrays, in models too

    def __init__(self, num_bins, mask_value=None, salt=None, output_mode="int", sparse=False, **kwargs):
        if kwargs.get("dtype") is None:
            kwargs["dtype"] = "int64" if output_mode == "int" else "float32"
        super().__init__(**kwargs)
        self.num_bins = check_positive_int(num_bins, "num_bins", "Hashing")
        self.output_mode = check_output_mode(output_mode, OUTPUT_MODES, "Hashing")
        if output_mode == "int" and self._dtype not in ("int32", "int64"):
            raise ValueError(f"Hashing: with output_mode='int', `dtype` must be 'int32' or 'int64'. Received: dtype={self._dtype!r}")
        if sparse:
            raise ValueError("Hashing: `sparse=True` is not supported (kerasish layers return dense torch tensors). Received: sparse=True")
        self.sparse = False
        self.mask_value = mask_value
        self.salt = _check_salt(salt)
        self.strong_hash = self.salt is not None
        self._out_dtype = torch_dtype(self._dtype)

    def __call__(self, *args, **kwargs):
        # Strings (and other host values) cannot become torch tensors: hash them
        # here, without the engine's tensor conversion.
        if len(args) == 1 and not kwargs and not isinstance(args[0], torch.Tensor) and not any_symbolic(args[0]):
            self.built = True
            return self.call(args[0])
        return super().__call__(*args, **kwargs)

    def hash_to_bins(self, values):
        """Bin ids (int64 numpy array of ``values``'s shape) before encoding."""
        a = as_host_array(values, f"Layer '{self.name}' (Hashing)")
        bins = self.num_bins
        mask = None
        if self.mask_value is not None and bins > 1:
            bins -= 1  # bin 0 is the mask's
            mask = a == self.mask_value
        strings = as_tf_strings(a)
        hashes = _siphashes(strings, self.salt) if self.strong_hash else fingerprints(strings)
        ids = (hashes % np.uint64(bins)).astype(np.int64).reshape(a.shape)
        if mask is not None:
            ids = np.where(mask, 0, ids + 1)
        return ids

    def call(self, inputs):
        ids = torch.as_tensor(self.hash_to_bins(inputs))
        if isinstance(inputs, torch.Tensor):
            ids = ids.to(inputs.device)
        if self.output_mode == "one_hot" and ids.dim() > 0 and ids.shape[-1] == 1:
            ids = ids.squeeze(-1)  # Keras squeezes here, and the encoding once more
        return encode_categorical(ids, self.output_mode, self.num_bins, self._out_dtype)

    def compute_output_shape(self, input_shape):
        shape = tuple(input_shape)
        if self.output_mode == "one_hot" and shape and shape[-1] == 1:
            shape = shape[:-1]
        return encoded_shape(shape, self.output_mode, self.num_bins)

    def get_config(self):
        return {
            **super().get_config(),
            "num_bins": self.num_bins,
            "salt": self.salt,
            "mask_value": self.mask_value,
            "output_mode": self.output_mode,
            "sparse": self.sparse,
        }
