"""SimpleRNN / LSTM / GRU's common part: Keras's cell arguments, weights kept in
one torch recurrent module (``nn.RNN``, ``nn.LSTM``, ``nn.GRU``; cuDNN on a GPU,
oneDNN on a CPU), and two ways to run:

- the **fused kernel** (the module's own forward) whenever it computes what Keras
  would: default activations (``tanh`` / ``sigmoid``), GRU ``reset_after=True``,
  no dropout in training, ``use_cudnn`` not False, and no mask or a
  right-padded one (``[1, 1, 1, 0, 0]`` rows; not for an LSTM whose final
  carry is needed: ``return_state`` / ``stateful``). Telling a right-padded
  mask from another costs **one host sync** per call (a ``bool`` of a device
  tensor), which also breaks a ``torch.compile`` graph there; the rest is
  gathers and ``torch.where`` on the fused outputs;
- otherwise the **step loop** of :mod:`kerasish.layers.rnn.loop` on the same
  weights: non-default activations, dropout / recurrent_dropout in training
  (one mask per sequence, as Keras), GRU ``reset_after=False``, masks (any
  pattern, with Keras's rules for masked steps), ``unroll``.

Keras keeps a recurrent layer's weights on its cell (``lstm/lstm_cell/kernel``,
written under ``layers/lstm/cell/vars`` in ``.weights.h5``); here the cell is the
real cell (``LSTMCell`` ...) whose Variables view the torch module's parameters
in Keras's layout, so both paths, the optimizer and weight files see one set of
weights. Keras has one bias per gate where torch adds ``bias_ih`` and
``bias_hh``: Keras's bias is ``bias_ih``, and ``bias_hh`` stays at zero, frozen
(the GRU with ``reset_after=True`` uses both: its ``(2, 3*units)`` bias).
"""

from __future__ import annotations

import torch

from kerasish import activations, regularizers
from kerasish.engine.layer import Layer, torch_dtype
from kerasish.layers.rnn.rnn import RNN


def _t(w):
    return w.t()


class FusedRNN(RNN):
    """Base of SimpleRNN / LSTM / GRU: Keras's arguments for the cell and for ``RNN``.

    Subclasses set ``_torch_class``, ``_cell_class``, ``_cell_name`` and
    ``_has_recurrent_activation``; sequences are ``(batch, timesteps, features)``.
    """

    _torch_class = None
    _cell_class = None
    _cell_name = "rnn_cell"
    _has_recurrent_activation = False
    _exact_rank = 3
    _config_omits = ()  # cell arguments Keras leaves out of the layer's config (SimpleRNN: seed)

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros",
                 kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, seed=None, return_sequences=False, return_state=False, go_backwards=False,
                 stateful=False, unroll=False, zero_output_for_mask=False, use_cudnn="auto", cell_kwargs=None,
                 **kwargs):
        cls = type(self).__name__
        if use_cudnn not in ("auto", True, False):
            raise ValueError(f"{cls}: `use_cudnn` must be 'auto', True or False; got use_cudnn={use_cudnn!r}.")
        implementation = kwargs.pop("implementation", 2)
        extra = dict(cell_kwargs or {})
        if self._has_recurrent_activation:
            extra["recurrent_activation"] = recurrent_activation
        cell = self._cell_class(
            units, activation=activation, use_bias=use_bias, kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer, bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer, recurrent_regularizer=recurrent_regularizer,
            bias_regularizer=bias_regularizer, kernel_constraint=kernel_constraint,
            recurrent_constraint=recurrent_constraint, bias_constraint=bias_constraint, dropout=dropout,
            recurrent_dropout=recurrent_dropout, seed=seed, implementation=implementation, name=self._cell_name,
            dtype=kwargs.get("dtype"), **extra,
        )
        super().__init__(cell, return_sequences=return_sequences, return_state=return_state, go_backwards=go_backwards,
                         stateful=stateful, unroll=unroll, zero_output_for_mask=zero_output_for_mask,
                         activity_regularizer=activity_regularizer, **kwargs)
        self.use_cudnn = use_cudnn
        # What the fused kernel computes: Keras's default activations (and the GRU's reset_after=True).
        self._fusable = (
            use_cudnn is not False
            and activations.serialize(cell.activation) == "tanh"
            and (not self._has_recurrent_activation or activations.serialize(cell.recurrent_activation) == "sigmoid")
            and getattr(cell, "reset_after", True)
        )

    # The cell's arguments, read where Keras reads them (``lstm.units`` is ``lstm.cell.units``).
    units = property(lambda self: self.cell.units)
    activation = property(lambda self: self.cell.activation)
    recurrent_activation = property(lambda self: self.cell.recurrent_activation)
    use_bias = property(lambda self: self.cell.use_bias)
    dropout = property(lambda self: self.cell.dropout)
    recurrent_dropout = property(lambda self: self.cell.recurrent_dropout)
    seed = property(lambda self: self.cell.seed)
    kernel_initializer = property(lambda self: self.cell.kernel_initializer)
    recurrent_initializer = property(lambda self: self.cell.recurrent_initializer)
    bias_initializer = property(lambda self: self.cell.bias_initializer)

    # -- weights -----------------------------------------------------------
    def _make_module(self, dtype):
        return self._torch_class(self.input_dim, self.units, batch_first=True, bias=self.use_bias, dtype=dtype)

    def _weight_map(self, module):
        """``(torch attribute, Keras name, to_keras, from_keras)`` for each weight."""
        out = [("weight_ih_l0", "kernel", _t, _t), ("weight_hh_l0", "recurrent_kernel", _t, _t)]
        if self.use_bias:
            out.append(("bias_ih_l0", "bias", None, None))
        return out

    def build(self, sequences_shape):
        self.input_dim = int(sequences_shape[-1])
        module = self._make_module(torch_dtype(self._dtype))
        self._set_torch_module(module)
        cell = self.cell
        for attr, name, to_keras, from_keras in self._weight_map(module):
            init = {"kernel": cell.kernel_initializer, "recurrent_kernel": cell.recurrent_initializer,
                    "bias": cell._bias_initial}[name]
            prefix = "recurrent" if name == "recurrent_kernel" else name
            reg = getattr(cell, f"{prefix}_regularizer")
            con = getattr(cell, f"{prefix}_constraint")
            kwargs = {"to_keras": to_keras, "from_keras": from_keras} if to_keras is not None else {}
            cell._track_weight(module, attr, name, initializer=init, regularizer=reg, constraint=con, **kwargs)
        if self.use_bias and hasattr(module, "bias_hh_l0"):
            with torch.no_grad():
                module.bias_hh_l0.zero_()
            # Keras has one bias: torch's second one stays zero and is never trained.
            module.bias_hh_l0.requires_grad_(False)
        cell.built = True
        self._finish_build(sequences_shape)

    # -- calling -------------------------------------------------------------
    def _run(self, x, states, mask, training):
        c = self.cell
        if self._fusable and not (training and (c.dropout > 0 or c.recurrent_dropout > 0)):
            if mask is None:
                return self._run_fused(x, states)
            # The LSTM's carry at each row's last step is not among the fused kernel's outputs.
            carry_needed = len(self._flat_sizes) > 1 and (self.return_state or self.stateful)
            if not carry_needed:
                lengths = mask.sum(1)
                steps = torch.arange(mask.shape[1], device=mask.device)
                if bool((mask == (steps < lengths[:, None])).all()):  # the one host sync: is it right-padded?
                    return self._run_right_padded(x, states, lengths, steps)
        return super()._run(x, states, mask, training)

    def _run_right_padded(self, x, states, lengths, steps):
        """Keras's masked results for right-padded masks from one fused run.

        The fused kernel is causal: over the padded sequence its outputs before
        each row's length are exact. Backwards, each row's real steps are first
        reversed in place (a gather), as Keras's reversed sequence, left-padded,
        gives them after its masked steps. No host sync here.
        """
        t = x.shape[1]
        if self.go_backwards:
            order = (lengths[:, None] - 1 - steps).clamp(min=0)
            x = x.gather(1, order[..., None].expand(-1, -1, x.shape[-1]))
        _, seq, _ = self._run_fused(x, states, flip=False)
        u = seq.shape[-1]
        has_steps = (lengths > 0)[:, None]
        h_last = seq.gather(1, (lengths - 1).clamp(min=0)[:, None, None].expand(-1, 1, u))[:, 0]
        h_last = torch.where(has_steps, h_last, torch.zeros_like(h_last))  # a fully masked row outputs zeros
        h0 = states[0] if states is not None else torch.zeros_like(h_last)
        final = [torch.where(has_steps, h_last, h0)] + [None] * (len(self._flat_sizes) - 1)
        if self.go_backwards:
            # reversed time: the masked steps come first (zeros), then the row's real steps
            shift = (t - lengths)[:, None]
            out = seq.gather(1, (steps - shift).clamp(min=0)[..., None].expand(-1, -1, u))
            seq = torch.where((steps >= shift)[..., None], out, torch.zeros_like(out))
            last = h_last
        else:
            valid = (steps < lengths[:, None])[..., None]
            fill = torch.zeros_like(h_last) if self.zero_output_for_mask else h_last
            seq = torch.where(valid, seq, fill[:, None, :])
            last = seq[:, -1]
        return last, seq, final

    def _run_fused(self, x, states, flip=True):
        if self.go_backwards and flip:
            x = x.flip(1)  # Keras reads the sequence backwards and returns outputs in that order
        module = self._torch_module
        if states is None:
            seq, final = module(x)
        else:
            h0 = [s.unsqueeze(0).contiguous() for s in states]
            seq, final = module(x, h0[0] if len(h0) == 1 else tuple(h0))
        final = [final[0]] if isinstance(final, torch.Tensor) else [s[0] for s in final]
        return final[0], seq, final

    # -- config ----------------------------------------------------------------
    def get_config(self):
        base = Layer.get_config(self)
        base["activity_regularizer"] = (
            regularizers.serialize(self.activity_regularizer) if self.activity_regularizer is not None else None
        )
        cell_config = self.cell.get_config()
        for key in ("name", "trainable", "dtype", *self._config_omits):
            cell_config.pop(key, None)
        return {**base, **self._rnn_config(), **cell_config}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        return cls(**config)
