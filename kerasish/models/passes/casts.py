"""The input casts of layers whose weights have another dtype than their inputs.

Keras casts a layer's floating inputs to the layer's dtype. kerasish decides
each cast once, from the symbolic dtypes of the step's inputs and the dtype the
layer's weights have now: a float64 ``Dense`` after a float32 one casts; after
``model.to(torch.float64)`` every layer with weights casts, and when all weights
share one dtype the model's floating inputs are converted to it on the way in,
so the model runs in the dtype torch moved it to. Weightless layers pass dtypes
through; a nested model casts at its own layers. Mixed precision runs under
``torch.autocast``, where the symbolic dtypes agree and nothing is cast here.
"""

from __future__ import annotations

from dataclasses import replace

from kerasish.engine.layer import torch_dtype
from kerasish.models.model import Model


def weight_dtype(layer):
    """The dtype of a layer's own floating weights (None: none, or a nested model)."""
    if not layer._variables or isinstance(layer, Model):
        return None
    return next((v.tensor.dtype for v in layer._variables if v.tensor.is_floating_point()), None)


def _floating_dtypes(tensors):
    return [torch_dtype(t.dtype) for t in tensors if str(t.dtype).startswith(("float", "bfloat"))]


def cast_inputs(program):
    """``program`` with each step's ``cast`` and the model's ``input_dtypes`` set.

    Args:
        program: a :class:`~kerasish.models.program.Program`.
    """
    steps, owns = [], set()
    for step in program.steps:
        own = weight_dtype(step.layer)
        if own is not None:
            owns.add(own)
        needs = own is not None and any(d != own for d in _floating_dtypes(step.node.input_tensors))
        steps.append(replace(step, cast=own if needs else None))
    input_dtypes = program.input_dtypes
    if len(owns) == 1 and any(s.cast is not None for s in steps):  # one dtype for all weights, not the Inputs': take it on the way in
        (dtype,) = owns
        input_dtypes = tuple(None if d is None else dtype for d in input_dtypes)
    return program.with_steps(steps, input_dtypes=input_dtypes)

