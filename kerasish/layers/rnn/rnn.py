"""RNN: runs any cell over a sequence (Keras's ``keras.layers.RNN``).

The loop itself is :mod:`kerasish.layers.rnn.loop`. This module holds what a
recurrent layer is around it: ``return_sequences`` / ``return_state`` /
``go_backwards`` / ``initial_state`` / masks / ``stateful``. SimpleRNN, LSTM and
GRU (``base_rnn.FusedRNN``) are RNNs whose ``_run`` takes torch's fused kernel
when the arguments allow.

Stateful layers keep their states as non-persistent buffers of the module a
model registers (``rnn_state_0``, ...): they move with ``.to(device)`` and are
not written to weight files, as Keras keeps them out of its files.
"""

from __future__ import annotations

import copy

import torch

from kerasish import tree
from kerasish.engine.layer import Layer, torch_dtype
from kerasish.engine.serialization import deserialize_layer, serialize_layer
from kerasish.layers.rnn.loop import make_runner, run_steps
from kerasish.layers.rnn.stacked_rnn_cells import StackedRNNCells, cell_output_size, check_cell


class RNN(Layer):
    """Base class for recurrent layers: runs ``cell`` over the time axis.

    Args:
        cell: an RNN cell (``SimpleRNNCell``, ``LSTMCell``, ``GRUCell``, a
            ``StackedRNNCells``, or your own object with ``state_size`` and
            ``call(inputs, states) -> (output, new_states)``); a list of cells
            is stacked.
        return_sequences: return the output of every step ``(batch, timesteps,
            units)``, not only the last ``(batch, units)``.
        return_state: also return the final states (``[output, *states]``).
        go_backwards: read the sequence last step first; outputs come in that order.
        stateful: the final states of a batch are the initial states of the
            next call (needs a fixed batch size; ``reset_states()`` zeroes them).
        unroll: accepted for Keras's configs; the loop is a Python loop either way.
        zero_output_for_mask: masked steps output zeros rather than the previous output.

    Call arguments: ``sequences (batch, timesteps, ...)``; ``initial_state``
    (one tensor per state, flat or nested as the cell's ``state_size``);
    ``mask`` (bool ``(batch, timesteps)``: False steps are skipped, keeping the
    states); ``training``.

    Example:
        >>> import numpy as np
        >>> from kerasish.layers import RNN, LSTMCell
        >>> out, h, c = RNN(LSTMCell(4), return_state=True)(np.zeros((2, 5, 3), dtype="float32"))
        >>> tuple(out.shape), tuple(c.shape)
        ((2, 4), (2, 4))
    """

    _native_layout = True
    # The input rank a subclass needs (SimpleRNN / LSTM / GRU: 3); a user's cell may take more axes.
    _exact_rank = None

    def __init__(self, cell, return_sequences=False, return_state=False, go_backwards=False, stateful=False,
                 unroll=False, zero_output_for_mask=False, **kwargs):
        if isinstance(cell, (list, tuple)):
            cell = StackedRNNCells(cell)
        check_cell(cell, type(self).__name__)
        super().__init__(**kwargs)
        self.cell = cell
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        self.stateful = bool(stateful)
        self.unroll = bool(unroll)
        self.zero_output_for_mask = bool(zero_output_for_mask)
        self.supports_masking = True
        size = cell.state_size
        self.single_state = isinstance(size, int)
        self.state_size = [size] if self.single_state else list(size)
        self._flat_sizes = tree.flatten(self.state_size)
        for s in self._flat_sizes:
            if isinstance(s, bool) or not isinstance(s, int) or s <= 0:
                raise ValueError(f"{type(self).__name__}: the cell's state sizes must be positive ints; got state_size={size!r}.")
        self._expected_batch_size = None

    # -- shapes ----------------------------------------------------------------
    def _check_input(self, input_shape):
        cls = type(self).__name__
        rank_ok = isinstance(input_shape, tuple) and (len(input_shape) == self._exact_rank if self._exact_rank else len(input_shape) >= 3)
        if not rank_ok:
            raise ValueError(
                f"Layer '{self.name}' ({cls}) expects sequences of shape (batch, timesteps, features), got shape {input_shape}."
            )
        if input_shape[-1] is None:
            raise ValueError(f"Layer '{self.name}' ({cls}) needs a known feature axis, got input shape {input_shape}.")
        if self.unroll and input_shape[1] is None:
            raise ValueError(
                f"Layer '{self.name}' ({cls}): unroll=True needs a known number of timesteps (as Keras), got input "
                f"shape {input_shape}; give the Input a time axis, e.g. Input((10, features))."
            )
        built_dim = getattr(self, "input_dim", None)
        if self.built and built_dim is not None and input_shape[-1] != built_dim:
            raise ValueError(
                f"Layer '{self.name}' ({cls}) was built for {built_dim} features, but got an input of shape {input_shape}."
            )

    def compute_output_shape(self, sequences_shape, initial_state_shape=None):
        b, t = sequences_shape[0], sequences_shape[1]
        size = cell_output_size(self.cell)
        out = (b, t, size) if self.return_sequences else (b, size)
        if not self.return_state:
            return out
        states = [(b, s) if isinstance(s, int) else [(b, d) for d in s] for s in self.state_size]
        return [out, *states]

    def compute_mask(self, inputs, mask=None):
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        out = mask if self.return_sequences else None
        if self.return_state:
            return [out] + [None] * len(self.state_size)
        return out

    # -- weights and states ------------------------------------------------------
    def build(self, sequences_shape):
        self.input_dim = int(sequences_shape[-1])
        if isinstance(self.cell, Layer) and not self.cell.built:
            self.cell._maybe_build((sequences_shape[0],) + tuple(sequences_shape[2:]))
        self._finish_build(sequences_shape)

    def _finish_build(self, sequences_shape):
        self._name_weights()
        if self.stateful:
            self._make_states(sequences_shape)
        self.built = True

    def _name_weights(self):
        """Keras's paths: ``lstm/lstm_cell/kernel``."""

        def visit(layer, prefix):
            prefix = f"{prefix}/{layer.name}"
            for v in layer._variables:
                v.path = f"{prefix}/{v.name}"
            subs = list(layer.cells) if isinstance(layer, StackedRNNCells) else layer._sublayers()
            for sub in subs:
                if isinstance(sub, Layer):
                    visit(sub, prefix)

        if isinstance(self.cell, Layer):
            visit(self.cell, self.name)

    def _make_states(self, sequences_shape):
        batch = sequences_shape[0]
        if batch is None:
            raise ValueError(
                f"Layer '{self.name}' ({type(self).__name__}): stateful=True needs a fixed batch size (the states are "
                f"kept per sample), got input shape {tuple(sequences_shape)}. Give the input a batch size, e.g. "
                "Input(batch_shape=(32, timesteps, features))."
            )
        module = self.torch_module
        device = self._device()
        for i, shape in enumerate(self._state_shapes(batch)):
            module.register_buffer(f"rnn_state_{i}", torch.zeros(shape, dtype=torch_dtype(self._dtype), device=device),
                                   persistent=False)
        self._expected_batch_size = int(batch)

    @property
    def states(self):
        """The kept states of a stateful layer (one tensor per state), else None."""
        if not self.stateful or self._expected_batch_size is None:
            return None
        module = self.torch_module
        return [getattr(module, f"rnn_state_{i}") for i in range(len(self._flat_sizes))]

    def reset_states(self):
        """Zero a stateful layer's kept states (Keras's ``reset_states``)."""
        self.reset_state()

    def reset_state(self):
        for s in self.states or []:
            s.zero_()

    def _state_shapes(self, batch):
        """The flat states' shapes (internal layout) for ``batch`` sequences."""
        return [(batch, d) for d in self._flat_sizes]

    def get_initial_state(self, batch_size):
        fn = getattr(self.cell, "get_initial_state", None)
        if fn is not None:
            return tree.flatten(fn(batch_size=batch_size))
        return [torch.zeros(shape, dtype=torch_dtype(self._dtype)) for shape in self._state_shapes(batch_size)]

    # -- calling -------------------------------------------------------------
    def call(self, sequences, initial_state=None, mask=None, training=None):
        return self.native_call(sequences, initial_state=initial_state, mask=mask, training=bool(training))

    def _flat_initial_states(self, initial_state, x):
        cls = type(self).__name__
        flat = tree.flatten(initial_state) if tree.is_nested(initial_state) else [initial_state]
        n = len(self._flat_sizes)
        if len(flat) != n:
            raise ValueError(f"Layer '{self.name}' ({cls}) expects {n} initial state tensor(s), got {len(flat)}.")
        out = []
        for i, (s, want) in enumerate(zip(flat, self._state_shapes(x.shape[0]))):
            s = torch.as_tensor(s, device=x.device)
            if tuple(s.shape) != tuple(want):
                raise ValueError(
                    f"Layer '{self.name}' ({cls}): initial_state[{i}] must have shape {tuple(want)} (batch, units), "
                    f"got {tuple(s.shape)}."
                )
            out.append(s.to(x.dtype))
        return out

    def _check_mask(self, mask, x):
        mask = torch.as_tensor(mask, device=x.device)
        if tuple(mask.shape) != tuple(x.shape[:2]):
            raise ValueError(
                f"Layer '{self.name}' ({type(self).__name__}): the mask must have shape (batch, timesteps) = "
                f"{tuple(x.shape[:2])}, got {tuple(mask.shape)}."
            )
        return mask if mask.dtype == torch.bool else mask.bool()

    def native_call(self, inputs, initial_state=None, mask=None, training=False):
        x = inputs
        cls = type(self).__name__
        if x.dim() < 3 or (self._exact_rank and x.dim() != self._exact_rank):
            raise ValueError(
                f"Layer '{self.name}' ({cls}) expects sequences of shape (batch, timesteps, features), got shape {tuple(x.shape)}."
            )
        if x.shape[1] == 0:
            raise ValueError(f"Layer '{self.name}' ({cls}) got a sequence of zero timesteps (shape {tuple(x.shape)}).")
        if mask is not None:
            mask = self._check_mask(mask, x)
        if self.stateful:
            if self._expected_batch_size is None:
                self._make_states(tuple(x.shape))
            if x.shape[0] != self._expected_batch_size:
                raise ValueError(
                    f"Layer '{self.name}' ({cls}) is stateful with batch size {self._expected_batch_size}; "
                    f"got a batch of {x.shape[0]} sequences."
                )
        if initial_state is not None:
            states = self._flat_initial_states(initial_state, x)
        elif self.stateful:
            states = [s.clone() for s in self.states]
        else:
            states = None
        last, seq, states = self._run(x, states, mask, training)
        if self.stateful:
            with torch.no_grad():
                for kept, s in zip(self.states, states):
                    kept.copy_(s.detach())
        output = seq if self.return_sequences else last
        if self.return_state:
            packed = tree.pack_sequence_as(self.state_size, list(states))
            return [output, *packed]
        return output

    def _run(self, x, states, mask, training):
        """``(last_output, outputs or None, flat final states)`` of the step loop."""
        if states is None:
            states = [s.to(device=x.device, dtype=x.dtype) for s in self.get_initial_state(x.shape[0])]
        runner = make_runner(self.cell, x[:, 0], training)
        return run_steps(runner, x, states, mask=mask, go_backwards=self.go_backwards,
                         zero_output_for_mask=self.zero_output_for_mask, return_sequences=self.return_sequences)

    # -- config --------------------------------------------------------------
    def _rnn_config(self):
        return {
            "return_sequences": self.return_sequences,
            "return_state": self.return_state,
            "go_backwards": self.go_backwards,
            "stateful": self.stateful,
            "unroll": self.unroll,
            "zero_output_for_mask": self.zero_output_for_mask,
        }

    def get_config(self):
        return {**super().get_config(), **self._rnn_config(), "cell": serialize_layer(self.cell)}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = copy.deepcopy(config)
        cell = deserialize_layer(config.pop("cell"), custom_objects=custom_objects)
        return cls(cell, **config)
