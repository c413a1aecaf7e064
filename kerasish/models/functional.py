"""Functional models: a graph of layer calls declared on symbolic tensors,
run as a torch module.

When the model is made, the graph is sorted (:func:`build_map`) and each
layer's native torch module is registered under the layer's name, so
``state_dict()`` reads ``dense_1.weight``. ``forward`` runs the graph's
program (``kerasish/models/program.py``: the layer calls in order over
numbered slots, after the passes of ``kerasish/models/passes/``), derived from
the graph on first use and again after any change. Image tensors switch
between channels_last (what the user gives and gets) and torch's NCHW at the
model's edges only, as free views.
"""

from __future__ import annotations

from collections import defaultdict

import torch

from kerasish import tree

from kerasish.engine import layout, masking
from kerasish.engine.keras_tensor import STRING, KerasTensor, as_host_strings, flatten, is_string_data, pack_like
from kerasish.engine.layer import Layer, _device_epoch, _dtype_name, _is_shape_tuple, torch_dtype
from kerasish.engine.node import Node
from kerasish.engine.serialization import deserialize_layer, serialize_layer
from kerasish.models import passes, program as program_lib
from kerasish.models.model import Model, functional_like_constructor


def _substitute(struct, fn):
    """``struct`` with ``fn(t)`` for each KerasTensor ``t`` in it."""
    return tree.map_structure(lambda t: fn(t) if isinstance(t, KerasTensor) else t, struct)


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
        # A rebuild (Sequential.add / pop) keeps the model where it was: its
        # device, and its torch train / eval mode (a new model starts in eval).
        device = self._device() if self.__dict__.get("_graph_nodes") else None
        self._input_struct, self._output_struct = inputs, outputs
        self._inputs_flat, self._outputs_flat = flat_in, flat_out
        self._graph_nodes = nodes
        self._nodes_by_depth = nodes_by_depth
        self._node_set = set(nodes)
        self._layers = layers
        self._graph_changed()
        program_lib.plan(self)  # a disconnected graph fails here, when the model is made
        self._register_modules()
        self.built = True
        self._build_shapes = [t.shape for t in flat_in] if len(flat_in) > 1 else flat_in[0].shape
        _device_epoch[0] += 1  # the set of modules changed: device caches are stale
        if device is not None and any(t.device != device for t in (*self.parameters(), *self.buffers())):
            self.to(device)
        self.train(self.training)

    def _graph_changed(self):
        """Everything derived from the graph is derived again after a change
        (``Sequential.add`` / ``pop`` / ``build``): ``_graph_version`` tells
        the holders of derived state (the trainer's compile objects) that
        theirs is stale, and the programs are dropped."""
        self.__dict__["_graph_version"] = self.__dict__.get("_graph_version", 0) + 1
        self.__dict__.pop("_programs", None)

    def _clear_graph(self):
        """Forget the graph (a Sequential popped down to no layers, or not
        built yet): nothing derived from an old graph may be run. The flat
        inputs / outputs read None, as a subclassed model's (which has none)
        would."""
        self._input_struct = self._output_struct = None
        self._inputs_flat = self._outputs_flat = None
        self._graph_nodes, self._nodes_by_depth, self._node_set = [], {}, set()
        self._layers = []
        for key in list(self._modules):
            del self._modules[key]
        self.built = False
        self._build_shapes = None
        self._graph_changed()

    # ------------------------------------------------------------------
    # The program (kerasish/models/program.py) and its passes
    # ------------------------------------------------------------------
    @property
    def _program(self):
        """What ``forward`` runs: the graph's program after the standard
        passes (``passes.standard``). Derived on first use after every graph
        change or dtype move, never kept across one."""
        return self._program_for(())

    @torch.compiler.disable
    def _program_for(self, logits_layers):
        """The program, with ``logits_layers`` stopping before their activation
        (``passes.logits``: the trainer's fused crossentropy).

        Outside torch.compile's trace: it reads and fills a cache.

        Args:
            logits_layers: a tuple of output layers to split (empty: none).
        """
        programs = self.__dict__.setdefault("_programs", {})
        program = programs.get(logits_layers)
        if program is None:
            if not self.__dict__.get("_graph_nodes"):
                raise ValueError(f"Model '{self.name}' has no graph yet: build it or call it on data first.")
            base = programs.get(())
            if base is None:
                base = programs[()] = passes.standard(program_lib.plan(self))
            program = programs[logits_layers] = passes.split_logits(base, logits_layers) if logits_layers else base
        return program

    def _splittable_outputs(self):
        """Per flat output, the layer making it when the logits split can stop
        it before its activation, else None (the trainer's logits plan)."""
        return [layer if passes.splittable(layer) else None for layer in (t._keras_history.layer for t in self._outputs_flat)]

    @property
    def _input_dtypes(self):
        """The dtype each flat floating input is converted to (None where taken
        as given); None for a model without a graph."""
        if not self.__dict__.get("_graph_nodes"):
            return None
        return self._program.input_dtypes

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
    def _run_graph(self, flat_inputs, training: bool, program=None):
        """Run the program (``program``, e.g. the trainer's logits variant, or
        the model's own) on internal-layout tensors; the flat outputs."""
        return program_lib.run(program or self._program, flat_inputs, training)

    def _apply(self, fn, *args, **kwargs):
        result = super()._apply(fn, *args, **kwargs)
        if self.__dict__.get("_graph_nodes"):
            self._follow_weight_dtypes()
        return result

    def _follow_weight_dtypes(self):
        """After torch's ``model.to(torch.float64)`` (or ``.double()``, ...):
        each layer takes the dtype its weights now have (its config says so),
        and the program is derived again, so its input casts (``passes.casts``)
        follow. A move to another device changes nothing."""
        moved = False
        for layer in self._layers:
            dtype = passes.casts.weight_dtype(layer)
            if dtype is not None and dtype != torch_dtype(layer._dtype):
                layer._dtype = _dtype_name(dtype)
                moved = True
        if moved:
            self.__dict__.pop("_programs", None)

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
            if type(x) is not torch.Tensor and is_string_data(x):
                x = as_host_strings(x)  # a list of str, a numpy array: kept on the host, as numpy
            shape = getattr(x, "shape", None)
            if shape is not None:
                rank, ref = len(shape), spec.shape
                if rank == len(ref) + 1 and rank > 1 and shape[-1] == 1:
                    x = x[..., 0]
                elif rank == len(ref) - 1 and ref[-1] == 1:
                    x = x[..., None]
            out.append(x)
        return out

    def _cast_inputs(self, flat, program=None):
        """Data into a floating Input in that Input's dtype, as Keras converts it:
        integer images into float32, float32 arrays into a float64 model."""
        dtypes = (program or self._program).input_dtypes
        return [x.to(dtype) if dtype is not None and isinstance(x, torch.Tensor) and x.dtype != dtype else x
                for x, dtype in zip(flat, dtypes)]

    def _check_inputs(self, flat):
        for i, (x, spec) in enumerate(zip(flat, self._inputs_flat)):
            if spec.dtype == STRING:
                if not is_string_data(x):
                    raise TypeError(
                        f"Model '{self.name}': input {i} ('{spec.name}') is a string input (dtype 'string'): it takes a list or "
                        f"numpy array of str, got {type(x).__name__}{'' if not hasattr(x, 'dtype') else ' of dtype ' + str(x.dtype)}."
                    )
            elif not isinstance(x, torch.Tensor):
                if is_string_data(x):
                    raise TypeError(
                        f"Model '{self.name}': input {i} ('{spec.name}', dtype '{spec.dtype}') got strings, but it must hold numbers "
                        "(strings go to an Input(dtype='string') and a layer that takes them, such as TextVectorization)."
                    )
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
        """Run the model on channels_last torch tensors (string inputs: lists /
        numpy arrays of str, kept on the host); returns channels_last tensors."""
        program = self._program
        flat = self._cast_inputs(self._flat_model_inputs(args), program)
        self._check_inputs(flat)
        if training is None:
            training = self.training
        outs = self._run_graph([layout.to_internal(x) for x in flat], bool(training), program)
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

    # A model with a string Input is, inside another model, a layer that takes strings.
    @property
    def _takes_strings(self) -> bool:
        return any(t.dtype == STRING for t in self.__dict__.get("_inputs_flat") or ())

    def _output_dtype(self) -> str:
        return self._outputs_flat[0].dtype

    # A nested model's outputs carry the masks its own graph makes (its run puts
    # them there), as Keras's do; a mask handed to it is not used (docs/differences.md).
    @property
    def supports_masking(self) -> bool:
        return any(masking.get_mask(t) is not None for t in self._outputs_flat)

    @supports_masking.setter
    def supports_masking(self, value):
        pass  # derived from the graph

    def _output_masks_spec(self, args, kwargs, prev):
        """The symbolic masks of a call of this model inside another: those of its own outputs."""
        masks = [masking.get_mask(t) for t in self._outputs_flat]
        fresh = [None if m is None else KerasTensor(m.shape, dtype=m.dtype) for m in masks]
        return pack_like(self._output_struct, fresh)

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


def _refs_in(struct):
    """The layer names a config structure's ``__keras_tensor__`` references point to."""
    if isinstance(struct, dict):
        if struct.get("class_name") == "__keras_tensor__":
            return [struct["config"]["keras_history"][0]]
        return [n for v in struct.values() for n in _refs_in(v)]
    if isinstance(struct, (list, tuple)):
        return [n for v in struct for n in _refs_in(v)]
    return []


def _is_mask_kwarg(key) -> bool:
    return key == "mask" or str(key).endswith("_mask")


def _without_mask_ops(layer_list):
    """A Keras 3 config without the operations that only compute masks.

    Keras 3 records the symbolic ops of each ``compute_mask`` (``NotEqual``, ``Any``,
    ``LogicalOr``, ... from ``keras.src.ops``) as nodes of the graph and passes their
    outputs as explicit ``mask=`` arguments. kerasish derives the same masks from the
    layers themselves (engine/masking.py), so those nodes and arguments are dropped;
    an op whose output feeds anything but masks is kept (and must be known).
    """
    ops = {d.get("name") for d in layer_list if str(d.get("module", "")).startswith("keras.src.ops")}
    if not ops:
        return layer_list
    users = defaultdict(set)  # op name -> "mask", "op:<name>" or "data"
    for d in layer_list:
        for node in d.get("inbound_nodes", []) or []:
            for key, value in ((None, node.get("args", [])), *((k, v) for k, v in (node.get("kwargs") or {}).items())):
                for ref in _refs_in(value):
                    if ref in ops:
                        if d.get("name") in ops:
                            users[ref].add(f"op:{d.get('name')}")
                        else:
                            users[ref].add("mask" if key is not None and _is_mask_kwarg(key) else "data")
    mask_only = {name for name in ops if users[name]}  # an op nobody reads is a model output: data
    changed = True
    while changed:  # an op is mask-only when every user is a mask argument or a mask-only op
        changed = False
        for name in list(mask_only):
            if any(u == "data" or (u.startswith("op:") and u[3:] not in mask_only) for u in users[name]):
                mask_only.discard(name)
                changed = True
    if not mask_only:
        return layer_list
    out = []
    for d in layer_list:
        if d.get("name") in mask_only:
            continue
        nodes = []
        for node in d.get("inbound_nodes", []) or []:
            kwargs = {k: v for k, v in (node.get("kwargs") or {}).items()
                      if not (_is_mask_kwarg(k) and _refs_in(v) and set(_refs_in(v)) <= mask_only)}
            nodes.append({**node, "kwargs": kwargs})
        out.append({**d, "inbound_nodes": nodes} if "inbound_nodes" in d else d)
    return out


# Keras 3 records ``x + 3.0``, ``x * y``, ``-x`` on symbolic tensors as operation nodes
# (module ``keras.src.ops.numpy``); kerasish records them as layers (TensorOp / merges).
_OP_NODES = {"Add": "add", "Subtract": "subtract", "Multiply": "multiply", "TrueDivide": "true_divide",
             "Divide": "true_divide", "Power": "power", "Negative": "negative"}
_MERGES = {"add": "Add", "subtract": "Subtract", "multiply": "Multiply"}


def _ops_as_layers(layer_list, model_name):
    """Keras's arithmetic operation nodes as the layers kerasish makes for the
    same expressions: a tensor and a number -> ``TensorOp``; two tensors -> the
    ``Add`` / ``Subtract`` / ``Multiply`` merge layer."""
    out = []
    for d in layer_list:
        op = _OP_NODES.get(d.get("class_name")) if str(d.get("module", "")).startswith("keras.src.ops") else None
        if op is None:
            out.append(d)
            continue
        name = d.get("name") or (d.get("config") or {}).get("name")
        nodes = []
        config = None
        for node in d.get("inbound_nodes", []) or []:
            args = list(node.get("args", []))
            tensors = [a for a in args if isinstance(a, dict) and a.get("class_name") == "__keras_tensor__"]
            numbers = [a for a in args if isinstance(a, (int, float)) and not isinstance(a, bool)]
            if op == "negative" and len(tensors) == 1:
                layer_config = {"name": name, "op": "negative"}
                node_args = tensors
            elif len(tensors) == 1 and len(numbers) == 1 and len(args) == 2:
                layer_config = {"name": name, "op": op, "constant": numbers[0], "reverse": args[0] is numbers[0]}
                node_args = tensors
            elif len(tensors) == 2 and len(args) == 2 and op in _MERGES:
                layer_config = {"name": name}
                node_args = [tensors]
            else:
                raise ValueError(
                    f"Cannot rebuild model '{model_name}': its operation '{name}' ({d.get('class_name')} of "
                    f"{len(tensors)} tensor(s) and {len(numbers)} number(s)) has no kerasish layer; "
                    "tensor-by-tensor division and power are not supported.")
            if config is not None and config != layer_config:
                raise ValueError(f"Cannot rebuild model '{model_name}': the operation '{name}' is called with different arguments.")
            config = layer_config
            nodes.append({**node, "args": node_args, "kwargs": {}})
        class_name = "TensorOp" if "op" in (config or {}) else _MERGES.get(op, "TensorOp")
        out.append({"module": "kerasish.layers", "class_name": class_name, "config": config or {"name": name, "op": op},
                    "registered_name": None, "name": name, "inbound_nodes": nodes})
    return out


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
    # The inbound nodes name layers: two layers of one name would make the
    # graph ambiguous (one silently dropped). Checked before any layer is made.
    if not isinstance(layer_list, (list, tuple)) or not all(isinstance(d, dict) for d in layer_list):
        raise ValueError(f"Functional config of '{name}': 'layers' must be a list of layer configs.")
    names = [d.get("name") or (d.get("config") or {}).get("name") for d in layer_list]
    names = [n for n in names if n]
    dupes = sorted({str(n) for n in names if names.count(n) > 1}) if len(set(map(str, names))) != len(names) else []
    if dupes:
        raise ValueError(f"Functional config of '{name}': the layer name(s) {dupes} are used by more than one layer; each layer needs its own name.")
    layer_list = _ops_as_layers(_without_mask_ops(layer_list), name)
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
