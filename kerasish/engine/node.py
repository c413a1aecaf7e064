"""A Node is one call of a layer on symbolic tensors: the edge list of the graph."""

from __future__ import annotations

from .keras_tensor import KerasHistory, KerasTensor, flatten


class Node:
    """Records ``outputs = layer(*args, **kwargs)`` on symbolic tensors.

    Attributes:
        layer: the layer called.
        call_args / call_kwargs: the call's arguments, tensors included, as given.
        input_tensors: the KerasTensors among the arguments, flattened.
        outputs: the output structure (a KerasTensor or a list of them).
        output_tensors: the same, flattened.
    """

    def __init__(self, layer, call_args, call_kwargs, outputs):
        self.layer = layer
        self.call_args = tuple(call_args)
        self.call_kwargs = dict(call_kwargs)
        self.input_tensors = [t for t in flatten((self.call_args, self.call_kwargs)) if isinstance(t, KerasTensor)]
        self.outputs = outputs
        self.output_tensors = flatten(outputs)
        node_index = len(layer._inbound_nodes)
        layer._inbound_nodes.append(self)
        for i, t in enumerate(self.output_tensors):
            t._keras_history = KerasHistory(layer, node_index, i)
        for t in self.input_tensors:
            if t._keras_history is not None:
                t._keras_history.layer._outbound_nodes.append(self)

    @property
    def is_input(self) -> bool:
        return not self.input_tensors

    @property
    def parent_nodes(self) -> list["Node"]:
        parents = []
        for t in self.input_tensors:
            h = t._keras_history
            if h is not None:
                parents.append(h.layer._inbound_nodes[h.node_index])
        return parents

    def __repr__(self):
        return f"<Node {self.layer.name}({len(self.input_tensors)} in -> {len(self.output_tensors)} out)>"
