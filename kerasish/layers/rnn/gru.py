"""GRU on torch's fused GRU kernel, with Keras's weight layout mapped exactly.

Keras orders the gates z, r, h; torch r, z, n: the kernels' first two gate
blocks swap places (and transpose). Keras's ``reset_after=True`` GRU (Keras 3's
default) is torch's GRU formula, ``n = tanh(W_n x + b_in + r * (U_n h + b_hn))``,
with Keras's ``(2, 3*units)`` bias being torch's ``(bias_ih, bias_hh)``.
"""

from __future__ import annotations

import torch
from torch import nn

from kerasish.engine.layer import torch_dtype
from kerasish.layers.rnn.base_rnn import FusedRNN


def _swap_zr(t: torch.Tensor, dim: int) -> torch.Tensor:
    """Swap the first two of three gate blocks along ``dim`` (z, r, h <-> r, z, n); its own inverse."""
    a, b, c = t.chunk(3, dim=dim)
    return torch.cat([b, a, c], dim=dim)


def _kernel_to_keras(w):
    return _swap_zr(w, 0).t()


def _kernel_from_keras(k):
    return _swap_zr(k.t(), 0)


def _bias_to_keras(b):
    return _swap_zr(b, 1)


class KerasBiasGRU(nn.GRU):
    """``nn.GRU`` (one layer, ``batch_first``) whose two bias vectors are the rows of
    one ``(2, 3*units)`` parameter, ``bias_l0``, so Keras's GRU bias is one weight
    (one optimizer slot, one ``.weights.h5`` entry) as in Keras.

    ``forward`` runs torch's fused GRU kernel (``torch.gru``) on
    ``[weight_ih_l0, weight_hh_l0, bias_l0[0], bias_l0[1]]``.
    """

    def __init__(self, input_size, hidden_size, dtype=None):
        super().__init__(input_size, hidden_size, bias=True, batch_first=True, dtype=dtype)
        bias = torch.stack([self.bias_ih_l0.detach(), self.bias_hh_l0.detach()])
        del self.bias_ih_l0
        del self.bias_hh_l0
        self.bias_l0 = nn.Parameter(bias)
        self._init_flat_weights()

    def forward(self, input, hx=None):  # noqa: A002 - torch's argument name
        if hx is None:
            hx = input.new_zeros(1, input.shape[0], self.hidden_size)
        b = self.bias_l0
        out, h = torch.gru(input, hx, [self.weight_ih_l0, self.weight_hh_l0, b[0], b[1]], True, 1, 0.0,
                           self.training, False, True)
        return out, h


class GRU(FusedRNN):
    """Gated Recurrent Unit (Cho et al. 2014), on torch's fused GRU kernel.

    Args:
        units: positive int, the size of the output and state.
        activation / recurrent_activation: must be ``"tanh"`` / ``"sigmoid"``
            (Keras's defaults; what the fused kernel computes).
        use_bias: whether the gates have biases.
        kernel_initializer / recurrent_initializer / bias_initializer:
            ``glorot_uniform`` / ``orthogonal`` / ``zeros`` by default.
        reset_after: must be True (Keras 3's default; the formula of torch's
            kernel). ``reset_after=False`` (Keras 1's GRU) is refused.
        regularizers, constraints and seed: as in Keras.
        dropout / recurrent_dropout: must be 0.
        return_sequences / return_state / go_backwards: as in Keras.
        stateful / unroll: must be False.

    Input: ``(batch, timesteps, features)``; ``initial_state=[h]`` of shape
    ``(batch, units)``. Output: ``(batch, units)`` or ``(batch, timesteps,
    units)``; with ``return_state``, ``[output, h]``. Weights (Keras layout):
    ``kernel (features, 3*units)``, ``recurrent_kernel (units, 3*units)``,
    ``bias (2, 3*units)`` (input bias, recurrent bias), gates z, r, h.

    Example:
        >>> import numpy as np
        >>> from kerasish.layers import GRU
        >>> GRU(4)(np.zeros((2, 5, 3), dtype="float32")).shape
        torch.Size([2, 4])
    """

    _num_states = 1
    _cell_name = "gru_cell"
    _has_recurrent_activation = True

    def __init__(self, units, *args, reset_after=True, **kwargs):
        super().__init__(units, *args, **kwargs)
        if not reset_after:
            raise ValueError(
                "GRU: only reset_after=True (Keras 3's default, the formula of torch's fused GRU kernel) is supported; "
                "got reset_after=False."
            )
        self.reset_after = True

    def build(self, sequences_shape):
        self.input_dim = int(sequences_shape[-1])
        dtype = torch_dtype(self._dtype)
        if self.use_bias:
            module = KerasBiasGRU(self.input_dim, self.units, dtype=dtype)
        else:
            module = nn.GRU(self.input_dim, self.units, bias=False, batch_first=True, dtype=dtype)
        self._set_torch_module(module)
        cell = self.cell
        cell._track_weight(module, "weight_ih_l0", "kernel", to_keras=_kernel_to_keras, from_keras=_kernel_from_keras,
                           initializer=self.kernel_initializer, regularizer=self.kernel_regularizer,
                           constraint=self.kernel_constraint)
        cell._track_weight(module, "weight_hh_l0", "recurrent_kernel", to_keras=_kernel_to_keras,
                           from_keras=_kernel_from_keras, initializer=self.recurrent_initializer,
                           regularizer=self.recurrent_regularizer, constraint=self.recurrent_constraint)
        if self.use_bias:
            cell._track_weight(module, "bias_l0", "bias", to_keras=_bias_to_keras, from_keras=_bias_to_keras,
                               initializer=self.bias_initializer, regularizer=self.bias_regularizer,
                               constraint=self.bias_constraint)
        self._name_weights()
        self.built = True

    def get_config(self):
        return {**super().get_config(), "reset_after": self.reset_after, "seed": self.seed}
