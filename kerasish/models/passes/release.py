"""Each tensor dropped after the last step that reads it.

A hand-written forward rebinds its variable layer after layer, so torch frees
each activation as soon as the next layer has read it. A walk over the graph's
slots would instead hold every activation of the batch until the end (about
200 MB per batch of 32 on the fruit network). This pass gives each step the
slots no later step reads; the model's outputs are never dropped.
"""

from __future__ import annotations

from dataclasses import replace

from kerasish import tree
from kerasish.models.program import LIST, ONE, Slot


def release_dead_slots(program):
    """``program`` with each step's ``release`` set to the slots it reads or
    writes last (outputs excepted).

    Args:
        program: a :class:`~kerasish.models.program.Program`.
    """
    keep = set(program.output_slots)
    last_use = {}
    for i, step in enumerate(program.steps):
        for s in (*_reads(step), *step.outs):
            last_use[s] = i
    steps = [replace(step, release=tuple(sorted(s for s in {*_reads(step), *step.outs} if last_use[s] == i and s not in keep)))
             for i, step in enumerate(program.steps)]
    return program.with_steps(steps)


def _reads(step):
    """The slots a step reads."""
    if step.arg_kind is ONE:
        return (step.args,)
    if step.arg_kind is LIST:
        return step.args
    return [s.index for s in tree.flatten((step.args, step.kwargs)) if isinstance(s, Slot)]
