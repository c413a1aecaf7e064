"""HashedCrossing: crosses of categorical features by the hashing trick.

The bins are TensorFlow's ``tf.sparse.cross_hashed`` ones, which Keras 3
calls: a string value's hash is its FarmHash Fingerprint64 (see
:mod:`.hashing`), an integer is its own hash; the hashes are chained with
TF's ``FingerprintCat64`` from the op's default key, and the result is taken
modulo ``num_bins``. Computed on the host with numpy's wrapping uint64
arithmetic, vectorized over the batch.
"""

from __future__ import annotations

import numpy as np
import torch

from kerasish.engine.keras_tensor import any_symbolic
from kerasish.engine.layer import Layer, torch_dtype

from .category_encoding import check_output_mode, check_positive_int, encode_categorical
from .hashing import as_host_array, as_tf_strings, fingerprints

_HASH_KEY = np.uint64(0xDECAFCAFFE)  # tf.sparse.cross_hashed's default hash_key
_MUL = np.uint64(0xC6A4A7935BD1E995)
_SHIFT = np.uint64(47)


def _shift_mix(v):
    return v ^ (v >> _SHIFT)


def _fingerprint_cat64(fp1, fp2):
    """TF's ``FingerprintCat64``: combine two uint64 fingerprint arrays."""
    result = fp1 ^ _MUL
    result ^= _shift_mix(fp2 * _MUL) * _MUL
    result *= _MUL
    result = _shift_mix(result) * _MUL
    return _shift_mix(result)


def _feature_hashes(a):
    """Each value's hash as TF's cross op takes it: an integer is its own
    (two's complement) hash; a string its FarmHash Fingerprint64."""
    if a.dtype.kind in "iu":
        return a.reshape(-1).astype(np.int64).view(np.uint64)
    return fingerprints(as_tf_strings(a))


class HashedCrossing(Layer):
    """Crosses two or more categorical features with the hashing trick.

    Conceptually ``hash(concatenate(features)) % num_bins``, with the bins
    TensorFlow's ``tf.sparse.cross_hashed`` (and so Keras 3) gives. Features
    are scalars or batches of scalars, strings or integers.

    Args:
        num_bins: number of hash bins, >= 1.
        output_mode: ``"int"`` (bin ids, int64) or ``"one_hot"`` (float32
            vectors of ``num_bins``).
        sparse: must be False (kerasish returns dense tensors).

    Input: a tuple / list of at least two features of equal shape ``()``,
    ``(batch,)`` or ``(batch, 1)``: strings (lists, numpy arrays) or integers
    (also torch tensors). Output: bin ids of that shape (one_hot: with the
    size-1 axis replaced by, or a new axis of, ``num_bins``).

    Example:
        >>> import numpy as np
        >>> from kerasish.layers.preprocessing.hashed_crossing import HashedCrossing
        >>> layer = HashedCrossing(num_bins=5)
        >>> layer((np.array(["A", "B", "A", "B", "A"]), np.array([101, 101, 101, 102, 102]))).tolist()
        [1, 4, 1, 1, 3]
    """

    _outputs_own_dtype = True
    _takes_strings = True  # string features reach it as numpy arrays, in models too

    def __init__(self, num_bins, output_mode="int", sparse=False, **kwargs):
        if kwargs.get("dtype") is None:
            kwargs["dtype"] = "int64" if output_mode == "int" else "float32"
        super().__init__(**kwargs)
        self.num_bins = check_positive_int(num_bins, "num_bins", "HashedCrossing")
        self.output_mode = check_output_mode(output_mode, ("int", "one_hot"), "HashedCrossing")
        if sparse:
            raise ValueError("HashedCrossing: `sparse=True` is not supported (kerasish layers return dense torch tensors). Received: sparse=True")
        self.sparse = False
        self._out_dtype = torch_dtype(self._dtype)

    def __call__(self, *args, **kwargs):
        # String features cannot become torch tensors: cross them here,
        # without the engine's tensor conversion.
        if (
            len(args) == 1
            and not kwargs
            and isinstance(args[0], (list, tuple))
            and not any_symbolic(args[0])
            and not all(isinstance(f, torch.Tensor) for f in args[0])
        ):
            self.built = True
            return self.call(args[0])
        return super().__call__(*args, **kwargs)

    def _check_features(self, shapes):
        if not isinstance(shapes, (list, tuple)) or len(shapes) < 2:
            raise ValueError(f"Layer '{self.name}' (HashedCrossing) must be called on a list or tuple of at least two features. Received input shape(s): {shapes}")
        first = tuple(shapes[0])
        if len(first) > 2 or (len(first) == 2 and first[-1] != 1):
            raise ValueError(
                f"Layer '{self.name}' (HashedCrossing): features must have shape (), (batch,) or (batch, 1). Received shapes: {[tuple(s) for s in shapes]}"
            )
        if any(tuple(s) != first for s in shapes[1:]):
            raise ValueError(f"Layer '{self.name}' (HashedCrossing): all features must have the same shape. Received shapes: {[tuple(s) for s in shapes]}")

    def _check_input(self, input_shape):
        self._check_features(input_shape)

    def call(self, inputs):
        if not isinstance(inputs, (list, tuple)):
            raise ValueError(f"Layer '{self.name}' (HashedCrossing) must be called on a list or tuple of at least two features. Received: {type(inputs).__name__}")
        arrays = [as_host_array(f, f"Layer '{self.name}' (HashedCrossing)") for f in inputs]
        self._check_features([a.shape for a in arrays])
        for a in arrays:
            if a.dtype.kind not in "iuUSO":
                raise ValueError(f"Layer '{self.name}' (HashedCrossing): features must be integers or strings. Received a feature of dtype {a.dtype}.")
        crossed = np.full(arrays[0].size, _HASH_KEY, dtype=np.uint64)
        for a in arrays:
            crossed = _fingerprint_cat64(crossed, _feature_hashes(a))
        ids = (crossed % np.uint64(self.num_bins)).astype(np.int64).reshape(arrays[0].shape)
        out = torch.from_numpy(ids)
        device = next((f.device for f in inputs if isinstance(f, torch.Tensor)), None)
        if device is not None:
            out = out.to(device)
        return encode_categorical(out, self.output_mode, self.num_bins, self._out_dtype)

    def compute_output_shape(self, input_shape):
        self._check_features(input_shape)
        shape = tuple(input_shape[0])
        if self.output_mode == "int":
            return shape
        if len(shape) == 2:
            return shape[:-1] + (self.num_bins,)
        return shape + (self.num_bins,)

    def get_config(self):
        return {**super().get_config(), "num_bins": self.num_bins, "output_mode": self.output_mode, "sparse": self.sparse}
