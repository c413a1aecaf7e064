"""SimpleRNN on ``nn.RNN`` (tanh): Keras's kernel is torch's ``weight_ih`` transposed."""

from __future__ import annotations

from torch import nn

from kerasish.layers.rnn.base_rnn import FusedRNN


class SimpleRNN(FusedRNN):
    """Fully connected RNN, ``h_t = tanh(x_t W + h_{t-1} U + b)``, on torch's fused ``nn.RNN``.

    Args:
        units: positive int, the size of the output and state.
        activation: must be ``"tanh"`` (Keras's default; what the fused kernel computes).
        use_bias: whether the state update has a bias.
        kernel_initializer / recurrent_initializer / bias_initializer:
            ``glorot_uniform`` / ``orthogonal`` / ``zeros`` by default.
        regularizers and constraints: as in Keras.
        dropout / recurrent_dropout: must be 0.
        return_sequences / return_state / go_backwards: as in Keras.
        stateful / unroll: must be False.

    Input: ``(batch, timesteps, features)``; ``initial_state=[h]`` of shape
    ``(batch, units)``. Output: ``(batch, units)`` or ``(batch, timesteps,
    units)``; with ``return_state``, ``[output, h]``.

    Example:
        >>> import numpy as np
        >>> from kerasish.layers import SimpleRNN
        >>> SimpleRNN(4, return_sequences=True)(np.zeros((2, 5, 3), dtype="float32")).shape
        torch.Size([2, 5, 4])
    """

    _torch_class = nn.RNN
    _num_states = 1
    _cell_name = "simple_rnn_cell"

    def __init__(self, units, activation="tanh", **kwargs):
        if "recurrent_activation" in kwargs:
            raise ValueError("SimpleRNN: unexpected argument `recurrent_activation` (SimpleRNN has one activation).")
        super().__init__(units, activation=activation, **kwargs)
