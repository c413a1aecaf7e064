"""EinsumDense: a dense layer whose contraction is an einsum equation (Keras's layout)."""

from __future__ import annotations

import math
import re

import torch
import torch.nn.functional as F

from kerasish import activations, constraints, initializers, regularizers
from kerasish.engine.layer import Layer
from kerasish.layers.core.activation import get_activation

_PLAIN = re.compile(r"([a-zA-Z]+),([a-zA-Z]+)->([a-zA-Z]+)$")
_LEFT = re.compile(r"0([a-zA-Z]+),([a-zA-Z]+)->0([a-zA-Z]+)$")
_RIGHT = re.compile(r"([a-zA-Z]{2,})0,([a-zA-Z]+)->([a-zA-Z]+)0$")


def _plain_linear(equation, bias_axes):
    """``(number of contracted input axes, whether the bias is the kept axes' full shape)``
    when ``equation`` is input = prefix + contracted, kernel = contracted + kept,
    output = prefix + kept (a leading ``...`` allowed in the prefix); else None."""
    m = re.fullmatch(r"((?:\.\.\.)?[a-zA-Z]*),([a-zA-Z]+)->((?:\.\.\.)?[a-zA-Z]*)", equation.replace(" ", ""))
    if m is None:
        return None
    inp, ker, out = m.groups()
    for n in range(1, len(ker)):
        contracted, kept = ker[:n], ker[n:]
        if not inp.endswith(contracted):
            continue
        prefix = inp[:len(inp) - n]
        letters = inp.replace("...", "")
        unique = len(set(letters)) == len(letters) and len(set(ker)) == len(ker) and not set(prefix) & set(ker)
        if out == prefix + kept and unique:
            if bias_axes is None:
                return n, True
            return n, bias_axes == kept
    return None


def analyze_einsum(equation, bias_axes, input_shape, partial_output_shape, layer="EinsumDense"):
    """Kernel shape, bias shape, full output shape and the kernel's input / output axes.

    Args:
        equation: ``"ab,bc->ac"``, ``"...b,bc->...c"`` or ``"ab...,bc->ac..."``.
        bias_axes: letters of the output spec that get a bias, or None.
        input_shape: the input's shape, batch first (None for unknown sizes).
        partial_output_shape: the output shape without the batch axis (and
            without the elided axes), None where the size follows the input.

    Returns:
        ``(kernel_shape, bias_shape or None, output_shape, input_axes, output_axes)``.

    Raises:
        ValueError: an equation of another form, or specs that do not fit the shapes.
    """
    dotted = equation.replace("...", "0")
    left = False
    match = _PLAIN.match(dotted)
    if match is None:
        match = _LEFT.match(dotted)
        left = match is not None
    if match is None:
        match = _RIGHT.match(dotted)
    if match is None:
        raise ValueError(
            f"{layer}: invalid einsum equation '{equation}'. Equations must be in the form "
            "[X],[Y]->[Z], ...[X],[Y]->...[Z], or [X]...,[Y]->[Z]...."
        )
    input_spec, weight_spec, output_spec = match.groups()
    input_shape = tuple(input_shape)
    elided = len(input_shape) - len(input_spec)
    if elided < 0 or (elided > 0 and "0" not in dotted):
        raise ValueError(
            f"{layer}: the equation '{equation}' expects an input of rank {len(input_spec)}, got shape {input_shape}."
        )
    output_shape = [partial_output_shape] if isinstance(partial_output_shape, int) else list(partial_output_shape)
    output_shape.insert(0, input_shape[0])
    if elided > 0 and left:
        for i in range(1, elided):
            output_shape.insert(1, input_shape[i])
    elif elided > 0:
        output_shape.extend(input_shape[len(input_shape) - elided:])
    if left:
        input_map = {d: i + elided - len(input_shape) for i, d in enumerate(input_spec)}
        output_map = {d: i + elided for i, d in enumerate(output_spec)}
    else:
        input_map = {d: i for i, d in enumerate(input_spec)}
        output_map = {d: i for i, d in enumerate(output_spec)}
    if len(output_shape) != len(output_spec) + elided:
        raise ValueError(
            f"{layer}: `output_shape` {tuple(partial_output_shape)} does not fit the output spec '{output_spec}' of "
            f"'{equation}' (expected {len(output_spec) - 1} sizes)."
        )
    for d in input_spec:
        if d in output_map:
            want, have = output_shape[output_map[d]], input_shape[input_map[d]]
            if want is not None and have is not None and want != have:
                raise ValueError(
                    f"{layer}: input shape and output shape do not match at shared dimension '{d}'. Input shape is "
                    f"{have}, and output shape is {want} (input shape {input_shape}, equation '{equation}')."
                )
    for d in output_spec:
        if d not in input_spec and d not in weight_spec:
            raise ValueError(
                f"{layer}: dimension '{d}' was specified in the output '{output_spec}' but has no corresponding dim in "
                f"the input spec '{input_spec}' or weight spec '{weight_spec}'."
            )
    kernel_shape, input_axes, output_axes = [], [], []
    for i, d in enumerate(weight_spec):
        if d in output_map:
            kernel_shape.append(output_shape[output_map[d]])
            output_axes.append(i)
        elif d in input_map:
            kernel_shape.append(input_shape[input_map[d]])
            input_axes.append(i)
        else:
            raise ValueError(
                f"{layer}: weight dimension '{d}' did not have a match in either the input spec '{input_spec}' or the "
                f"output spec '{output_spec}'. For this layer, the weight must be fully specified."
            )
    bias_shape = None
    if bias_axes is not None:
        offset = elided if left else 0
        sizes = {c: output_shape[i + offset] for i, c in enumerate(output_spec)}
        for c in bias_axes:
            if c not in output_spec:
                raise ValueError(f"{layer}: bias dimension '{c}' was requested, but is not part of the output spec '{output_spec}'.")
        first = min(output_spec.find(c) for c in bias_axes)
        bias_shape = [sizes[c] if c in bias_axes else 1 for c in output_spec[first:]]
        if not left:
            bias_shape.extend([1] * elided)
    return kernel_shape, bias_shape, output_shape, input_axes, output_axes


class EinsumDense(Layer):
    """A dense layer of any rank: ``activation(einsum(equation, inputs, kernel) + bias)``.

    Args:
        equation: the einsum equation, input first, kernel second, of the form
            ``"ab,bc->ac"``, ``"...b,bc->...c"`` or ``"ab...,bc->ac..."``.
        output_shape: the output's shape without the batch axis (an int for rank 2);
            ``None`` for sizes that follow the input.
        activation: activation name or callable (default: none).
        bias_axes: letters of the output spec that carry a bias (default: no bias).
        kernel_initializer / bias_initializer: initializers (``glorot_uniform`` / ``zeros``);
            a variance-scaling kernel initializer counts fans over the kernel's
            input and output axes, as Keras's.
        kernel_regularizer / bias_regularizer / activity_regularizer: regularizers.
        kernel_constraint / bias_constraint: constraints.

    Shapes: as the equation says; the kernel's shape is read from the equation,
    the input shape and ``output_shape``, exactly as Keras does, so Keras's
    weights load as they are.

    Example:
        >>> import numpy as np
        >>> from kerasish.layers import EinsumDense
        >>> layer = EinsumDense("abc,cd->abd", output_shape=(None, 64), bias_axes="d")
        >>> tuple(layer(np.zeros((2, 32, 128))).shape), tuple(layer.kernel.shape)
        ((2, 32, 64), (128, 64))
    """

    def __init__(self, equation, output_shape, activation=None, bias_axes=None, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, **kwargs):
        for key in ("lora_rank", "lora_alpha", "gptq_unpacked_column_size", "quantization_config"):
            if kwargs.get(key) is not None:
                raise ValueError(f"EinsumDense: `{key}` (quantization / LoRA) is not supported by kerasish (got {kwargs[key]!r}).")
            kwargs.pop(key, None)
        super().__init__(**kwargs)
        if not isinstance(equation, str):
            raise TypeError(f"EinsumDense: `equation` must be a string, got {equation!r}.")
        self.equation = equation
        if isinstance(output_shape, int):
            self.partial_output_shape = (output_shape,)
        elif isinstance(output_shape, (list, tuple)):
            self.partial_output_shape = tuple(output_shape)
        else:
            raise ValueError(f"EinsumDense: `output_shape` must be an int or a list / tuple, got {output_shape!r}.")
        if bias_axes is not None and not isinstance(bias_axes, str):
            raise TypeError(f"EinsumDense: `bias_axes` must be a string of output letters or None, got {bias_axes!r}.")
        self.bias_axes = bias_axes
        self.activation = get_activation(activation, "EinsumDense")
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        # Parsed now, so a bad equation fails at construction, not at the first call.
        self._check_equation()

    def _check_equation(self):
        dotted = self.equation.replace("...", "0")
        if not (_PLAIN.match(dotted) or _LEFT.match(dotted) or _RIGHT.match(dotted)):
            analyze_einsum(self.equation, None, (), (), f"EinsumDense '{self.name}'")

    def _analyze(self, input_shape):
        return analyze_einsum(self.equation, self.bias_axes, input_shape, self.partial_output_shape,
                              f"EinsumDense '{self.name}'")

    def _check_input(self, input_shape):
        if not isinstance(input_shape, tuple):
            raise ValueError(f"Layer '{self.name}' (EinsumDense) expects one tensor, got input shape {input_shape}.")
        kernel_shape = self._analyze(input_shape)[0]
        if any(d is None for d in kernel_shape):
            raise ValueError(
                f"Layer '{self.name}' (EinsumDense) needs known sizes for the kernel axes of '{self.equation}', "
                f"got input shape {input_shape} and output_shape {self.partial_output_shape}."
            )
        if self.built and tuple(kernel_shape) != tuple(self.kernel.shape):
            raise ValueError(
                f"Layer '{self.name}' (EinsumDense) was built with kernel {tuple(self.kernel.shape)}, but an input of "
                f"shape {input_shape} needs kernel {tuple(kernel_shape)}."
            )

    def build(self, input_shape):
        kernel_shape, bias_shape, _, input_axes, output_axes = self._analyze(tuple(input_shape))
        init = self.kernel_initializer
        if isinstance(init, initializers.VarianceScaling) and (init.input_axes is None or init.output_axes is None):
            # Keras counts an einsum kernel's fans over its input / output axes.
            init = type(init).from_config({**init.get_config(), "seed": init.seed, "input_axes": input_axes,
                                           "output_axes": output_axes})
        self.kernel = self.add_weight(name="kernel", shape=tuple(kernel_shape), initializer=init,
                                      regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        if bias_shape is not None:
            self.add_weight(name="bias", shape=tuple(bias_shape), initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer, constraint=self.bias_constraint)
        self.built = True

    @property
    def bias(self):
        """The bias Variable, or None for a built layer without one."""
        # A property, not an attribute set to None: torch refuses to register
        # the parameter ``bias`` over an existing attribute of that name.
        for v in self.__dict__.get("_variables", ()):
            if v.name == "bias":
                return v
        if not self.built:
            raise AttributeError(f"EinsumDense '{self.name}' has no `bias` before it is built.")
        return None

    def _linear_plan(self):
        """``(contracted axes, kept kernel shape, bias folds in)`` when the equation is a plain
        matrix product over the input's last axes (``"abc,cde->abde"``, ``"abcd,cde->abe"``,
        ``"...b,bc->...c"``: every multi-head attention projection), else None.

        Such an einsum is one ``F.linear`` (an addmm with the bias) on flattened views; torch's
        einsum would run a matmul, a reshape copy and a separate bias add."""
        plan = self.__dict__.get("_plan")
        if plan is None:
            plan = self.__dict__["_plan"] = (_plain_linear(self.equation, self.bias_axes),)
        return plan[0]

    def call(self, inputs, training=None):
        plan = self._linear_plan()
        if plan is not None:
            n_in, bias_folds = plan
            kernel = self.kernel.value
            lead = inputs.shape[:inputs.dim() - n_in]
            out_shape = kernel.shape[n_in:]
            w = kernel.reshape(-1, math.prod(out_shape)).t()
            b = self.bias.value.reshape(-1) if (self.bias is not None and bias_folds) else None
            x = F.linear(inputs.reshape(*lead, -1), w, b).reshape(*lead, *out_shape)
            if self.bias is not None and not bias_folds:
                x = x + self.bias.value
        else:
            x = torch.einsum(self.equation, inputs, self.kernel.value)
            if self.bias is not None:
                x = x + self.bias.value
        if self.activation is not None and self.activation is not activations.linear:
            x = self.activation(x)
        return x

    def compute_output_shape(self, input_shape):
        return tuple(self._analyze(tuple(input_shape))[2])

    def get_config(self):
        return {
            **super().get_config(),
            "output_shape": self.partial_output_shape,
            "equation": self.equation,
            "activation": activations.serialize(self.activation),
            "bias_axes": self.bias_axes,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer) if self.kernel_regularizer else None,
            "bias_regularizer": regularizers.serialize(self.bias_regularizer) if self.bias_regularizer else None,
            "activity_regularizer": regularizers.serialize(self.activity_regularizer) if self.activity_regularizer else None,
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
            "quantization_config": None,
        }
