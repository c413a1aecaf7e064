"""SimpleRNN on ``nn.RNN`` (tanh) or the step loop: Keras's kernel is torch's ``weight_ih`` transposed."""

from __future__ import annotations

from torch import nn

from kerasish.layers.rnn.base_rnn import FusedRNN
from kerasish.layers.rnn.cells import SimpleRNNCell


class SimpleRNN(FusedRNN):
    """Fully connected RNN, ``h_t = activation(x_t W + h_{t-1} U + b)``: torch's fused ``nn.RNN``
    for ``tanh`` without mask or dropout, the step loop otherwise (same weights).

    Args:
        units: positive int, the size of the output and state.
        activation: ``"tanh"`` by default (the fused kernel); any other runs the step loop.
        use_bias: whether the state update has a bias.
        kernel_initializer / recurrent_initializer / bias_initializer:
            ``glorot_uniform`` / ``orthogonal`` / ``zeros`` by default.
        regularizers and constraints: as in Keras.
        dropout / recurrent_dropout: fractions of the inputs / of the state
            dropped in training (one mask per sequence); ``seed`` seeds them.
        others: ``return_sequences``, ``return_state``, ``go_backwards``,
            ``stateful``, ``unroll``, ``zero_output_for_mask`` as :class:`RNN`.

    Input: ``(batch, timesteps, features)``; ``initial_state=[h]`` of shape
    ``(batch, units)``. Output: ``(batch, units)`` or ``(batch, timesteps,
    units)``; with ``return_state``, ``[output, h]``. ``mask=`` (bool ``(batch,
    timesteps)``) skips steps as Keras does.

    Example:
        >>> import numpy as np
        >>> from kerasish.layers import SimpleRNN
        >>> SimpleRNN(4, return_sequences=True)(np.zeros((2, 5, 3), dtype="float32")).shape
        torch.Size([2, 5, 4])
    """

    _torch_class = nn.RNN
    _cell_name = "simple_rnn_cell"
    _cell_class = SimpleRNNCell
    _config_omits = ("seed",)

    def __init__(self, units, activation="tanh", **kwargs):
        if "recurrent_activation" in kwargs:
            raise ValueError("SimpleRNN: unexpected argument `recurrent_activation` (SimpleRNN has one activation).")
        super().__init__(units, activation=activation, **kwargs)
