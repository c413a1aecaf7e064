"""LSTM on ``nn.LSTM``: Keras's kernel layout (gates i, f, c, o) is torch's
(i, f, g, o) transposed."""

from __future__ import annotations

import torch
from torch import nn

from kerasish.layers.rnn.base_rnn import FusedRNN


class LSTM(FusedRNN):
    """Long Short-Term Memory layer (Hochreiter 1997), on torch's fused ``nn.LSTM``.

    Args:
        units: positive int, the size of the output and states.
        activation / recurrent_activation: must be ``"tanh"`` / ``"sigmoid"``
            (Keras's defaults; what the fused kernel computes).
        use_bias: whether the gates have a bias.
        kernel_initializer / recurrent_initializer / bias_initializer:
            ``glorot_uniform`` / ``orthogonal`` / ``zeros`` by default.
        unit_forget_bias: add 1 to the forget gate's bias at initialisation.
        regularizers and constraints: ``kernel_regularizer``,
            ``recurrent_regularizer``, ``bias_regularizer``,
            ``activity_regularizer``, ``kernel_constraint``,
            ``recurrent_constraint``, ``bias_constraint``, as in Keras.
        dropout / recurrent_dropout: must be 0 (no per-step dropout yet).
        seed: accepted, for Keras's configs.
        return_sequences: return the whole output sequence, not only the last step.
        return_state: also return the last states ``h`` and ``c``.
        go_backwards: read the sequence backwards (outputs in that order, as Keras).
        stateful / unroll: must be False.

    Input: ``(batch, timesteps, features)``; ``initial_state=[h, c]``, each
    ``(batch, units)``. Output: ``(batch, units)`` or ``(batch, timesteps,
    units)``; with ``return_state``, ``[output, h, c]``. Weights (Keras layout):
    ``kernel (features, 4*units)``, ``recurrent_kernel (units, 4*units)``,
    ``bias (4*units,)``.

    Example:
        >>> import numpy as np
        >>> from kerasish.layers import LSTM
        >>> LSTM(4)(np.zeros((2, 5, 3), dtype="float32")).shape
        torch.Size([2, 4])
    """

    _torch_class = nn.LSTM
    _num_states = 2
    _cell_name = "lstm_cell"
    _has_recurrent_activation = True

    def __init__(self, units, *args, unit_forget_bias=True, **kwargs):
        super().__init__(units, *args, **kwargs)
        self.unit_forget_bias = bool(unit_forget_bias)

    def _bias_initial(self, shape):
        u = self.units
        if not self.unit_forget_bias:
            return self.bias_initializer(shape)
        init = self.bias_initializer
        return torch.cat([torch.as_tensor(init((u,))), torch.ones(u), torch.as_tensor(init((2 * u,)))])

    def get_config(self):
        return {**super().get_config(), "unit_forget_bias": self.unit_forget_bias, "seed": self.seed}
