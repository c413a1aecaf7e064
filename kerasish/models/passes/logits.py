"""The logits split: output layers that stop before their softmax / sigmoid.

``compile(loss="categorical_crossentropy")`` on a model whose last layer is
``Dense(10, activation="softmax")`` asks for the crossentropy of
probabilities. Computed as Keras does (clip, log) it is slower and loses
precision; computed from the logits it is one fused, stable kernel
(``F.cross_entropy``). For its built-in steps the trainer picks such outputs
(``CompileLoss.plan_logits``) and runs a program in which those layers stop
before their activation; the loss then reads logits, and the metrics get the
activation applied once. ``model(x)`` and ``predict`` never see this program.

A layer can be split when it computes ``activation(pre_activation(x))``: the
built-in ``Dense``, convolutions and ``Activation`` layers, which keep the
pre-activation part as ``_pre_activation``.
"""

from __future__ import annotations

from dataclasses import replace


def splittable(layer) -> bool:
    """Whether the split can stop ``layer`` before its activation."""
    return callable(getattr(layer, "_pre_activation", None)) and not type(layer)._user_class


def split_logits(program, layers):
    """``program`` with the calls of ``layers`` stopping before their activation.

    Args:
        program: a :class:`~kerasish.models.program.Program`.
        layers: the layers to split (each :func:`splittable`).
    Raises:
        ValueError: a layer cannot be split.
    """
    layers = frozenset(layers)
    for layer in layers:
        if not splittable(layer):
            raise ValueError(f"Layer '{layer.name}' ({type(layer).__name__}) has no pre-activation output to split off.")
    return program.with_steps(replace(s, call=s.layer._pre_activation) if s.layer in layers else s for s in program.steps)
