"""Bidirectional: a recurrent layer run forwards and backwards, outputs merged."""

from __future__ import annotations

import copy

import torch

from kerasish.engine.layer import Layer
from kerasish.engine.serialization import deserialize_layer, serialize_layer
from kerasish.layers.rnn import gru_cpu
from kerasish.layers.rnn.gru import KerasBiasGRU
from kerasish.layers.rnn.rnn import RNN

_MERGE_MODES = ("concat", "sum", "mul", "ave", None)


def _renamed_copy(layer, prefix, go_backwards=None):
    """A fresh layer from ``layer``'s config, named ``<prefix>_<name>`` as Keras names it."""
    config = serialize_layer(layer)
    name = layer.name[len(prefix) + 1:] if layer.name.startswith(prefix + "_") else layer.name
    config["config"]["name"] = f"{prefix}_{name}"
    if go_backwards is not None:
        config["config"]["go_backwards"] = go_backwards
    return deserialize_layer(config)


class Bidirectional(Layer):
    """Runs a recurrent layer over the sequence forwards and a copy of it backwards.

    Args:
        layer: a recurrent layer (``LSTM``, ``GRU``, ``SimpleRNN``, ``RNN(cell)``); a fresh copy
            of it (from its config, named ``forward_<name>``) runs forwards.
        merge_mode: ``"concat"`` (default; last axis), ``"sum"``, ``"mul"``,
            ``"ave"``, or None (a list of both outputs).
        weights: optional initial weights, the forward layer's then the backward layer's.
        backward_layer: the recurrent layer run backwards (``go_backwards=True``);
            by default a copy of ``layer`` with ``go_backwards`` flipped, named
            ``backward_<name>``.

    Input: ``(batch, timesteps, features)``; ``initial_state`` is the forward
    layer's states followed by the backward layer's. The backward output
    sequence is flipped back into time order before merging, as in Keras. With
    ``return_state``, the forward states then the backward states follow the output.
    The weights are the forward layer's, then the backward layer's. A ``mask=``
    ``(batch, timesteps)`` goes to both layers (masked outputs are zeros when
    returning sequences, as Keras sets ``zero_output_for_mask``).

    Example:
        >>> import numpy as np
        >>> from kerasish.layers import LSTM, Bidirectional
        >>> Bidirectional(LSTM(4))(np.zeros((2, 5, 3), dtype="float32")).shape
        torch.Size([2, 8])
    """

    _native_layout = True

    def __init__(self, layer, merge_mode="concat", weights=None, backward_layer=None, **kwargs):
        if not isinstance(layer, RNN):
            raise ValueError(
                f"Bidirectional: `layer` must be a recurrent layer (LSTM, GRU, SimpleRNN, RNN); received {layer!r:.200}."
            )
        if backward_layer is not None and not isinstance(backward_layer, RNN):
            raise ValueError(
                f"Bidirectional: `backward_layer` must be a recurrent layer (LSTM, GRU, SimpleRNN, RNN); received {backward_layer!r:.200}."
            )
        if merge_mode not in _MERGE_MODES:
            raise ValueError(
                f"Bidirectional: invalid merge_mode {merge_mode!r}; expected one of 'concat', 'sum', 'mul', 'ave', None."
            )
        super().__init__(**kwargs)
        self.forward_layer = _renamed_copy(layer, "forward")
        if backward_layer is None:
            backward_layer = _renamed_copy(layer, "backward", go_backwards=not layer.go_backwards)
        self.backward_layer = backward_layer
        fwd, bwd = self.forward_layer, self.backward_layer
        if fwd.go_backwards == bwd.go_backwards:
            raise ValueError(
                "Bidirectional: the forward and backward layers must have different `go_backwards`; got "
                f"forward_layer.go_backwards={fwd.go_backwards}, backward_layer.go_backwards={bwd.go_backwards}."
            )
        for attr in ("stateful", "return_sequences", "return_state"):
            if getattr(fwd, attr) != getattr(bwd, attr):
                raise ValueError(
                    f"Bidirectional: the forward and backward layers must have the same `{attr}`; got "
                    f"{getattr(fwd, attr)} (forward) and {getattr(bwd, attr)} (backward)."
                )
        # As Keras: the wrapped layers zero masked outputs exactly when they return sequences.
        fwd.zero_output_for_mask = fwd.return_sequences
        bwd.zero_output_for_mask = bwd.return_sequences
        self.merge_mode = merge_mode
        self.stateful = fwd.stateful
        self.return_sequences = fwd.return_sequences
        self.return_state = fwd.return_state
        self._initial_weights = list(weights) if weights else None
        self.supports_masking = True

    def build(self, sequences_shape):
        self.forward_layer._maybe_build(sequences_shape)
        self.backward_layer._maybe_build(sequences_shape)
        self.built = True
        if self._initial_weights is not None:
            self.set_weights(self._initial_weights)
            self._initial_weights = None

    def _check_input(self, input_shape):
        self.forward_layer._check_input(input_shape)

    def call(self, sequences, initial_state=None, mask=None, training=None):
        return self.native_call(sequences, initial_state=initial_state, mask=mask, training=bool(training))

    def native_call(self, inputs, initial_state=None, mask=None, training=False):
        fwd_state = bwd_state = None
        if initial_state is not None:
            initial_state = list(initial_state)
            n = len(self.forward_layer._flat_sizes) + len(self.backward_layer._flat_sizes)
            if len(initial_state) != n:
                raise ValueError(
                    f"Layer '{self.name}' (Bidirectional) expects {n} initial state tensors (the forward layer's, "
                    f"then the backward layer's), got {len(initial_state)}."
                )
            half = len(initial_state) // 2
            fwd_state, bwd_state = initial_state[:half], initial_state[half:]
        both = None if initial_state is not None or mask is not None else self._gru_pair(inputs, training)
        if both is not None:
            y, y_rev = both
        else:
            y = self.forward_layer.native_call(inputs, initial_state=fwd_state, mask=mask, training=training)
            y_rev = self.backward_layer.native_call(inputs, initial_state=bwd_state, mask=mask, training=training)
        states = []
        if self.return_state:
            states = [*y[1:], *y_rev[1:]]
            y, y_rev = y[0], y_rev[0]
        if self.return_sequences:
            y_rev = y_rev.flip(1)  # back into time order
        mode = self.merge_mode
        if mode == "concat":
            out = [torch.cat([y, y_rev], dim=-1)]
        elif mode == "sum":
            out = [y + y_rev]
        elif mode == "ave":
            out = [(y + y_rev) / 2]
        elif mode == "mul":
            out = [y * y_rev]
        else:
            out = [y, y_rev]
        if len(out) == 1 and not states:
            return out[0]
        return out + states

    def _gru_pair(self, x, training):
        """Both directions of two plain GRUs in one loop on a CPU (:mod:`gru_cpu`), else None.

        Plain: fused-kernel arguments, no dropout in training, not stateful, the
        same units; no mask or initial state (the caller checks those)."""
        f, b = self.forward_layer, self.backward_layer
        mf, mb = f._torch_module, b._torch_module
        if not (isinstance(mf, KerasBiasGRU) and isinstance(mb, KerasBiasGRU) and f._fusable and b._fusable):
            return None
        if f.go_backwards or not b.go_backwards or f.stateful or b.stateful or f.units != b.units:
            return None
        if training and any(l.cell.dropout > 0 or l.cell.recurrent_dropout > 0 for l in (f, b)):
            return None
        if x.dim() != 3 or x.shape[1] == 0 or x.dtype != mf.weight_ih_l0.dtype or not gru_cpu.use_cpu_kernel(x):
            return None  # the layers' own calls check and refuse what is wrong
        h0 = x.new_zeros(2, x.shape[0], f.units)
        seq, seq_rev, last, last_rev = gru_cpu.bidirectional_gru(x, h0, [*mf.flat_weights(), *mb.flat_weights()],
                                                                 want_seq=f.return_sequences or b.return_sequences)
        y = seq if f.return_sequences else last
        y_rev = seq_rev if b.return_sequences else last_rev
        if self.return_state:
            return [y, last], [y_rev, last_rev]
        return y, y_rev

    def compute_output_shape(self, sequences_shape, initial_state_shape=None):
        shape = self.forward_layer.compute_output_shape(sequences_shape)
        states = []
        if self.return_state:
            shape, states = shape[0], list(shape[1:])
        back = self.backward_layer.compute_output_shape(sequences_shape)
        if self.return_state:
            back, back_states = back[0], list(back[1:])
            states += back_states
        if self.merge_mode == "concat":
            out = [tuple(shape[:-1]) + (shape[-1] + back[-1],)]
        elif self.merge_mode is None:
            out = [tuple(shape), tuple(back)]
        else:
            out = [tuple(shape)]
        if len(out) == 1 and not states:
            return out[0]
        return out + [tuple(s) for s in states]

    def compute_mask(self, inputs, mask=None):
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        if self.return_sequences:
            out = [mask, mask] if self.merge_mode is None else mask
        else:
            out = [None, None] if self.merge_mode is None else None
        if self.return_state:
            n = len(self.forward_layer.state_size) + len(self.backward_layer.state_size)
            return (out if isinstance(out, list) else [out]) + [None] * n
        return out

    def reset_states(self):
        """Zero both stateful layers' kept states."""
        self.forward_layer.reset_states()
        self.backward_layer.reset_states()

    reset_state = reset_states

    def get_config(self):
        return {
            **super().get_config(),
            "merge_mode": self.merge_mode,
            "layer": serialize_layer(self.forward_layer),
            "backward_layer": serialize_layer(self.backward_layer),
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = copy.deepcopy(config)
        config["layer"] = deserialize_layer(config["layer"], custom_objects=custom_objects)
        if config.get("backward_layer") is not None:
            config["backward_layer"] = deserialize_layer(config["backward_layer"], custom_objects=custom_objects)
        return cls(**config)
