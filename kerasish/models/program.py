"""The translated graph as a program: what a functional model's forward runs.

:func:`plan` turns a functional model's graph into a :class:`Program`: its layer
calls in run order, each a :class:`Step` reading and writing numbered slots
(one slot per symbolic tensor). :func:`run` interprets it. The program is plain
frozen data, derived from the graph whenever the model asks for it
(``Functional._program``), so a graph change (``Sequential.add`` / ``pop``), a
dtype move (``model.to(torch.float64)``) or a ``compile`` can never leave a
stale copy behind: the model drops its cached program on each of them.

What kerasish adds to a plain walk of the graph is written as passes over the
program, one module each in ``kerasish/models/passes/``: the input casts a layer
with weights of another dtype needs (``casts``), dropping each tensor after its
last reader (``release``), and the logits split for a fused crossentropy
(``logits``). Each takes a program and returns a new one; :func:`run` knows
nothing of them.

Example:
    >>> import torch
    >>> from kerasish import Model
    >>> from kerasish.layers import Dense, Input
    >>> from kerasish.models import program
    >>> x = Input((4,)); model = Model(x, Dense(2, name="out")(Dense(3, name="hidden")(x)))
    >>> p = program.plan(model)
    >>> [s.layer.name for s in p.steps], p.input_slots, p.output_slots
    (['hidden', 'out'], (0,), (2,))
    >>> program.run(p, [torch.zeros(1, 4)], training=False)[0].shape
    torch.Size([1, 2])
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import torch

from kerasish import tree
from kerasish.engine import masking
from kerasish.engine.keras_tensor import KerasTensor, flatten
from kerasish.engine.layer import Layer, torch_dtype
from kerasish.engine.node import Node

# How a step passes its inputs to the layer.
ONE = "one"  # layer(x): ``args`` is a slot
LIST = "list"  # layer([a, b, ...]): ``args`` is a tuple of slots
STRUCTURE = "structure"  # anything else (``layer(y, logits)``, ``layer(x, mask=m)``): ``args`` / ``kwargs`` are templates


@dataclass(frozen=True, slots=True)
class Slot:
    """Where a :data:`STRUCTURE` step's argument template takes a tensor from."""

    index: int


@dataclass(frozen=True, slots=True)
class Step:
    """One layer call of the program.

    Attributes:
        node: the graph node this step runs (its symbolic inputs and outputs).
        layer: the layer called.
        arg_kind: :data:`ONE`, :data:`LIST` or :data:`STRUCTURE`.
        args: a slot, a tuple of slots, or a template of :class:`Slot` markers.
        kwargs: keyword arguments; for :data:`STRUCTURE` a template.
        outs: the slots its outputs go to, flattened.
        single_out: whether the layer returns one tensor (else a structure).
        training: a ``training=`` given at the call in the graph, else None.
        release: slots no later step reads, dropped after this one (``passes.release``).
        cast: the dtype floating inputs are cast to first, else None (``passes.casts``).
        call: what runs instead of ``layer.native_call``, else None (``passes.logits``).
        masking: how masks flow through this step (:class:`MaskStep`), else None.
    """

    node: Node
    layer: Layer
    arg_kind: str
    args: Any
    kwargs: Mapping
    outs: tuple
    single_out: bool
    training: bool | None
    release: tuple = ()
    cast: torch.dtype | None = None
    call: Callable | None = None
    masking: MaskStep | None = None


@dataclass(frozen=True, slots=True)
class MaskStep:
    """The mask rules of ``kerasish.engine.masking`` for one step, decided from the declared graph.

    Attributes:
        first: a template of the step's first argument (:class:`Slot` per tensor):
            the tensors whose masks are the call's ``previous_mask``.
        pass_mask: give those masks to the call as ``mask=`` (rule 1).
        compute: set ``compute_mask``'s result on the outputs (rule 2).
    """

    first: Any
    pass_mask: bool
    compute: bool


@dataclass(frozen=True)
class Program:
    """A functional model's forward pass as data.

    Attributes:
        steps: the layer calls in run order.
        input_slots: the slot of each flat model input.
        output_slots: the slot of each flat model output.
        n_slots: how many slots a run needs.
        input_dtypes: the dtype each flat floating input is converted to on the
            way in (None: integer / bool inputs, taken as given).
        regularized: the layers with an activity regularizer (their losses are
            collected per run).
    """

    steps: tuple
    input_slots: tuple
    output_slots: tuple
    n_slots: int
    input_dtypes: tuple
    regularized: tuple = field(default=())

    def with_steps(self, steps, **changes) -> Program:
        """A copy with other steps (and other fields changed); passes use it."""
        return replace(self, steps=tuple(steps), **changes)


def _floating(dtype_name) -> bool:
    return str(dtype_name).startswith(("float", "bfloat"))


def plan(model) -> Program:
    """The program of a functional model's graph, before any pass.

    Args:
        model: a built ``Functional`` (or ``Sequential``) model.
    Raises:
        ValueError: a layer's input or a model output cannot be reached from the
            model's inputs (a disconnected graph).
    """
    slot_of: dict[int, int] = {}
    for t in model._inputs_flat:
        slot_of.setdefault(id(t), len(slot_of))
    input_slots = tuple(slot_of[id(t)] for t in model._inputs_flat)
    steps = []
    for node in model._graph_nodes:
        if node.is_input:
            continue
        for t in node.input_tensors:
            if id(t) not in slot_of:
                raise ValueError(
                    f"Graph disconnected: cannot reach tensor {t.name} (input of layer '{node.layer.name}') from the model's inputs."
                )
        kwargs = dict(node.call_kwargs)
        training = kwargs.pop("training", None)
        if not isinstance(kwargs.get("mask"), KerasTensor):
            kwargs.pop("mask", None)  # a mask given as a tensor is an input; None is no argument
        first = node.call_args[0] if node.call_args else None
        if isinstance(first, KerasTensor) and len(node.call_args) == 1 and not node.input_tensors[1:]:
            kind, args = ONE, slot_of[id(first)]
        elif (isinstance(first, list) and first and all(isinstance(t, KerasTensor) for t in first) and len(node.call_args) == 1
              and len(node.input_tensors) == len(first)):
            kind, args = LIST, tuple(slot_of[id(t)] for t in first)
        else:
            kind = STRUCTURE
            args = _template(node.call_args, slot_of)
            kwargs = _template(kwargs, slot_of)
        mask_step = _mask_step(node, slot_of)
        # A layer taking strings computes on the host: its outputs go to the model's device.
        call = _HostCall(node.layer, model) if node.layer._takes_strings else None
        for t in node.output_tensors:
            slot_of[id(t)] = len(slot_of)
        steps.append(Step(node=node, layer=node.layer, arg_kind=kind, args=args, kwargs=kwargs,
                          outs=tuple(slot_of[id(t)] for t in node.output_tensors),
                          single_out=isinstance(node.outputs, KerasTensor), training=training, masking=mask_step, call=call))
    missing = [t for t in model._outputs_flat if id(t) not in slot_of]
    if missing:
        raise ValueError(f"Graph disconnected: output {missing[0]} cannot be computed from the model's inputs.")
    # Keras converts every input to its Input's dtype: integer images to float32.
    input_dtypes = tuple(torch_dtype(t.dtype) if _floating(t.dtype) else None for t in model._inputs_flat)
    regularized = tuple(l for l in model._layers if l.activity_regularizer is not None)
    return Program(steps=tuple(steps), input_slots=input_slots, output_slots=tuple(slot_of[id(t)] for t in model._outputs_flat),
                   n_slots=len(slot_of), input_dtypes=input_dtypes, regularized=regularized)


class _HostCall:
    """A string-taking layer's ``native_call``, its output tensors moved to
    the model's device (the model is held weakly: the program is the model's)."""

    def __init__(self, layer, model):
        self.layer = layer
        self.model = weakref.ref(model)

    def __call__(self, *args, **kwargs):
        y = self.layer.native_call(*args, **kwargs)
        model = self.model()
        device = model._device() if model is not None else None
        if device is None:
            return y
        return tree.map_structure(lambda t: t.to(device) if isinstance(t, torch.Tensor) and t.device != device else t, y)


def _mask_step(node, slot_of):
    """The step's :class:`MaskStep`, when masks reach or leave it in the declared graph; else None."""
    layer = node.layer
    first = node.call_args[0] if node.call_args else None
    in_masks = masking.masks_of(first)
    pass_mask = type(layer)._call_has_mask and node.call_kwargs.get("mask") is None and masking.any_mask(in_masks)
    compute = layer.supports_masking and any(masking.get_mask(t) is not None for t in node.output_tensors)
    if not (pass_mask or compute):
        return None
    return MaskStep(first=_template(first, slot_of), pass_mask=pass_mask, compute=compute)


def _template(struct, slot_of):
    """``struct`` with each KerasTensor replaced by the :class:`Slot` it is read from."""
    return tree.map_structure(lambda t: Slot(slot_of[id(t)]) if isinstance(t, KerasTensor) else t, struct)


# _fill and _cast run per call of a step: a Python walk of a short argument list
# is cheaper there than a tree map with a Python callback (docs/design.md).
def _fill(struct, slots):
    if isinstance(struct, Slot):
        return slots[struct.index]
    if isinstance(struct, (list, tuple)):
        return type(struct)(_fill(s, slots) for s in struct)
    if isinstance(struct, dict):
        return {k: _fill(v, slots) for k, v in struct.items()}
    return struct


def _cast(x, dtype):
    """Floating tensors (in any nesting) to ``dtype``; everything else as it is."""
    if isinstance(x, torch.Tensor):
        return x.to(dtype) if x.is_floating_point() and x.dtype != dtype else x
    if isinstance(x, (list, tuple)):
        return type(x)(_cast(s, dtype) for s in x)
    if isinstance(x, dict):
        return {k: _cast(v, dtype) for k, v in x.items()}
    return x


def run(program: Program, flat_inputs, training: bool) -> list:
    """Run ``program`` on internal-layout tensors; returns the flat outputs.

    Args:
        program: from :func:`plan` (and passes).
        flat_inputs: one tensor per model input, in internal layout (NCHW images).
        training: the mode of every step without a ``training=`` of its own.
    """
    slots = [None] * program.n_slots
    for s, t in zip(program.input_slots, flat_inputs):
        slots[s] = t
    for layer in program.regularized:
        layer._activity_losses = []
    for step in program.steps:
        layer, cast = step.layer, step.cast
        tr = training if step.training is None else step.training
        call = step.call or layer.native_call
        kind = step.arg_kind
        ms = step.masking
        # Arguments are built inside the call: a local name would keep its
        # tensors alive past their release (passes.release).
        if ms is not None:
            y, prev = _masked_call(step, call, slots, tr)
        elif kind is ONE:
            y = call(slots[step.args] if cast is None else _cast(slots[step.args], cast), training=tr, **step.kwargs)
        elif kind is LIST:
            y = call([slots[i] for i in step.args] if cast is None else _cast([slots[i] for i in step.args], cast),
                     training=tr, **step.kwargs)
        else:
            y = call(*(_fill(step.args, slots) if cast is None else _cast(_fill(step.args, slots), cast)), training=tr,
                     **_fill(step.kwargs, slots))
        if step.single_out:
            slots[step.outs[0]] = y
        else:
            for s, t in zip(step.outs, flatten(y)):
                slots[s] = t
        if ms is not None and ms.compute:
            outs = [slots[s] for s in step.outs]
            if not all(masking.get_mask(t) is not None for t in outs):
                masking.set_output_masks(outs, masking.compute_masks(layer, _fill(ms.first, slots), prev, internal=True))
        if layer.activity_regularizer is not None:
            for s in step.outs:
                # divided by the batch size, as Keras's Layer.__call__ does
                layer._activity_losses.append(layer.activity_regularizer(slots[s]) / max(slots[s].shape[0], 1))
        for s in step.release:
            slots[s] = None
    return [slots[s] for s in program.output_slots]


def _masked_call(step, call, slots, training):
    """Run a step that passes masks (:class:`MaskStep`); returns its output and the ``previous_mask``."""
    cast = step.cast
    if step.arg_kind is ONE:
        args, kwargs = (slots[step.args],), dict(step.kwargs)
    elif step.arg_kind is LIST:
        args, kwargs = ([slots[i] for i in step.args],), dict(step.kwargs)
    else:
        args, kwargs = _fill(step.args, slots), _fill(step.kwargs, slots)
    prev = kwargs.get("mask")
    if prev is None:
        prev = masking.masks_of(_fill(step.masking.first, slots))
        if step.masking.pass_mask:
            kwargs["mask"] = prev
    if cast is not None:
        args = _cast(args, cast)
    return call(*args, training=training, **kwargs), prev
