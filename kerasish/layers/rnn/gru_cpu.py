"""A GRU sequence kernel for CPUs, forward and backward written out.

torch's CPU GRU (``torch.gru`` / ``nn.GRU`` without cuDNN) runs each step as
whole cell calls (two linear layers, the gates) and autograd replays every one
of those ops backwards; oneDNN's fused RNN covers LSTM training but not GRU.
Here, as cuDNN does it, the input projection of all steps is one matrix
product, each step is one small matrix product and five element-wise ops into
preallocated buffers, and the backward pass is a hand-written loop whose weight
gradients are two matrix products over all steps at once. Same formula as
``nn.GRU`` (Keras's ``reset_after=True``), gates r, z, n:

    r = sigmoid(W_ir x + b_ir + W_hr h + b_hr)
    z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
    n = tanh(W_in x + b_in + r * (W_hn h + b_hn))
    h' = (1 - z) * n + z * h

Only public torch ops. ``gru.py`` (and ``Bidirectional`` over two GRUs, both
directions in one loop) use it on CPU tensors outside ``torch.compile`` /
``torch.export`` / ``torch.jit`` tracing (which see ``torch.gru``); figures in
docs/performance.md. Its backward is not itself differentiable (a second
derivative through a CPU GRU raises).

Example:
    >>> import torch
    >>> from kerasish.layers.rnn.gru_cpu import gru_sequence
    >>> x, h0 = torch.randn(2, 5, 3), torch.zeros(2, 4)
    >>> w_ih, w_hh, b = torch.randn(12, 3), torch.randn(12, 4), torch.zeros(12)
    >>> out, h = gru_sequence(x, h0, w_ih, w_hh, b, b)
    >>> tuple(out.shape), tuple(h.shape)
    ((2, 5, 4), (2, 4))
"""

from __future__ import annotations

import torch
from torch.autograd.function import once_differentiable


class _GRUSequences(torch.autograd.Function):
    """``D`` GRUs at once (the directions of a Bidirectional GRU: one loop, batched ops).

    ``(x (D, T, B, E), h0 (D, B, U), w_ih (D, 3U, E), w_hh (D, 3U, U), b_ih, b_hh (D, 3U), want_seq)``
    -> ``(outputs (D, T, B, U) or an empty tensor, last states (D, B, U))``; each
    direction reads its ``x`` from step 0 (the caller reverses a backward
    direction's steps). Every buffer is direction-major, so the products over all
    steps (projections, weight gradients) read them as they lie.
    """

    @staticmethod
    def forward(ctx, x, h0, w_ih, w_hh, b_ih, b_hh, want_seq):
        dirs, steps, batch, features = x.shape
        units = w_hh.shape[2]
        u2 = 2 * units
        xp = torch.baddbmm(b_ih.unsqueeze(1), x.view(dirs, steps * batch, features), w_ih.transpose(1, 2))
        xp = xp.view(dirs, steps, batch, 3 * units)
        hs = x.new_empty(dirs, steps + 1, batch, units)  # hs[:, t]: the states before step t
        hs[:, 0] = h0
        rz = x.new_empty(dirs, steps, batch, u2)
        # W_hh h + b_hh of each step (its n part is needed backwards); the biases are put in
        # for all steps at once, and each step adds its product in place.
        gh = b_hh[:, None, None, :].expand(dirs, steps, batch, 3 * units).contiguous()
        n = x.new_empty(dirs, steps, batch, units)
        # Views made once: indexing inside the loop would cost more than the step's arithmetic.
        # The recurrent product is one addmm per direction: CPU bmm on such small matrices is slower.
        recur = [(w_hh[d].t(), hs[d].unbind(0), gh[d].unbind(0)) for d in range(dirs)]
        h_t, rz_t, n_t = hs.unbind(1), rz.unbind(1), n.unbind(1)
        xrz_t, xn_t = xp[..., :u2].unbind(1), xp[..., u2:].unbind(1)
        ghrz_t, ghn_t = gh[..., :u2].unbind(1), gh[..., u2:].unbind(1)
        r_t, z_t = rz[..., :units].unbind(1), rz[..., units:].unbind(1)
        for t in range(steps):
            for w_t, h_d, gh_d in recur:
                gh_d[t].addmm_(h_d[t], w_t)
            torch.add(xrz_t[t], ghrz_t[t], out=rz_t[t]).sigmoid_()
            torch.addcmul(xn_t[t], r_t[t], ghn_t[t], out=n_t[t]).tanh_()
            torch.lerp(n_t[t], h_t[t], z_t[t], out=h_t[t + 1])
        ctx.save_for_backward(x, w_ih, w_hh, hs, rz, gh, n)
        seq = hs[:, 1:].clone() if want_seq else x.new_empty(0)
        return seq, hs[:, steps].clone()

    @staticmethod
    @once_differentiable
    def backward(ctx, d_out, d_last):
        x, w_ih, w_hh, hs, rz, gh, n = ctx.saved_tensors
        dirs, steps, batch, features = x.shape
        units = w_hh.shape[2]
        u2 = 2 * units
        d_in = x.new_empty(dirs, steps, batch, 3 * units)  # gradient of the gates' input parts
        d_gh = x.new_empty(dirs, steps, batch, 3 * units)  # gradient of W_hh h + b_hh
        dh = d_last.clone() if d_last is not None else x.new_zeros(dirs, batch, units)
        d_seq = d_out.unbind(1) if d_out is not None and d_out.numel() else None
        # Everything the loop multiplies by that does not depend on the incoming gradient,
        # for all steps at once (a few large ops instead of many small ones per step):
        # h' = n + z (h - n), n = tanh(.), r, z = sigmoid(.).
        r, z = rz[..., :units], rz[..., units:]
        one_minus_z = 1.0 - z
        tanh_grad = 1.0 - n * n
        z_coef = (hs[:, :steps] - n) * z * one_minus_z  # dz_pre = dh * z_coef
        r_coef = gh[..., u2:] * r * (1.0 - r)  # dr_pre = dn_pre * r_coef
        omz_t, tg_t, zc_t, rc_t, z_t, r_t = (a.unbind(1) for a in (one_minus_z, tanh_grad, z_coef, r_coef, z, r))
        dnp_t = d_in[..., u2:].unbind(1)
        dr_t, dz_t, dghn_t = d_gh[..., :units].unbind(1), d_gh[..., units:u2].unbind(1), d_gh[..., u2:].unbind(1)
        d_gh_dt = [d_gh[d].unbind(0) for d in range(dirs)]
        dh_next = x.new_empty(dirs, batch, units)
        for t in range(steps - 1, -1, -1):
            if d_seq is not None:
                dh = dh + d_seq[t]
            dn_pre = torch.mul(dh * omz_t[t], tg_t[t], out=dnp_t[t])
            torch.mul(dh, zc_t[t], out=dz_t[t])
            torch.mul(dn_pre, rc_t[t], out=dr_t[t])
            torch.mul(dn_pre, r_t[t], out=dghn_t[t])
            torch.mul(dh, z_t[t], out=dh_next)
            for d in range(dirs):
                dh_next[d].addmm_(d_gh_dt[d][t], w_hh[d])
            dh, dh_next = dh_next, dh
        d_in[..., :u2] = d_gh[..., :u2]  # r and z take x's and h's parts alike
        flat_in = d_in.view(dirs, steps * batch, 3 * units)
        flat_gh = d_gh.view(dirs, steps * batch, 3 * units)
        dx = dh0 = dw_ih = dw_hh = db_ih = db_hh = None
        needs = ctx.needs_input_grad
        if needs[0]:
            dx = torch.bmm(flat_in, w_ih).view(dirs, steps, batch, features)
        if needs[1]:
            dh0 = dh
        if needs[2]:
            dw_ih = torch.bmm(flat_in.transpose(1, 2), x.view(dirs, steps * batch, features))
        if needs[3]:
            dw_hh = torch.bmm(flat_gh.transpose(1, 2), hs[:, :steps].reshape(dirs, steps * batch, units))
        if needs[4]:
            db_ih = flat_in.sum(1)
        if needs[5]:
            db_hh = flat_gh.sum(1)
        return dx, dh0, dw_ih, dw_hh, db_ih, db_hh, None


def gru_sequence(x, h0, w_ih, w_hh, b_ih, b_hh, want_seq=True):
    """A GRU over ``x (batch, time, features)`` from ``h0 (batch, units)``:
    ``(outputs (batch, time, units), last state (batch, units))``. Weights in
    ``nn.GRU``'s layout (``weight_ih_l0``, ``weight_hh_l0``, ``bias_ih_l0``, ``bias_hh_l0``).
    ``want_seq=False``: the outputs are not kept (None is returned for them)."""
    seq, last = _GRUSequences.apply(x.transpose(0, 1).contiguous().unsqueeze(0), h0.unsqueeze(0), w_ih.unsqueeze(0),
                                    w_hh.unsqueeze(0), b_ih.unsqueeze(0), b_hh.unsqueeze(0), want_seq)
    return (seq[0].transpose(0, 1) if want_seq else None), last[0]


def bidirectional_gru(x, h0, weights, want_seq=True):
    """A forward and a backward GRU over ``x (batch, time, features)`` in one loop.

    Args:
        x: the sequences.
        h0: ``(2, batch, units)``: the forward, then the backward initial state.
        weights: ``(w_ih, w_hh, b_ih, b_hh)`` of the forward GRU, then the backward one's.
        want_seq: whether the outputs of every step are wanted (else None for them).
    Returns:
        ``(forward outputs, backward outputs, forward last state, backward last state)``;
        the backward outputs are in the order the steps ran (last step first), as Keras's
        ``go_backwards`` gives them.
    """
    w = [torch.stack([a, b]) for a, b in zip(weights[:4], weights[4:])]
    xs = torch.stack([x.transpose(0, 1), x.flip(1).transpose(0, 1)])  # (2, T, B, E), contiguous
    seq, last = _GRUSequences.apply(xs, h0, *w, want_seq)
    if not want_seq:
        return None, None, last[0], last[1]
    return seq[0].transpose(0, 1), seq[1].transpose(0, 1), last[0], last[1]


def use_cpu_kernel(x) -> bool:
    """Whether ``x``'s GRU runs here: a CPU tensor, outside compilers and tracers."""
    return x.device.type == "cpu" and not torch.compiler.is_compiling() and not torch.jit.is_tracing()
