"""The recurrent layers' common part: Keras's RNN arguments on torch's fused
recurrent modules (``nn.LSTM``, ``nn.GRU``, ``nn.RNN``; cuDNN on a GPU, oneDNN on a CPU).

Keras keeps a recurrent layer's weights on its cell (``lstm/lstm_cell/kernel``,
written under ``layers/lstm/cell/vars`` in ``.weights.h5``); here the cell is a
small weight-holding layer (:class:`RNNWeights`) whose Variables view the torch
module's parameters in Keras's layout. Keras has one bias per gate where torch
adds ``bias_ih`` and ``bias_hh``: Keras's bias is ``bias_ih``, and ``bias_hh``
stays at zero, frozen.

Only what the fused kernels compute is accepted: the default activations, no
dropout, not stateful, no unroll, no mask. Anything else is refused with a
ValueError saying what is supported, never computed differently.
"""

from __future__ import annotations

import torch

from kerasish import activations, constraints, initializers, regularizers
from kerasish.engine.layer import Layer, torch_dtype
from kerasish.layers.args import positive_int


class RNNWeights(Layer):
    """Holds a recurrent layer's Keras weights, as Keras's cell holds them.

    Never called; it exists so the weights sit where Keras puts them
    (``<layer>/cell``) in weight files and paths.
    """

    _native_layout = True


class FusedRNN(Layer):
    """Base of SimpleRNN / LSTM / GRU: the arguments Keras's ``RNN`` takes, run on one
    torch recurrent module (``batch_first=True``; sequences are
    ``(batch, timesteps, features)`` and 3-D tensors keep Keras's layout).

    Subclasses set ``_torch_class`` (``nn.LSTM`` / ``nn.RNN``; GRU builds its
    own), ``_cell_name`` and ``_num_states``.
    """

    _native_layout = True
    _torch_class = None
    _num_states = 1
    _cell_name = "rnn_cell"
    _has_recurrent_activation = False

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros",
                 kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, seed=None, return_sequences=False, return_state=False, go_backwards=False,
                 stateful=False, unroll=False, zero_output_for_mask=False, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        cls = type(self).__name__
        self.units = positive_int(units, "units", cls)
        self.activation = activations.serialize(activations.get(activation))
        if self.activation != "tanh":
            raise ValueError(f"{cls}: the fused torch kernel needs activation='tanh'; got activation={activation!r}.")
        self.recurrent_activation = activations.serialize(activations.get(recurrent_activation))
        if self._has_recurrent_activation and self.recurrent_activation != "sigmoid":
            raise ValueError(
                f"{cls}: the fused torch kernel needs recurrent_activation='sigmoid'; got recurrent_activation={recurrent_activation!r}."
            )
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.recurrent_constraint = constraints.get(recurrent_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        for arg, value in (("dropout", dropout), ("recurrent_dropout", recurrent_dropout)):
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 <= value <= 1:
                raise ValueError(f"{cls}: `{arg}` must be a float in [0, 1]; got {arg}={value!r}.")
            if value > 0:
                raise ValueError(f"{cls}: `{arg}` > 0 is not supported yet (the fused torch kernel has no per-step dropout); got {arg}={value!r}.")
        self.dropout = float(dropout)
        self.recurrent_dropout = float(recurrent_dropout)
        self.seed = seed
        if stateful:
            raise ValueError(f"{cls}: `stateful=True` is not supported yet.")
        if unroll:
            raise ValueError(f"{cls}: `unroll=True` is not supported (the fused torch kernel runs the loop itself).")
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        self.stateful = False
        self.unroll = False
        self.zero_output_for_mask = bool(zero_output_for_mask)
        self.cell = RNNWeights(name=self._cell_name, dtype=self._dtype)

    # -- weights -----------------------------------------------------------
    def _bias_initial(self, shape):
        return self.bias_initializer(shape)

    def _check_input(self, input_shape):
        cls = type(self).__name__
        if not isinstance(input_shape, tuple) or len(input_shape) != 3:
            raise ValueError(
                f"Layer '{self.name}' ({cls}) expects sequences of shape (batch, timesteps, features), got shape {input_shape}."
            )
        if input_shape[-1] is None:
            raise ValueError(f"Layer '{self.name}' ({cls}) needs a known feature axis, got input shape {input_shape}.")
        if self.built and input_shape[-1] != self.input_dim:
            raise ValueError(
                f"Layer '{self.name}' ({cls}) was built for {self.input_dim} features, but got an input of shape {input_shape}."
            )

    def build(self, sequences_shape):
        self.input_dim = int(sequences_shape[-1])
        module = self._torch_class(self.input_dim, self.units, batch_first=True, bias=self.use_bias, dtype=torch_dtype(self._dtype))
        self._set_torch_module(module)
        cell = self.cell

        def t(w):
            return w.t()

        cell._track_weight(module, "weight_ih_l0", "kernel", to_keras=t, from_keras=t, initializer=self.kernel_initializer,
                           regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        cell._track_weight(module, "weight_hh_l0", "recurrent_kernel", to_keras=t, from_keras=t,
                           initializer=self.recurrent_initializer,
                           regularizer=self.recurrent_regularizer, constraint=self.recurrent_constraint)
        if self.use_bias:
            cell._track_weight(module, "bias_ih_l0", "bias", initializer=self._bias_initial,
                               regularizer=self.bias_regularizer, constraint=self.bias_constraint)
            with torch.no_grad():
                module.bias_hh_l0.zero_()
            # Keras has one bias: torch's second one stays zero and is never trained.
            module.bias_hh_l0.requires_grad_(False)
        self._name_weights()
        self.built = True

    def _name_weights(self):
        """Keras's paths: ``lstm/lstm_cell/kernel``."""
        for v in self.cell._variables:
            v.path = f"{self.name}/{self.cell.name}/{v.name}"

    # -- calling -------------------------------------------------------------
    def call(self, sequences, initial_state=None, mask=None, training=None):
        return self.native_call(sequences, initial_state=initial_state, mask=mask, training=bool(training))

    def _initial_states(self, initial_state, x):
        cls = type(self).__name__
        n = self._num_states
        if isinstance(initial_state, torch.Tensor):
            initial_state = [initial_state]
        initial_state = list(initial_state)
        if len(initial_state) != n:
            raise ValueError(
                f"Layer '{self.name}' ({cls}) expects {n} initial state tensor(s), got {len(initial_state)}."
            )
        want = (x.shape[0], self.units)
        out = []
        for i, s in enumerate(initial_state):
            s = torch.as_tensor(s, device=x.device)
            if tuple(s.shape) != want:
                raise ValueError(
                    f"Layer '{self.name}' ({cls}): initial_state[{i}] must have shape {want} (batch, units), got {tuple(s.shape)}."
                )
            out.append(s.to(x.dtype).unsqueeze(0).contiguous())
        return out

    def native_call(self, inputs, initial_state=None, mask=None, training=False):
        if mask is not None:
            raise ValueError(f"Layer '{self.name}' ({type(self).__name__}): masks are not supported yet (got mask=...).")
        x = inputs
        if x.dim() != 3:
            raise ValueError(
                f"Layer '{self.name}' ({type(self).__name__}) expects sequences of shape (batch, timesteps, features), "
                f"got shape {tuple(x.shape)}."
            )
        if self.go_backwards:
            x = x.flip(1)  # Keras reads the sequence backwards and returns outputs in that order
        module = self._torch_module
        if initial_state is None:
            seq, states = module(x)
        else:
            h0 = self._initial_states(initial_state, x)
            seq, states = module(x, h0[0] if self._num_states == 1 else tuple(h0))
        states = [states] if isinstance(states, torch.Tensor) else list(states)
        states = [s[0] for s in states]
        output = seq if self.return_sequences else states[0]
        if self.return_state:
            return [output, *states]
        return output

    def compute_output_shape(self, sequences_shape, initial_state_shape=None):
        b, t = sequences_shape[0], sequences_shape[1]
        out = (b, t, self.units) if self.return_sequences else (b, self.units)
        if self.return_state:
            return [out] + [(b, self.units)] * self._num_states
        return out

    def get_config(self):
        base = super().get_config()
        if self.activity_regularizer is not None:
            base["activity_regularizer"] = regularizers.serialize(self.activity_regularizer)
        else:
            base["activity_regularizer"] = None
        config = {
            **base,
            "return_sequences": self.return_sequences,
            "return_state": self.return_state,
            "go_backwards": self.go_backwards,
            "stateful": self.stateful,
            "unroll": self.unroll,
            "zero_output_for_mask": self.zero_output_for_mask,
            "units": self.units,
            "activation": self.activation,
        }
        if self._has_recurrent_activation:
            config["recurrent_activation"] = self.recurrent_activation
        config.update({
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "recurrent_initializer": initializers.serialize(self.recurrent_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer) if self.kernel_regularizer else None,
            "recurrent_regularizer": regularizers.serialize(self.recurrent_regularizer) if self.recurrent_regularizer else None,
            "bias_regularizer": regularizers.serialize(self.bias_regularizer) if self.bias_regularizer else None,
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            "recurrent_constraint": constraints.serialize(self.recurrent_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
        })
        return config
