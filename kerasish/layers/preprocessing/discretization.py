"""Discretization: continuous values to bucket ids, with boundaries given or
learned by ``adapt`` from Keras's approximate quantile summary."""

from __future__ import annotations

import numbers

import numpy as np
import torch

from kerasish.engine.layer import Layer, torch_dtype

from .category_encoding import OUTPUT_MODES, check_output_mode, encode_categorical, encoded_shape


# ----------------------------------------------------------------------
# The quantile summary ``adapt`` keeps: a 2-row array, values and weights.
# Keras's algorithm, so adapted boundaries are Keras's.
# ----------------------------------------------------------------------
def summarize(values, epsilon):
    """A summary of ``values``: about ``1 / epsilon`` evenly spaced sorted
    values (all of them when there are fewer), each weighing the count it stands for."""
    values = np.sort(np.reshape(values, -1))
    step = max(values.size / (1.0 / epsilon), 1)  # Keras's arithmetic: int(step) must truncate alike
    picked = values[int(step - 1) :: int(step)]
    return np.stack([picked, np.full_like(picked, step)])


def compress_summary(summary, epsilon):
    """Resample ``summary`` at the cumulative-weight fractions ``epsilon,
    2 epsilon, ..., 1`` (linear interpolation); unchanged when it is already
    that small."""
    if summary.shape[1] * epsilon < 1:
        return summary
    fractions = epsilon + np.arange(0.0, 1.0, epsilon)
    cum = summary[1].cumsum()
    cum_fraction = cum / cum[-1]
    values = np.interp(fractions, cum_fraction, summary[0])
    cum_at = np.interp(fractions, cum_fraction, cum)
    weights = np.diff(cum_at, prepend=0.0)
    return np.stack((values, weights)).astype("float32")


def merge_summaries(a, b, epsilon):
    """One summary of the data of summaries ``a`` and ``b``, compressed to ``epsilon``."""
    merged = np.concatenate((a, b), axis=1)
    merged = merged[:, np.argsort(merged[0])]
    return compress_summary(merged, epsilon)


def bin_boundaries_of(summary, num_bins):
    """The ``num_bins - 1`` inner boundaries: the summary's ``1 / num_bins`` quantiles."""
    return compress_summary(summary, 1.0 / num_bins)[0, :-1]


def _first_of_batch(batch):
    """``(x, y[, sample_weight])`` batches give ``x``."""
    return batch[0] if isinstance(batch, tuple) else batch


def _as_float32_array(data):
    if isinstance(data, torch.Tensor):
        return data.detach().cpu().to(torch.float32).numpy()
    return np.asarray(data, dtype="float32")


class Discretization(Layer):
    """Buckets continuous values by ranges.

    ``bin_boundaries=[0., 1., 2.]`` makes the bins ``(-inf, 0)``, ``[0, 1)``,
    ``[1, 2)`` and ``[2, inf)``: each value becomes the id of its bin (0..3).
    Alternatively give ``num_bins`` and call :meth:`adapt` on data to place
    the boundaries at its approximate quantiles (Keras's summary algorithm,
    so the boundaries are Keras's).

    Args:
        bin_boundaries: increasing list of boundaries; not with ``num_bins``.
        num_bins: number of bins to learn with ``adapt``; not with ``bin_boundaries``.
        epsilon: error tolerance of the quantile summary (default 0.01);
            larger is coarser and cheaper.
        output_mode: ``"int"`` (bin ids, int32), ``"one_hot"``,
            ``"multi_hot"`` or ``"count"`` (float vectors of
            ``len(bin_boundaries) + 1``; see CategoryEncoding).
        sparse: must be False (kerasish returns dense tensors).

    Input: float values of any shape (cast to float32). Output: the input's
    shape in ``"int"`` mode.

    Example:
        >>> import numpy as np
        >>> from kerasish.layers.preprocessing.discretization import Discretization
        >>> x = np.array([[-1.5, 1.0, 3.4, 0.5], [0.0, 3.0, 1.3, 0.0]])
        >>> Discretization(bin_boundaries=[0.0, 1.0, 2.0])(x).tolist()
        [[0, 2, 3, 1], [1, 3, 2, 1]]
        >>> layer = Discretization(num_bins=4, epsilon=0.01)
        >>> layer.adapt(x)
        >>> layer(x).tolist()
        [[0, 2, 3, 2], [1, 3, 3, 1]]
    """

    _outputs_own_dtype = True

    def __init__(self, bin_boundaries=None, num_bins=None, epsilon=0.01, output_mode="int", sparse=False, **kwargs):
        super().__init__(**kwargs)
        self.output_mode = check_output_mode(output_mode, OUTPUT_MODES, "Discretization")
        if sparse:
            raise ValueError("Discretization: `sparse=True` is not supported (kerasish layers return dense torch tensors). Received: sparse=True")
        self.sparse = False
        if num_bins is not None and (isinstance(num_bins, bool) or not isinstance(num_bins, numbers.Integral) or num_bins < 1):
            raise ValueError(f"Discretization: `num_bins` must be an int >= 1. Received: num_bins={num_bins!r}")
        if num_bins is not None and bin_boundaries is not None:
            raise ValueError(
                f"Discretization: set `num_bins` or `bin_boundaries`, not both. Received: num_bins={num_bins!r} and bin_boundaries={bin_boundaries!r}"
            )
        if num_bins is None and bin_boundaries is None:
            raise ValueError("Discretization: you need to set either `num_bins` or `bin_boundaries`.")
        if isinstance(epsilon, bool) or not isinstance(epsilon, numbers.Real) or not 0 < epsilon <= 1:
            raise ValueError(f"Discretization: `epsilon` must be a number in (0, 1]. Received: epsilon={epsilon!r}")
        self.num_bins = None if num_bins is None else int(num_bins)
        self.epsilon = epsilon
        self.bin_boundaries = None
        if bin_boundaries is not None:
            self._set_boundaries(bin_boundaries)
            # The config keeps the boundaries as given (ints stay ints), as Keras's does.
            self.bin_boundaries = list(bin_boundaries) if isinstance(bin_boundaries, (list, tuple)) else np.asarray(bin_boundaries).tolist()
        self.summary = np.array([[], []], dtype="float32") if self.bin_boundaries is None else None
        self._out_dtype = torch.int32 if self.output_mode == "int" else torch_dtype(self._dtype)
        self._cache = {}  # device -> the boundaries as a float32 tensor there

    def _set_boundaries(self, boundaries):
        b = np.asarray(boundaries, dtype="float64").reshape(-1)
        if np.isnan(b).any() or (np.diff(b) < 0).any():
            raise ValueError(f"Discretization: `bin_boundaries` must be an increasing list of numbers. Received: bin_boundaries={list(boundaries)!r}")
        self.bin_boundaries = [float(v) for v in b]
        self._cache = {}

    # ------------------------------------------------------------------
    def adapt(self, data, steps=None):
        """Learn ``num_bins - 1`` boundaries at the approximate quantiles of ``data``.

        Args:
            data: a numpy array or tensor, or an iterable of batches (a list
                of arrays, a generator, a torch ``DataLoader``, a kerasish
                dataset; ``(x, y)`` batches give ``x``).
            steps: with an iterable, the number of batches to read (all when None).
        """
        if self.num_bins is None:
            raise ValueError(f"Layer '{self.name}' (Discretization) was given `bin_boundaries`; only a layer made with `num_bins` can be adapted.")
        self.reset_state()
        if isinstance(data, (np.ndarray, torch.Tensor)) or not hasattr(data, "__iter__"):
            self.update_state(data)
        else:
            for i, batch in enumerate(data):
                if steps is not None and i >= steps:
                    break
                self.update_state(_first_of_batch(batch))
        self.finalize_state()

    def update_state(self, data):
        """Fold a batch of values into the quantile summary."""
        self.summary = merge_summaries(summarize(_as_float32_array(data), self.epsilon), self.summary, self.epsilon)

    def finalize_state(self):
        """Set ``bin_boundaries`` from the summary."""
        if self.num_bins is None:
            return
        if self.summary.shape[1] == 0:
            raise ValueError(f"Layer '{self.name}' (Discretization): adapt() received no data.")
        self._set_boundaries(bin_boundaries_of(self.summary, self.num_bins))

    def reset_state(self):
        """Forget the data seen by ``adapt``."""
        if self.num_bins is not None:
            self.summary = np.array([[], []], dtype="float32")

    # ------------------------------------------------------------------
    def _depth(self):
        return len(self.bin_boundaries) + 1 if self.bin_boundaries is not None else self.num_bins

    def _boundaries_on(self, device):
        b = self._cache.get(device)
        if b is None:
            b = torch.tensor(self.bin_boundaries, dtype=torch.float32, device=device)
            if not torch.compiler.is_compiling():
                self._cache[device] = b
        return b

    def call(self, inputs):
        if self.bin_boundaries is None:
            raise ValueError(
                f"Layer '{self.name}' (Discretization): pass `bin_boundaries` to the constructor or call `adapt(data)` before using the layer."
            )
        x = inputs if isinstance(inputs, torch.Tensor) else torch.as_tensor(np.asarray(inputs))
        x = x.to(torch.float32)  # Keras's input dtype
        # right=True: boundaries[i-1] <= x < boundaries[i], numpy's digitize.
        ids = torch.bucketize(x, self._boundaries_on(x.device), right=True)
        return encode_categorical(ids, self.output_mode, self._depth(), self._out_dtype)

    def compute_output_shape(self, input_shape):
        return encoded_shape(input_shape, self.output_mode, self._depth())

    def _symbolic_call(self, inputs, *args, **kwargs):
        # The engine gives a layer's symbolic output its dtype (float32); bin ids are int32.
        out = super()._symbolic_call(inputs, *args, **kwargs)
        out.dtype = "int32" if self.output_mode == "int" else self._dtype
        return out

    def get_config(self):
        return {
            **super().get_config(),
            "bin_boundaries": self.bin_boundaries,
            "num_bins": self.num_bins,
            "epsilon": self.epsilon,
            "output_mode": self.output_mode,
            "sparse": self.sparse,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        # An adapted layer's config has both; the constructor takes one.
        boundaries = config.pop("bin_boundaries", None) if config.get("num_bins") is not None else None
        layer = super().from_config(config)
        if boundaries is not None:
            layer._set_boundaries(boundaries)
        return layer
