"""Passes over a functional model's :class:`~kerasish.models.program.Program`.

Each pass takes a program and returns a new one; none changes what the model
computes, only how it runs:

- :func:`~kerasish.models.passes.casts.cast_inputs`: floating inputs cast to
  the dtype of the layer's weights (a float64 layer after a float32 one, a
  model moved with ``model.to(torch.float64)``), as Keras casts a layer's inputs.
- :func:`~kerasish.models.passes.release.release_dead_slots`: each tensor
  dropped after its last reader, as a hand-written forward drops it by
  rebinding a variable.
- :func:`~kerasish.models.passes.logits.split_logits`: chosen output layers
  stop before their softmax / sigmoid, so the trainer computes the
  crossentropy from logits (one fused, stable kernel).

:func:`standard` is what every forward pass runs; the trainer adds the logits
split on top for its built-in steps.
"""

from kerasish.models.passes.casts import cast_inputs
from kerasish.models.passes.logits import split_logits, splittable
from kerasish.models.passes.release import release_dead_slots


def standard(program):
    """The passes every run of a functional model gets, in order."""
    return release_dead_slots(cast_inputs(program))


__all__ = ["cast_inputs", "release_dead_slots", "split_logits", "splittable", "standard"]
