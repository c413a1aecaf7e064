"""Keras's recurrent cells: SimpleRNNCell, LSTMCell, GRUCell.

A cell computes one time step, ``call(inputs, states) -> (output, new_states)``,
with Keras's weights in Keras's layout (``kernel``, ``recurrent_kernel``, ``bias``;
gates i, f, c, o for the LSTM and z, r, h for the GRU). ``RNN(cell)`` runs it over
a sequence.

Besides the per-step ``call``, each built-in cell gives the RNN loop a *runner*
(:meth:`_runner`): one object per sequence that holds the sequence's dropout masks
(Keras draws one mask per sequence and reuses it at every step) and splits the
step in two, ``project`` (inputs times kernel plus bias, for all steps at once in
one matmul, as cuDNN does) and ``step`` (the recurrent part). The cell's weights
may be its own (``add_weight``) or, inside ``SimpleRNN`` / ``LSTM`` / ``GRU``,
views on the fused torch module's parameters; both read through the Variables.
"""

from __future__ import annotations

import torch

from kerasish import activations, constraints, initializers, regularizers
from kerasish.engine.layer import Layer, torch_dtype
from kerasish.layers.args import positive_int
from kerasish.layers.regularization.dropout import _check_seed, _SeededMasks


def check_rate(value, arg, cls):
    """``value`` as a float in [0, 1], else a ValueError naming ``cls`` and ``arg``."""
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 <= value <= 1:
        raise ValueError(f"{cls}: `{arg}` must be a float in [0, 1]; got {arg}={value!r}.")
    return float(value)


def plain(variable) -> torch.Tensor:
    """A Variable's value in Keras layout as a plain tensor (still attached to autograd)."""
    t = variable if isinstance(variable, torch.Tensor) else variable.value
    return t if type(t) in (torch.Tensor, torch.nn.Parameter) else t.as_subclass(torch.Tensor)


class _Runner:
    """One sequence's worth of a built-in cell: weights read once, dropout masks drawn once.

    ``project(x)``: ``x`` of shape ``(..., features)`` -> ``(..., gates * units)``.
    ``step(xp_t, states)``: the projected input of one step and the flat list of
    states -> ``(output, new_states)``.
    """

    def __init__(self, cell, sample, training):
        self.cell = cell
        self.kernel = plain(cell.kernel)
        self.recurrent_kernel = plain(cell.recurrent_kernel)
        self.bias = plain(cell.bias) if cell.use_bias else None
        self.act = cell.activation
        self.rec_act = getattr(cell, "recurrent_activation", None)
        n, units = cell._gates, cell.units
        count = n if cell._per_gate_masks else 1
        batch = sample.shape[0]
        self.in_mask = self.rec_mask = None
        if training and 0.0 < cell.dropout < 1.0:
            self.in_mask = cell._dropout_mask((count, batch, sample.shape[-1]), cell.dropout, sample)
        if training and 0.0 < cell.recurrent_dropout < 1.0:
            self.rec_mask = cell._dropout_mask((count, batch, units), cell.recurrent_dropout, sample)

    def _input_bias(self):
        return self.bias

    def project(self, x):
        k, m = self.kernel, self.in_mask
        if m is None:
            y = x @ k
        elif m.shape[0] == 1:
            mask = m[0] if x.dim() == 2 else m[0].unsqueeze(1)  # (batch, features), the same at every step
            y = (x * mask) @ k
        else:  # one mask per gate (Keras's implementation 1)
            n = m.shape[0]
            mask = m.transpose(0, 1) if x.dim() == 2 else m.transpose(0, 1).unsqueeze(1)  # (batch, [1,] gates, features)
            y = torch.einsum("...gf,fgu->...gu", x.unsqueeze(-2) * mask, k.view(k.shape[0], n, -1)).flatten(-2)
        b = self._input_bias()
        return y if b is None else y + b

    def recurrent(self, h, kernel, add=None):
        """``add + h @ kernel``, with the recurrent dropout masks (one per gate block of ``kernel``)."""
        m = self.rec_mask
        if m is None and add is not None:
            return torch.addmm(add, h, kernel)  # one kernel for the step's sum
        if add is not None:
            return add + self.recurrent(h, kernel)
        if m is None:
            return h @ kernel
        if m.shape[0] == 1:
            return (h * m[0]) @ kernel
        n = kernel.shape[1] // self.cell.units
        return torch.einsum("bgu,ugk->bgk", h.unsqueeze(1) * m[:n].transpose(0, 1),
                            kernel.view(kernel.shape[0], n, -1)).flatten(1)


class _SimpleRNNRunner(_Runner):
    def step(self, xp, states):
        h = self.act(self.recurrent(states[0], self.recurrent_kernel, add=xp))
        return h, [h]


class _LSTMRunner(_Runner):
    def step(self, xp, states):
        h, c = states
        z = self.recurrent(h, self.recurrent_kernel, add=xp)
        i, f, g, o = z.chunk(4, dim=-1)
        ra = self.rec_act
        c = ra(f) * c + ra(i) * self.act(g)
        h = ra(o) * self.act(c)
        return h, [h, c]


class _GRURunner(_Runner):
    def _input_bias(self):
        b = self.bias
        return b if b is None or b.dim() == 1 else b[0]

    def step(self, xp, states):
        h = states[0]
        u = self.cell.units
        x_z, x_r, x_h = xp.chunk(3, dim=-1)
        rk = self.recurrent_kernel
        if self.cell.reset_after:
            inner = self.recurrent(h, rk)
            if self.bias is not None:
                inner = inner + self.bias[1]
            r_z, r_r, r_h = inner.chunk(3, dim=-1)
            z = self.rec_act(x_z + r_z)
            r = self.rec_act(x_r + r_r)
            hh = self.act(x_h + r * r_h)
        else:
            m = self.rec_mask
            inner = self.recurrent(h, rk[:, :2 * u]) if m is None or m.shape[0] == 1 else \
                torch.einsum("bgu,ugk->bgk", h.unsqueeze(1) * m[:2].transpose(0, 1),
                             rk[:, :2 * u].reshape(u, 2, u)).flatten(1)
            r_z, r_r = inner.chunk(2, dim=-1)
            z = self.rec_act(x_z + r_z)
            r = self.rec_act(x_r + r_r)
            h_h = h if m is None else h * m[-1]
            hh = self.act(x_h + (r * h_h) @ rk[:, 2 * u:])
        h = z * h + (1 - z) * hh
        return h, [h]


class _RecurrentCell(Layer):
    """What the three built-in cells share: arguments, weights, dropout masks, config."""

    _gates = 1
    _runner_class = _Runner
    _has_recurrent_activation = False

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros",
                 kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0, recurrent_dropout=0.0, seed=None,
                 implementation=2, **kwargs):
        super().__init__(**kwargs)
        cls = type(self).__name__
        self.units = positive_int(units, "units", cls)
        self.activation = activations.get(activation)
        if self._has_recurrent_activation:
            self.recurrent_activation = activations.get(recurrent_activation)
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
        self.dropout = check_rate(dropout, "dropout", cls)
        self.recurrent_dropout = check_rate(recurrent_dropout, "recurrent_dropout", cls)
        self.seed = _check_seed(seed, cls)
        self._masks = _SeededMasks(seed) if seed is not None else None
        # Keras: recurrent dropout switches to implementation 1, one mask per gate.
        self.implementation = 1 if self.recurrent_dropout != 0.0 else int(implementation)
        self._per_gate_masks = self._gates > 1 and self.implementation == 1
        self.state_size = self.units
        self.output_size = self.units

    # -- weights -------------------------------------------------------------
    def _bias_shape(self):
        return (self._gates * self.units,)

    def _bias_initial(self, shape):
        return self.bias_initializer(shape)

    def build(self, input_shape):
        input_dim = input_shape[-1]
        if input_dim is None:
            raise ValueError(f"Layer '{self.name}' ({type(self).__name__}) needs a known feature axis, got input shape {input_shape}.")
        g = self._gates * self.units
        self.kernel = self.add_weight((int(input_dim), g), self.kernel_initializer, name="kernel",
                                      regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        self.recurrent_kernel = self.add_weight((self.units, g), self.recurrent_initializer, name="recurrent_kernel",
                                                regularizer=self.recurrent_regularizer,
                                                constraint=self.recurrent_constraint)
        if self.use_bias:
            self.bias = self.add_weight(self._bias_shape(), self._bias_initial, name="bias",
                                        regularizer=self.bias_regularizer, constraint=self.bias_constraint)
        self.built = True

    # -- dropout -------------------------------------------------------------
    def _dropout_mask(self, shape, rate, like):
        """A 0 / ``1/(1-rate)`` mask of ``shape`` (seeded when the cell has a seed)."""
        keep = 1.0 - rate
        if self._masks is not None:
            return self._masks.keep_mask(shape, keep, like)
        return torch.empty(shape, dtype=like.dtype, device=like.device).bernoulli_(keep).div_(keep)

    # -- calling -------------------------------------------------------------
    def _runner(self, sample, training):
        """The per-sequence runner for inputs like ``sample`` ``(batch, features)``."""
        return self._runner_class(self, sample, training)

    def call(self, inputs, states, training=False):
        """One step: ``inputs (batch, features)``, ``states`` (a list, or one tensor) ->
        ``(output, new_states)``. Draws fresh dropout masks on each call; the RNN
        layer draws them once per sequence."""
        nested = isinstance(states, (list, tuple))
        flat = list(states) if nested else [states]
        runner = self._runner(inputs, training)
        out, new = runner.step(runner.project(inputs), flat)
        return out, (new if nested or len(new) > 1 else new[0])

    def get_initial_state(self, batch_size=None):
        sizes = self.state_size if isinstance(self.state_size, list) else [self.state_size]
        return [torch.zeros((batch_size, d), dtype=torch_dtype(self._dtype)) for d in sizes]

    def get_config(self):
        config = {**super().get_config(), "units": self.units, "activation": activations.serialize(self.activation)}
        if self._has_recurrent_activation:
            config["recurrent_activation"] = activations.serialize(self.recurrent_activation)
        config["use_bias"] = self.use_bias
        config.update(self._extra_config())
        config.update({
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
            "seed": self.seed,
        })
        return config

    def _extra_config(self):
        return {}


class SimpleRNNCell(_RecurrentCell):
    """One step of a fully connected RNN: ``h = activation(x W + h_prev U + b)``.

    Args:
        units: positive int, the size of the output and state.
        activation: ``"tanh"`` by default; None is linear.
        use_bias: whether there is a bias.
        kernel_initializer / recurrent_initializer / bias_initializer:
            ``glorot_uniform`` / ``orthogonal`` / ``zeros`` by default.
        regularizers and constraints: ``kernel_regularizer``, ``recurrent_regularizer``,
            ``bias_regularizer``, ``kernel_constraint``, ``recurrent_constraint``,
            ``bias_constraint``, as in Keras.
        dropout / recurrent_dropout: fractions of the inputs / of the state
            dropped in training (one mask per sequence inside ``RNN``).
        seed: int seed for the dropout masks.

    Weights: ``kernel (features, units)``, ``recurrent_kernel (units, units)``,
    ``bias (units,)``. ``call(inputs (batch, features), states [h]) -> (h, [h])``.

    Example:
        >>> import numpy as np
        >>> from kerasish.layers import RNN, SimpleRNNCell
        >>> RNN(SimpleRNNCell(4))(np.zeros((2, 5, 3), dtype="float32")).shape
        torch.Size([2, 4])
    """

    _runner_class = _SimpleRNNRunner

    def __init__(self, units, activation="tanh", **kwargs):
        if "recurrent_activation" in kwargs:
            raise ValueError("SimpleRNNCell: unexpected argument `recurrent_activation` (SimpleRNN has one activation).")
        super().__init__(units, activation=activation, **kwargs)


class LSTMCell(_RecurrentCell):
    """One step of an LSTM (Hochreiter 1997), gates i, f, c, o as in Keras.

    Args:
        units: positive int, the size of the output and of both states.
        activation / recurrent_activation: ``"tanh"`` / ``"sigmoid"`` by default.
        use_bias: whether the gates have a bias.
        unit_forget_bias: add 1 to the forget gate's bias at initialisation.
        others: the initializers, regularizers, constraints, ``dropout``,
            ``recurrent_dropout`` and ``seed`` as :class:`SimpleRNNCell`;
            ``recurrent_dropout > 0`` draws one mask per gate, as Keras's implementation 1.

    Weights: ``kernel (features, 4*units)``, ``recurrent_kernel (units, 4*units)``,
    ``bias (4*units,)``. ``call(inputs, [h, c]) -> (h, [h, c])``.

    Example:
        >>> import numpy as np
        >>> from kerasish.layers import RNN, LSTMCell
        >>> RNN(LSTMCell(4), return_sequences=True)(np.zeros((2, 5, 3), dtype="float32")).shape
        torch.Size([2, 5, 4])
    """

    _gates = 4
    _runner_class = _LSTMRunner
    _has_recurrent_activation = True

    def __init__(self, units, *args, unit_forget_bias=True, **kwargs):
        super().__init__(units, *args, **kwargs)
        self.unit_forget_bias = bool(unit_forget_bias)
        self.state_size = [self.units, self.units]

    def _bias_initial(self, shape):
        u = self.units
        if not self.unit_forget_bias:
            return self.bias_initializer(shape)
        init = self.bias_initializer
        return torch.cat([torch.as_tensor(init((u,))), torch.ones(u), torch.as_tensor(init((2 * u,)))])

    def _extra_config(self):
        return {"unit_forget_bias": self.unit_forget_bias}


class GRUCell(_RecurrentCell):
    """One step of a GRU (Cho et al. 2014), gates z, r, h as in Keras.

    Args:
        units: positive int, the size of the output and state.
        activation / recurrent_activation: ``"tanh"`` / ``"sigmoid"`` by default.
        reset_after: apply the reset gate after the recurrent matmul (Keras 3's
            default, cuDNN's formula; bias ``(2, 3*units)``: input and
            recurrent) or before it (bias ``(3*units,)``).
        the rest: as :class:`SimpleRNNCell`.

    Weights: ``kernel (features, 3*units)``, ``recurrent_kernel (units,
    3*units)``, ``bias``. ``call(inputs, [h]) -> (h, [h])``.

    Example:
        >>> import numpy as np
        >>> from kerasish.layers import RNN, GRUCell
        >>> RNN(GRUCell(4, reset_after=False))(np.zeros((2, 5, 3), dtype="float32")).shape
        torch.Size([2, 4])
    """

    _gates = 3
    _runner_class = _GRURunner
    _has_recurrent_activation = True

    def __init__(self, units, *args, reset_after=True, **kwargs):
        super().__init__(units, *args, **kwargs)
        self.reset_after = bool(reset_after)

    def _bias_shape(self):
        return (2, 3 * self.units) if self.reset_after else (3 * self.units,)

    def _extra_config(self):
        return {"reset_after": self.reset_after}
