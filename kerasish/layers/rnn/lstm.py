"""LSTM on ``nn.LSTM`` or the step loop: Keras's kernel layout (gates i, f, c, o)
is torch's (i, f, g, o) transposed."""

from __future__ import annotations

from torch import nn

from kerasish.layers.rnn.base_rnn import FusedRNN
from kerasish.layers.rnn.cells import LSTMCell


class LSTM(FusedRNN):
    """Long Short-Term Memory layer (Hochreiter 1997): torch's fused ``nn.LSTM`` when
    the arguments allow (default activations, no mask, no dropout in training),
    the step loop on the same weights otherwise.

    Args:
        units: positive int, the size of the output and states.
        activation / recurrent_activation: ``"tanh"`` / ``"sigmoid"`` by default
            (the fused kernel); others run the step loop.
        use_bias: whether the gates have a bias.
        kernel_initializer / recurrent_initializer / bias_initializer:
            ``glorot_uniform`` / ``orthogonal`` / ``zeros`` by default.
        unit_forget_bias: add 1 to the forget gate's bias at initialisation.
        regularizers and constraints: ``kernel_regularizer``,
            ``recurrent_regularizer``, ``bias_regularizer``,
            ``activity_regularizer``, ``kernel_constraint``,
            ``recurrent_constraint``, ``bias_constraint``, as in Keras.
        dropout / recurrent_dropout: fractions of the inputs / of the state
            dropped in training (one mask per sequence, as Keras).
        seed: int seed for the dropout masks (they differ from Keras's own).
        return_sequences: return the whole output sequence, not only the last step.
        return_state: also return the last states ``h`` and ``c``.
        go_backwards: read the sequence backwards (outputs in that order, as Keras).
        stateful: keep the final states for the next call (fixed batch size;
            ``reset_states()`` zeroes them).
        unroll: accepted; the loop is a Python loop either way.
        zero_output_for_mask: masked steps output zeros, not the previous output.
        use_cudnn: ``"auto"`` (fused kernel when possible), True, or False
            (always the step loop).

    Input: ``(batch, timesteps, features)``; ``initial_state=[h, c]``, each
    ``(batch, units)``. Output: ``(batch, units)`` or ``(batch, timesteps,
    units)``; with ``return_state``, ``[output, h, c]``. Weights (Keras layout):
    ``kernel (features, 4*units)``, ``recurrent_kernel (units, 4*units)``,
    ``bias (4*units,)``. ``mask=`` (bool ``(batch, timesteps)``) skips steps
    as Keras does (states kept; output repeated or zero).

    Example:
        >>> import numpy as np
        >>> from kerasish.layers import LSTM
        >>> LSTM(4)(np.zeros((2, 5, 3), dtype="float32")).shape
        torch.Size([2, 4])
    """

    _torch_class = nn.LSTM
    _cell_name = "lstm_cell"
    _cell_class = LSTMCell
    _has_recurrent_activation = True

    def __init__(self, units, *args, unit_forget_bias=True, **kwargs):
        super().__init__(units, *args, cell_kwargs={"unit_forget_bias": unit_forget_bias}, **kwargs)

    unit_forget_bias = property(lambda self: self.cell.unit_forget_bias)
