"""The step loop every recurrent layer falls back on, with Keras 3's semantics
(``keras.src.backend.torch.rnn.rnn``, ``unroll=False``):

- the input projection of a built-in cell is computed for all steps at once
  (one matmul); each step then adds the recurrent part;
- ``go_backwards`` reads the steps last to first, and the outputs come out in
  that (reversed) order;
- with a mask ``(batch, timesteps)``, a masked step keeps the previous states,
  and its output is the previous step's output (zeros before the first step),
  or zeros with ``zero_output_for_mask``; the last output is the last step's
  output after that rule.

Nothing in the loop reads a value back to the host: masks are applied with
``torch.where``. It is a Python loop either way (``unroll`` changes nothing).
"""

from __future__ import annotations

import torch

from kerasish import tree
from kerasish.layers.rnn.cells import _RecurrentCell
from kerasish.layers.rnn.stacked_rnn_cells import StackedRNNCells, call_cell, cell_output_size


def flat_state_count(state_size) -> int:
    return len(tree.flatten(state_size))


class CellRunner:
    """Any cell (a user's included): no projection, ``call`` at each step."""

    def __init__(self, cell, training):
        self.cell = cell
        self.training = training

    def project(self, x):
        return x

    def step(self, x, states):
        out, new = call_cell(self.cell, x, list(states), self.training)
        return out, list(tree.flatten(new)) if tree.is_nested(new) else [new]


class StackedRunner:
    """A StackedRNNCells: the first cell's projection for all steps; the others' per step."""

    def __init__(self, cell, sample, training):
        self.runners, self.counts = [], []
        for c in cell.cells:
            self.runners.append(make_runner(c, sample, training))
            self.counts.append(flat_state_count(c.state_size))
            sample = sample.new_zeros((sample.shape[0], cell_output_size(c)))

    def project(self, x):
        return self.runners[0].project(x)

    def step(self, xp, states):
        new_states, i = [], 0
        for k, (runner, n) in enumerate(zip(self.runners, self.counts)):
            if k:
                xp = runner.project(xp)
            xp, new = runner.step(xp, states[i:i + n])
            new_states.extend(new)
            i += n
        return xp, new_states


def make_runner(cell, sample, training):
    """The runner of ``cell`` for one sequence whose steps look like ``sample`` ``(batch, ...)``."""
    if isinstance(cell, _RecurrentCell) or (type(cell).__module__.startswith("kerasish.layers.rnn.")
                                            and callable(getattr(cell, "_runner", None))):
        return cell._runner(sample, training)  # the built-in cells (ConvLSTMCell's too)
    if isinstance(cell, StackedRNNCells):
        return StackedRunner(cell, sample, training)
    return CellRunner(cell, training)


def _expand(mask_t, like):
    """``(batch,)`` -> broadcastable against ``like`` ``(batch, ...)``."""
    return mask_t.view((-1,) + (1,) * (like.dim() - 1))


def run_steps(runner, sequences, states, mask=None, go_backwards=False, zero_output_for_mask=False,
              return_sequences=False):
    """Run ``runner`` over ``sequences (batch, timesteps, ...)`` from the flat list ``states``.

    Returns ``(last_output, outputs or None, final_states)``; ``outputs`` is
    ``(batch, timesteps, ...)`` in the order the steps ran.
    """
    steps = runner.project(sequences).unbind(1)
    masks = mask.unbind(1) if mask is not None else None
    order = range(len(steps) - 1, -1, -1) if go_backwards else range(len(steps))
    outputs, prev, out = [], None, None
    for t in order:
        out, new = runner.step(steps[t], states)
        if masks is not None:
            m = masks[t]
            new = [torch.where(_expand(m, n), n, s) for n, s in zip(new, states)]
            fill = prev if prev is not None and not zero_output_for_mask else torch.zeros_like(out)
            out = torch.where(_expand(m, out), out, fill)
            prev = out
        states = new
        if return_sequences:
            outputs.append(out)
    return out, (torch.stack(outputs, 1) if return_sequences else None), states
