"""Functional models: a graph of layer calls declared on symbolic tensors,
translated once into a torch module that runs it.

The translation happens when the model is made: the graph is sorted once into
a flat list of steps, each layer's native torch module is registered under the
layer's name, and ``forward`` walks the steps over a list of slots. Image
tensors switch between channels_last (what the user gives and gets) and torch's
NCHW at the model's edges only, as free views.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, NamedTuple

import torch

from kerasish import tree

from kerasish.engine import layout
from kerasish.engine.keras_tensor import KerasTensor, flatten, pack_like
from kerasish.engine.layer import Layer, _device_epoch, _dtype_name, _is_shape_tuple, torch_dtype
from .model import Model, functional_like_constructor
from kerasish.engine.node import Node
from kerasish.engine.serialization import deserialize_layer, serialize_layer


class _Step(NamedTuple):
    """One layer call of the translated graph, over numbered slots."""

    layer: Layer
    kind: int  # 0: one tensor argument, 1: a list of tensors, 2: any structure (args and kwargs are templates)
    args: Any
    outs: list  # the slots its outputs go to
    single_out: bool
    training: bool | None  # a ``training=`` given at the call in the graph, else None
    kwargs: dict  # for kind 2 a template: tensor keyword arguments (``mask=``) come from the slots
    pre_activation: bool  # the trainer's logits variant of an output layer
    release: tuple  # slots no later step reads: dropped after this one
    # when its output may go into an inference loop's buffer (engine/workspace.py):
    # the layers that read it, whose hooks are checked per call; else ()
    reusable: tuple
    # the dtype a layer with weights of another dtype than its floating inputs
    # casts them to (Keras casts a layer's inputs to its dtype); else None
    cast: torch.dtype | None


def _weight_dtype(layer):
    """The dtype of a layer's own floating weights (None: none, or a nested model)."""
    if not layer._variables or hasattr(layer, "_input_dtypes"):
        return None
    return next((v.tensor.dtype for v in layer._variables if v.tensor.is_floating_point()), None)


def _input_cast(layer, inputs):
    """The dtype ``layer`` must cast its floating ``inputs`` (KerasTensors) to.

    Decided from the symbolic dtypes, once: a layer holding weights of one
    dtype fed floats of another (a float64 Dense after a float32 one) casts,
    as Keras does; weightless layers pass dtypes through, and a nested model
    casts at its own layers. Mixed precision runs under torch.autocast, so
    its symbolic dtypes agree and nothing is cast here."""
    own = _weight_dtype(layer)
    floating = [torch_dtype(t.dtype) for t in inputs if str(t.dtype).startswith(("float", "bfloat"))]
    return own if own is not None and any(d != own for d in floating) else None


def _cast_floating(x, dtype):
    return x.to(dtype) if isinstance(x, torch.Tensor) and x.is_floating_point() and x.dtype != dtype else x


def _cast_floating_nested(struct, dtype):
    if isinstance(struct, (list, tuple)):
        return type(struct)(_cast_floating_nested(s, dtype) for s in struct)
    if isinstance(struct, dict):
        return {k: _cast_floating_nested(v, dtype) for k, v in struct.items()}
    return _cast_floating(struct, dtype)


def _is_builtin(layer) -> bool:
    return type(layer).__module__.startswith("kerasish.")


class _Slot:
    """Marks where a step's argument structure takes a tensor from the slots."""

    __slots__ = ("index",)

    def __init__(self, index):
        self.index = index


def _substitute(struct, fn):
    if isinstance(struct, KerasTensor):
        return fn(struct)
    if isinstance(struct, (list, tuple)):
        return type(struct)(_substitute(s, fn) for s in struct)
    if isinstance(struct, dict):
        return {k: _substitute(v, fn) for k, v in struct.items()}
    return struct


def _fill(struct, slots):
    if isinstance(struct, _Slot):
        return slots[struct.index]
    if isinstance(struct, (list, tuple)):
        return type(struct)(_fill(s, slots) for s in struct)
    if isinstance(struct, dict):
        return {k: _fill(v, slots) for k, v in struct.items()}
    return struct


def _flatten_shapes(shapes):
    """The shape tuples of a nested structure of shapes, dicts in sorted key
    order (the order of ``flatten`` and so of ``_inputs_flat``)."""
    return tree.flatten(shapes, is_leaf=_is_shape_tuple)


def _normalize_struct(struct):
    if isinstance(struct, tuple):
        return list(struct)
    return struct


def build_map(flat_inputs, flat_outputs):
    """Topologically sort the nodes between inputs and outputs (depth-first
    from the outputs), as Keras does.

    Returns (nodes in run order, layers in Keras's order, {depth: [nodes]}),
    depth being the number of layer calls between a node and the outputs.
    """
    finished, in_progress = set(), set()
    ordered: list[Node] = []
    first_seen: dict[Layer, int] = {}
    input_ids = {id(t) for t in flat_inputs}

    def visit(tensor):
        history = tensor._keras_history
        if history is None:
            raise ValueError(
                f"Tensor {tensor} was not produced by a layer: model inputs must come from `Input()` and outputs from layer calls."
            )
        layer, node_index, _ = history
        node = layer._inbound_nodes[node_index]
        if node in finished:
            return
        if not node.is_input and id(tensor) in input_ids:
            finished.add(node)
            return
        if node in in_progress:
            raise ValueError(f"Tensor {tensor} from layer '{layer.name}' is part of a cycle.")
        first_seen.setdefault(layer, len(first_seen))
        in_progress.add(node)
        for t in node.input_tensors:
            visit(t)
        finished.add(node)
        in_progress.discard(node)
        ordered.append(node)

    for t in flat_outputs:
        visit(t)

    # Depth: number of layer calls between a node and the outputs.
    node_depth: dict[Node, int] = {}
    layer_depth: dict[Layer, int] = {}
    in_graph = set(ordered)
    for node in reversed(ordered):
        depth = node_depth.setdefault(node, 0)
        depth = max(depth, layer_depth.get(node.layer, 0))
        layer_depth[node.layer] = depth
        node_depth[node] = depth
        for parent in node.parent_nodes:
            if parent in in_graph:
                node_depth[parent] = max(depth + 1, node_depth.get(parent, 0))
    for t in flat_inputs:  # inputs that feed no output still belong to the model
        layer = t._keras_history.layer
        if layer not in layer_depth:
            layer_depth[layer] = 0
            first_seen[layer] = -1
            ordered.insert(0, layer._inbound_nodes[t._keras_history.node_index])
    nodes_by_depth = defaultdict(list)
    for node, d in node_depth.items():
        nodes_by_depth[d].append(node)
    by_depth = defaultdict(list)
    for layer, d in layer_depth.items():
        by_depth[d].append(layer)
    layers = []
    for d in sorted(by_depth, reverse=True):
        layers.extend(sorted(by_depth[d], key=lambda l: first_seen[l]))
    return ordered, layers, dict(nodes_by_depth)


class Functional(Model):
    """A model made by ``Model(inputs, outputs)``.

    Args:
        inputs: a symbolic tensor from ``Input``, or a list / dict of them.
        outputs: a symbolic tensor, or a list / dict of them.
        name: the model's name (default ``functional``, made unique).

    Example:
        >>> from kerasish.layers import Input, Dense
        >>> from kerasish import Model
        >>> x = Input((4,)); y = Dense(2)(x)
        >>> Model(x, y).output_shape
        (None, 2)
    """

    # In Keras 3 a functional model owns a first node (its own input-to-output
    # call), so a config's input_layers / output_layers number the calls of a
    # nested functional model from 1 (its inbound_nodes refer from 0, as for any
    # layer). Keras 3's Sequential has no such node.
    _keras_node_base = 1

    def __init__(self, inputs, outputs, name=None, trainable=True, **kwargs):
        Layer.__init__(self, name=name, trainable=trainable, **kwargs)
        self._init_graph(inputs, outputs)

    def _init_graph(self, inputs, outputs):
        inputs = _normalize_struct(inputs)
        outputs = _normalize_struct(outputs)
        flat_in, flat_out = flatten(inputs), flatten(outputs)
        for t in flat_in + flat_out:
            if not isinstance(t, KerasTensor):
                raise TypeError(
                    f"Model '{self.name}': inputs and outputs must be symbolic tensors (from Input() and layer calls), got {type(t).__name__}."
                )
        for t in flat_in:
            if t._keras_history is None or not t._keras_history.layer._inbound_nodes[t._keras_history.node_index].is_input:
                raise ValueError(f"Model '{self.name}': input {t} does not come from `Input()`; model inputs must.")
        nodes, layers, nodes_by_depth = build_map(flat_in, flat_out)
        names = [l.name for l in layers]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"Model '{self.name}': the layer name(s) {dupes} are used more than once; names must be unique.")
        self._input_struct, self._output_struct = inputs, outputs
        self._inputs_flat, self._outputs_flat = flat_in, flat_out
        # The dtype each floating Input takes its data in (Keras converts every
        # input to its Input's dtype); None: integer / bool inputs, taken as given.
        self._input_dtypes = [torch_dtype(t.dtype) if str(t.dtype).startswith(("float", "bfloat")) else None for t in flat_in]
        self._graph_nodes = nodes
        self._nodes_by_depth = nodes_by_depth
        self._node_set = set(nodes)
        # A rebuild (Sequential.add / pop) keeps the model where it was: its
        # device, and its torch train / eval mode (a new model starts in eval).
        device = self._device() if self.__dict__.get("_steps") else None
        self._layers = layers
        self._compile_steps()
        self._register_modules()
        self.built = True
        self._build_shapes = [t.shape for t in flat_in] if len(flat_in) > 1 else flat_in[0].shape
        self._graph_changed()
        _device_epoch[0] += 1  # the set of modules changed: device caches are stale
        if device is not None and any(t.device != device for t in (*self.parameters(), *self.buffers())):
            self.to(device)
        self.train(self.training)

    def _graph_changed(self):
        """Everything derived from the graph is derived again after a change
        (``Sequential.add`` / ``pop`` / ``build``): ``_graph_version`` tells
        the holders of derived state that theirs is stale."""
        self.__dict__["_graph_version"] = self.__dict__.get("_graph_version", 0) + 1
        self.__dict__.pop("_logits_steps_cache", None)

    def _clear_graph(self):
        """Forget the graph (a Sequential popped down to no layers, or not
        built yet): nothing derived from an old graph may be run. The flat
        inputs / outputs and input dtypes read None, as a subclassed model's
        (which has none) would."""
        self._input_struct = self._output_struct = None
        self._inputs_flat = self._outputs_flat = None
        self._input_dtypes = None
        self._graph_nodes, self._nodes_by_depth, self._node_set = [], {}, set()
        self._layers, self._steps, self._reg_layers = [], [], []
        self._input_slots, self._output_slots, self._n_slots = [], [], 0
        for key in list(self._modules):
            del self._modules[key]
        self.built = False
        self._build_shapes = None
        self._graph_changed()

    def _logits_steps(self, layers):
        """The steps in which each call of ``layers`` stops before its
        activation (``native_call_pre_activation``): the trainer computes a
        fused softmax / sigmoid crossentropy from those logits.

        Derived from the current steps, so it follows every graph change and
        dtype move; cached until either happens.

        Args:
            layers: the output layers whose calls give logits.
        """
        layers = frozenset(layers)
        cached = self.__dict__.get("_logits_steps_cache")
        if cached is not None and cached[0] is self._steps and cached[1] == layers:
            return cached[2]
        steps = [s._replace(pre_activation=True) if s.layer in layers else s for s in self._steps] if layers else self._steps
        self.__dict__["_logits_steps_cache"] = (self._steps, layers, steps)
        return steps

    def _compile_steps(self):
        """Translate the graph into a flat list of steps over numbered slots."""
        slot_of: dict[int, int] = {}
        for i, t in enumerate(self._inputs_flat):
            slot_of.setdefault(id(t), len(slot_of))
        self._input_slots = [slot_of[id(t)] for t in self._inputs_flat]
        steps, reads = [], []
        for node in self._graph_nodes:
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
            def to_slot(t):
                return _Slot(slot_of[id(t)])

            first = node.call_args[0]
            if isinstance(first, KerasTensor) and len(node.call_args) == 1 and not node.input_tensors[1:]:
                kind, args = 0, slot_of[id(first)]
            elif (isinstance(first, list) and all(isinstance(t, KerasTensor) for t in first) and len(node.call_args) == 1
                  and len(node.input_tensors) == len(first)):
                kind, args = 1, [slot_of[id(t)] for t in first]
            else:
                # several tensor arguments (``layer(targets, logits)``, ``layer(x, mask=m)``)
                kind, args, kwargs = 2, _substitute(node.call_args, to_slot), _substitute(kwargs, to_slot)
            for t in node.output_tensors:
                slot_of[id(t)] = len(slot_of)
            outs = [slot_of[id(t)] for t in node.output_tensors]
            single_out = isinstance(node.outputs, KerasTensor)
            steps.append((node.layer, kind, args, outs, single_out, training, kwargs, _input_cast(node.layer, node.input_tensors)))
            reads.append({slot_of[id(t)] for t in node.input_tensors})
        missing = [t for t in self._outputs_flat if id(t) not in slot_of]
        if missing:
            raise ValueError(f"Graph disconnected: output {missing[0]} cannot be computed from the model's inputs.")
        self._output_slots = [slot_of[id(t)] for t in self._outputs_flat]
        keep = set(self._output_slots)
        # Each step drops the tensors no later step reads, as a hand-written
        # forward does by rebinding its variable: otherwise inference would hold
        # every activation of the batch until the end of the graph (~200 MB per
        # batch of 32 on the fruit network).
        last_use, readers = {}, defaultdict(list)
        for i, ((_, _, _, outs, *_), used) in enumerate(zip(steps, reads)):
            for s in outs:
                last_use[s] = i
            for s in used:
                last_use[s] = i
                readers[s].append(steps[i][0])
        compiled = []
        for i, ((layer, kind, args, outs, single_out, training, kwargs, cast), used) in enumerate(zip(steps, reads)):
            release = tuple(sorted(s for s in used | set(outs) if last_use[s] == i and s not in keep))
            # An output that cannot outlive the batch: not a model output, read
            # only by built-in layers whose outputs never share its memory.
            out_readers = readers[outs[0]] if single_out else []
            may_reuse = (kind == 0 and not kwargs and hasattr(layer, "native_call_reusing") and _is_builtin(layer)
                         and outs[0] not in keep and out_readers and all(_is_builtin(r) and r._fresh_outputs for r in out_readers))
            reusable = tuple(out_readers) if may_reuse else ()
            compiled.append(_Step(layer, kind, args, outs, single_out, training, kwargs, False, release, reusable, cast))
        self._steps = compiled
        self._n_slots = len(slot_of)
        self._reg_layers = [l for l in self._layers if l.activity_regularizer is not None]

    def _register_modules(self):
        # Straight into _modules: a layer may be named like a Model attribute
        # ("output", "layers"); torch's add_module would refuse it, but the
        # state_dict key must still be the layer's name.
        for key in list(self._modules):
            del self._modules[key]
        for layer in self._layers:
            if type(layer).__name__ == "InputLayer":
                continue
            holds_state = next(layer.parameters(), None) is not None or next(layer.buffers(), None) is not None
            if layer._torch_module is not None or not type(layer)._native_layout or holds_state:
                self._modules[layer.name.replace(".", "_")] = layer.torch_module

    # ------------------------------------------------------------------
    # Running the graph
    # ------------------------------------------------------------------
    def _run_graph(self, flat_inputs, training: bool, steps=None, workspace=None):
        """Run the steps over the slots. ``steps`` may be the trainer's variant
        in which output layers stop before their activation (logits);
        ``workspace`` holds an inference loop's reused output buffers."""
        slots = [None] * self._n_slots
        for s, t in zip(self._input_slots, flat_inputs):
            slots[s] = t
        for layer in self._reg_layers:
            layer._activity_losses = []
        for layer, kind, args, outs, single_out, node_training, kwargs, pre_activation, release, reusable, cast in steps or self._steps:
            tr = training if node_training is None else node_training
            call = layer.native_call_pre_activation if pre_activation else layer.native_call
            if kind == 0:
                x = slots[args] if cast is None else _cast_floating(slots[args], cast)
                if reusable and workspace is not None:
                    y = layer.native_call_reusing(x, workspace, outs[0], reusable, training=tr)
                else:
                    y = call(x, training=tr, **kwargs)
            elif kind == 1:
                y = call([slots[i] if cast is None else _cast_floating(slots[i], cast) for i in args], training=tr, **kwargs)
            else:
                filled = _fill(args, slots)
                if cast is not None:
                    filled = [_cast_floating_nested(a, cast) for a in filled]
                y = call(*filled, training=tr, **_fill(kwargs, slots))
            if single_out:
                slots[outs[0]] = y
            else:
                for s, t in zip(outs, flatten(y)):
                    slots[s] = t
            if layer.activity_regularizer is not None:
                for s in outs:
                    # divided by the batch size, as Keras's Layer.__call__ does
                    layer._activity_losses.append(layer.activity_regularizer(slots[s]) / max(slots[s].shape[0], 1))
            for s in release:
                slots[s] = None
        return [slots[s] for s in self._output_slots]

    def _apply(self, fn, *args, **kwargs):
        result = super()._apply(fn, *args, **kwargs)
        if getattr(self, "_steps", None) is not None:
            self._follow_weight_dtypes()
        return result

    def _follow_weight_dtypes(self):
        """After torch's ``model.to(torch.float64)`` (or ``.double()``, ...):
        each layer takes the dtype its weights now have (its config says so,
        and it casts its floating inputs to it), and when all weights share one
        dtype the model's floating inputs are cast to it too, so the model runs
        in the dtype torch moved it to. A move to another device changes nothing."""
        casts = {id(l): d for l in self._layers if (d := _weight_dtype(l)) is not None}
        moved = [l for l in self._layers if id(l) in casts and casts[id(l)] != torch_dtype(l._dtype)]
        if not moved:
            return
        for layer in moved:
            layer._dtype = _dtype_name(casts[id(layer)])
        self._steps = [s._replace(cast=casts.get(id(s.layer), s.cast)) for s in self._steps]
        if len(set(casts.values())) == 1:
            (dtype,) = set(casts.values())
            self._input_dtypes = [None if d is None else dtype for d in self._input_dtypes]

    def _flat_model_inputs(self, args):
        """Accept ``model(x)``, ``model([a, b])``, ``model(a, b)`` or ``model({"name": x})``."""
        n = len(self._inputs_flat)
        if len(args) == 1:
            x = args[0]
            if isinstance(x, dict):
                if isinstance(self._input_struct, dict):
                    missing = [k for k in self._input_struct if k not in x]
                    if missing:
                        raise ValueError(f"Model '{self.name}': missing input(s) {missing}; expected keys {list(self._input_struct)}.")
                    flat = flatten({k: x[k] for k in self._input_struct})
                else:
                    # Inputs named by their Input's name (extra keys ignored, as in Keras).
                    by_name = {t.name: t for t in self._inputs_flat}
                    if not set(by_name) <= set(x):
                        raise ValueError(f"Model '{self.name}': input dict keys {sorted(x)} do not match the inputs {sorted(by_name)}.")
                    flat = [x[t.name] for t in self._inputs_flat]
            elif isinstance(x, (list, tuple)) and n > 1 or (isinstance(x, (list, tuple)) and n == 1 and len(x) == 1):
                flat = flatten(x)
            else:
                flat = [x]
        else:
            flat = list(args)
        if len(flat) != n:
            raise ValueError(f"Model '{self.name}' expects {n} input(s), but it received {len(flat)} input tensors.")
        return self._adjust_input_rank(flat)

    def _adjust_input_rank(self, flat):
        """Data one axis off its Input's rank, as Keras's Functional takes it:
        a trailing axis of size 1 is dropped (``(N, 1)`` into ``Input(())``),
        or added where the Input ends in 1 (``(N, 28, 28)`` into
        ``Input((28, 28, 1))``). Views, no copies; other shapes are left for
        :meth:`_check_inputs` to refuse."""
        out = []
        for x, spec in zip(flat, self._inputs_flat):
            shape = getattr(x, "shape", None)
            if shape is not None:
                rank, ref = len(shape), spec.shape
                if rank == len(ref) + 1 and rank > 1 and shape[-1] == 1:
                    x = x[..., 0]
                elif rank == len(ref) - 1 and ref[-1] == 1:
                    x = x[..., None]
            out.append(x)
        return out

    def _cast_inputs(self, flat):
        """Data into a floating Input in that Input's dtype, as Keras converts it:
        integer images into float32, float32 arrays into a float64 model."""
        return [x.to(dtype) if dtype is not None and isinstance(x, torch.Tensor) and x.dtype != dtype else x
                for x, dtype in zip(flat, self._input_dtypes)]

    def _check_inputs(self, flat):
        for i, (x, spec) in enumerate(zip(flat, self._inputs_flat)):
            if not isinstance(x, torch.Tensor):
                raise TypeError(f"Model '{self.name}': input {i} ('{spec.name}') must be a torch tensor or array, got {type(x).__name__}.")
            expected = spec.shape
            shape = tuple(x.shape)
            ok = len(shape) == len(expected) and all(e is None or e == s for e, s in zip(expected, shape))
            if not ok:
                hint = ""
                if len(shape) == 4 and len(expected) == 4 and shape[1] == expected[3] and shape[1] != shape[3]:
                    hint = " It looks like channels_first data; kerasish models take channels_last (batch, height, width, channels)."
                raise ValueError(
                    f"Input {i} ('{spec.name}') of model '{self.name}' is incompatible: expected shape {expected}, but received an input of shape {shape}.{hint}"
                )

    def forward(self, *args, training=None):
        """Run the model on channels_last torch tensors; returns channels_last tensors."""
        flat = self._cast_inputs(self._flat_model_inputs(args))
        self._check_inputs(flat)
        if training is None:
            training = self.training
        outs = self._run_graph([layout.to_internal(x) for x in flat], bool(training))
        return pack_like(self._output_struct, [layout.to_keras(y) for y in outs])

    def native_call(self, inputs, training=False, **kwargs):
        """A nested model: run on internal-layout tensors, as a layer would."""
        flat = flatten(inputs)
        outs = self._run_graph(flat, training)
        return pack_like(self._output_struct, outs)

    def call(self, inputs, training=None, mask=None):
        return self.forward(inputs, training=training)

    def compute_output_shape(self, input_shape):
        given = _flatten_shapes(input_shape)
        own = [t.shape for t in self._inputs_flat]
        if len(given) == len(own) and all(len(g) == len(o) and all(a is None or b is None or a == b for a, b in zip(g[1:], o[1:])) for g, o in zip(given, own)):
            batch = given[0][0]
            outs = [(batch,) + t.shape[1:] for t in self._outputs_flat]
            return _pack_shapes(self._output_struct, outs)
        raise ValueError(
            f"Model '{self.name}' was built for input shape(s) {own}, and cannot take {given}."
        )

    def _check_input(self, input_shape):
        self.compute_output_shape(input_shape)

    # ------------------------------------------------------------------
    # Keras properties
    # ------------------------------------------------------------------
    @property
    def layers(self):
        return list(self._layers)

    @property
    def inputs(self):
        return list(self._inputs_flat)

    @property
    def outputs(self):
        return list(self._outputs_flat)

    @property
    def input(self):
        return self._input_struct

    @property
    def output(self):
        return self._output_struct

    @property
    def input_shape(self):
        return _pack_shapes(self._input_struct, [t.shape for t in self._inputs_flat])

    @property
    def output_shape(self):
        return _pack_shapes(self._output_struct, [t.shape for t in self._outputs_flat])

    @property
    def input_names(self):
        return [t._keras_history.layer.name for t in self._inputs_flat]

    @property
    def output_names(self):
        return [t._keras_history.layer.name for t in self._outputs_flat]

    # ------------------------------------------------------------------
    # Config
    # ------------------------------------------------------------------
    def _node_indices(self):
        """Node index of each in-model node among its layer's in-model nodes."""
        index = {}
        for layer in self._layers:
            k = 0
            for node in layer._inbound_nodes:
                if node in self._node_set:
                    index[node] = k
                    k += 1
        return index

    def _tensor_ref(self, t, node_index):
        layer, ni, ti = t._keras_history
        return [layer.name, node_index[layer._inbound_nodes[ni]], ti]

    def get_config(self):
        if not functional_like_constructor(type(self)):
            # A subclass with a constructor of its own is configured as a
            # subclassed model: its get_config says what that constructor takes.
            return Model.get_config(self)
        node_index = self._node_indices()

        def ser_tensor(t):
            return {"class_name": "__keras_tensor__", "config": {"shape": list(t.shape), "dtype": t.dtype, "keras_history": self._tensor_ref(t, node_index)}}

        layer_configs = []
        for layer in self._layers:
            data = serialize_layer(layer)
            data["name"] = layer.name
            data["inbound_nodes"] = [
                {"args": _jsonable(_substitute(list(n.call_args), ser_tensor)), "kwargs": _jsonable(_substitute(n.call_kwargs, ser_tensor))}
                for n in layer._inbound_nodes
                if n in self._node_set and not n.is_input
            ]
            layer_configs.append(data)

        def refs(struct):
            if isinstance(struct, KerasTensor):
                name, index, tensor_index = self._tensor_ref(struct, node_index)
                return [name, index + getattr(struct._keras_history.layer, "_keras_node_base", 0), tensor_index]
            if isinstance(struct, dict):
                return {k: refs(v) for k, v in struct.items()}
            return [refs(s) for s in struct]

        return {
            "name": self.name,
            "trainable": self.trainable,
            "layers": layer_configs,
            "input_layers": refs(self._input_struct),
            "output_layers": refs(self._output_struct),
        }


def _jsonable(struct):
    if isinstance(struct, tuple):
        return [_jsonable(s) for s in struct]
    if isinstance(struct, list):
        return [_jsonable(s) for s in struct]
    if isinstance(struct, dict):
        return {k: _jsonable(v) for k, v in struct.items()}
    return struct


def _pack_shapes(struct, shapes):
    if isinstance(struct, KerasTensor):
        return shapes[0]
    it = iter(shapes)

    def pack(s):
        if isinstance(s, KerasTensor):
            return next(it)
        if isinstance(s, dict):
            packed = {k: pack(s[k]) for k in sorted(s)}  # the flat shapes come in sorted key order
            return {k: packed[k] for k in s}
        return [pack(x) for x in s]

    return pack(struct)


def functional_from_config(cls, config, custom_objects=None):
    """Rebuild a functional model from :meth:`Functional.get_config` data
    (also the format Keras 3 writes).

    Layers are found by the names the config gives them: a custom layer whose
    ``get_config`` leaves out ``name`` gets a fresh name, as in Keras, and the
    graph still connects. ``cls`` may be ``Model``, ``Functional`` or a
    subclass; the config's other keys go to the subclass's constructor.

    Args:
        cls: the class to make.
        config: the functional config.
        custom_objects: ``{"ClassName": class}`` for custom layers.
    """
    config = dict(config)
    layer_list = config.pop("layers")
    input_refs, output_refs = config.pop("input_layers"), config.pop("output_layers")
    name, trainable = config.pop("name", None), config.pop("trainable", None)
    trainable = True if trainable is None else trainable
    layers = {}  # by the config's name, which the inbound nodes use
    order = []
    for data in layer_list:
        layer = deserialize_layer(data, custom_objects)
        key = data.get("name") or data.get("config", {}).get("name") or layer.name
        layers[key] = layer
        order.append((key, layer, list(data.get("inbound_nodes", []))))
    produced: dict[tuple, object] = {}
    replayed = defaultdict(int)
    for key, layer, _ in order:
        if type(layer).__name__ == "InputLayer":
            produced[(key, 0)] = layer._inbound_nodes[0].outputs
            replayed[key] = 1

    def is_ref(d):
        return isinstance(d, dict) and d.get("class_name") == "__keras_tensor__"

    def ready(struct):
        if is_ref(struct):
            ref_name, ni, _ = struct["config"]["keras_history"]
            return (ref_name, ni) in produced
        if isinstance(struct, (list, tuple)):  # tuples: Keras's in-memory configs
            return all(ready(s) for s in struct)
        if isinstance(struct, dict):
            return all(ready(v) for v in struct.values())
        return True

    def resolve(struct):
        if is_ref(struct):
            ref_name, ni, ti = struct["config"]["keras_history"]
            return flatten(produced[(ref_name, ni)])[ti]
        if isinstance(struct, (list, tuple)):
            return [resolve(s) for s in struct]
        if isinstance(struct, dict):
            return {k: resolve(v) for k, v in struct.items()}
        return struct

    pending = [(key, layer, nodes) for key, layer, nodes in order if nodes]
    while pending:
        progressed = False
        still = []
        for key, layer, nodes in pending:
            while nodes and ready(nodes[0]):
                node = nodes.pop(0)
                args = resolve(node.get("args", []))
                kwargs = resolve(node.get("kwargs", {}))
                out = layer(*args, **kwargs)
                produced[(key, replayed[key])] = out
                replayed[key] += 1
                progressed = True
            if nodes:
                still.append((key, layer, nodes))
        if not progressed and still:
            raise ValueError(
                f"Cannot rebuild model '{name}': the config's graph refers to tensors no layer makes "
                f"(layers left: {[k for k, _, _ in still]})."
            )
        pending = still

    def ref(r):
        if isinstance(r, dict):
            return {k: ref(v) for k, v in r.items()}
        if isinstance(r, list) and len(r) == 3 and isinstance(r[0], str) and isinstance(r[1], int):
            if r[0] not in layers:
                raise ValueError(f"Cannot rebuild model '{name}': its inputs / outputs name a layer '{r[0]}' the config does not have.")
            base = getattr(layers[r[0]], "_keras_node_base", 0)
            return flatten(produced[(r[0], r[1] - base)])[r[2]]
        return [ref(x) for x in r]

    inputs = ref(input_refs)
    outputs = ref(output_refs)
    if cls is Model or cls is Functional:
        return Functional(inputs, outputs, name=name, trainable=trainable)
    if functional_like_constructor(cls):
        # Through the subclass's constructor, so what it sets up exists.
        return cls(inputs=inputs, outputs=outputs, name=name, trainable=trainable, **config)
    model = cls.__new__(cls)
    Functional.__init__(model, inputs, outputs, name=name, trainable=trainable)
    return model
