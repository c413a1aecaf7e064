"""GRU on torch's fused GRU kernel (or the step loop), with Keras's weight layout mapped exactly.

Keras orders the gates z, r, h; torch r, z, n: the kernels' first two gate
blocks swap places (and transpose). Keras's ``reset_after=True`` GRU (Keras 3's
default) is torch's GRU formula, ``n = tanh(W_n x + b_in + r * (U_n h + b_hn))``,
with Keras's ``(2, 3*units)`` bias being torch's ``(bias_ih, bias_hh)``.
``reset_after=False`` (Keras 1's formula) has no fused kernel: its weights sit in
an ``nn.GRU`` (Keras's ``(3*units,)`` bias is ``bias_ih``, ``bias_hh`` zero and
frozen) and it always runs the step loop.

The fused kernel is ``torch.gru`` on Keras's one bias parameter, behind
``backend_compat.gru_sequence`` (a private op with a public fallback); on a CPU,
outside compilers, :mod:`kerasish.layers.rnn.gru_cpu` (the same formula, about
twice as fast as torch's CPU GRU in training).
"""

from __future__ import annotations

import torch
from torch import nn

from kerasish.backend_compat import gru_sequence, refresh_rnn_flat_weights
from kerasish.layers.rnn import gru_cpu
from kerasish.layers.rnn.base_rnn import FusedRNN
from kerasish.layers.rnn.cells import GRUCell


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


def _bias1_to_keras(b):
    return _swap_zr(b, 0)


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
        refresh_rnn_flat_weights(self)

    def forward(self, input, hx=None):  # noqa: A002 - torch's argument name
        if hx is None:
            hx = input.new_zeros(1, input.shape[0], self.hidden_size)
        b = self.bias_l0
        if gru_cpu.use_cpu_kernel(input):
            out, last = gru_cpu.gru_sequence(input, hx[0], self.weight_ih_l0, self.weight_hh_l0, b[0], b[1])
            return out, last.unsqueeze(0)
        return gru_sequence(input, hx, self.weight_ih_l0, self.weight_hh_l0, b[0], b[1], self.training)

    def flat_weights(self):
        """``(w_ih, w_hh, b_ih, b_hh)`` in ``nn.GRU``'s layout."""
        return self.weight_ih_l0, self.weight_hh_l0, self.bias_l0[0], self.bias_l0[1]


class GRU(FusedRNN):
    """Gated Recurrent Unit (Cho et al. 2014): torch's fused GRU kernel when the
    arguments allow (default activations, ``reset_after=True``, no mask, no
    dropout in training), the step loop on the same weights otherwise.

    Args:
        units: positive int, the size of the output and state.
        activation / recurrent_activation: ``"tanh"`` / ``"sigmoid"`` by default.
        use_bias: whether the gates have biases.
        kernel_initializer / recurrent_initializer / bias_initializer:
            ``glorot_uniform`` / ``orthogonal`` / ``zeros`` by default.
        reset_after: True (Keras 3's default, torch's formula; bias ``(2,
            3*units)``) or False (reset gate before the recurrent matmul; bias
            ``(3*units,)``; step loop).
        regularizers, constraints: as in Keras.
        dropout / recurrent_dropout / seed: dropout of the inputs / state in
            training, one mask per sequence.
        others: ``return_sequences``, ``return_state``, ``go_backwards``,
            ``stateful``, ``unroll``, ``zero_output_for_mask``, ``use_cudnn`` as :class:`LSTM`.

    Input: ``(batch, timesteps, features)``; ``initial_state=[h]`` of shape
    ``(batch, units)``; ``mask=`` bool ``(batch, timesteps)``. Output: ``(batch,
    units)`` or ``(batch, timesteps, units)``; with ``return_state``, ``[output,
    h]``. Weights (Keras layout): ``kernel (features, 3*units)``,
    ``recurrent_kernel (units, 3*units)``, ``bias``, gates z, r, h.

    Example:
        >>> import numpy as np
        >>> from kerasish.layers import GRU
        >>> GRU(4)(np.zeros((2, 5, 3), dtype="float32")).shape
        torch.Size([2, 4])
    """

    _cell_name = "gru_cell"
    _cell_class = GRUCell
    _has_recurrent_activation = True

    def __init__(self, units, *args, reset_after=True, **kwargs):
        super().__init__(units, *args, cell_kwargs={"reset_after": reset_after}, **kwargs)

    reset_after = property(lambda self: self.cell.reset_after)

    def _make_module(self, dtype):
        if self.use_bias and self.reset_after:
            return KerasBiasGRU(self.input_dim, self.units, dtype=dtype)
        return nn.GRU(self.input_dim, self.units, bias=self.use_bias, batch_first=True, dtype=dtype)

    def _weight_map(self, module):
        out = [("weight_ih_l0", "kernel", _kernel_to_keras, _kernel_from_keras),
               ("weight_hh_l0", "recurrent_kernel", _kernel_to_keras, _kernel_from_keras)]
        if self.use_bias:
            if self.reset_after:
                out.append(("bias_l0", "bias", _bias_to_keras, _bias_to_keras))
            else:
                out.append(("bias_ih_l0", "bias", _bias1_to_keras, _bias1_to_keras))
        return out
