"""The Layer base class: Keras's layer life cycle on top of ``torch.nn.Module``.

A layer's life is Keras's: ``__init__`` takes the hyper-parameters, ``build``
creates the weights once the input shape is known, ``call`` computes,
``compute_output_shape`` answers for symbolic tensors, ``get_config`` says how
to make it again.

What is underneath is torch's. Built-in layers create a *native* torch module
in ``build`` (``nn.Conv2d``, ``nn.Linear``, ...) and a model registers that
module under the layer's name, so ``model.state_dict()`` reads
``conv2d_1.weight`` and ``print(model)`` shows ordinary torch layers.
Built-ins compute in the internal layout (see :mod:`kerasish.engine.layout`)
through :meth:`Layer.native_call`; user subclasses write ``call`` on
channels_last tensors, as in Keras, and the engine converts around them.
"""

from __future__ import annotations

import inspect
import math

import numpy as np
import torch
from torch import nn

from kerasish import constraints, initializers, regularizers, tree
from kerasish.saving.object_registration import loading_weight_limit

from . import layout, masking
from .keras_tensor import STRING, KerasTensor, any_symbolic, flatten, is_string_data
from .naming import auto_name
from .node import Node
from .variable import Variable
from .weight_limit import WeightLimit

# Keras 3 writes these into some layers' configs (quantization, LoRA). kerasish
# reads such configs; it accepts the keys while they ask for nothing.
_KERAS_ONLY_KWARGS = ("quantization_config", "lora_rank", "lora_alpha", "gradient_checkpointing")

# Bumped whenever a kerasish module's tensors may have moved (see Layer._device).
_device_epoch = [0]

_BASE_KWARGS = {"name", "dtype", "trainable", "input_shape", "batch_input_shape", "batch_size", "input_dim", "autocast", "activity_regularizer"}


def _dtype_name(dtype) -> str:
    if dtype is None:
        return "float32"
    if isinstance(dtype, dict):  # Keras 3 serialises a DTypePolicy as a dict
        cfg = dtype.get("config", {})
        return _dtype_name(cfg.get("name", "float32"))
    if isinstance(dtype, torch.dtype):
        return str(dtype).replace("torch.", "")
    if hasattr(dtype, "name") and not isinstance(dtype, str):
        return _dtype_name(dtype.name)
    name = str(dtype)
    if name.startswith("mixed_"):
        return "float32"
    if name in (STRING, "str"):
        return STRING  # strings stay numpy arrays on the host (keras_tensor.HostStrings)
    try:
        getattr(torch, name)
    except AttributeError:
        raise ValueError(f"Unknown dtype: {dtype!r}") from None
    return name


def _refuse_strings(layer, strings) -> None:
    """TypeError naming ``layer`` when ``strings`` (string inputs it was
    called on, symbolic or data) is not empty: only layers that take strings
    (``_takes_strings``) get them."""
    if not strings:
        return
    what = strings[0].name if isinstance(strings[0], KerasTensor) else f"an array of shape {np.shape(strings[0])}"
    raise TypeError(
        f"Layer '{layer.name}' ({type(layer).__name__}) cannot take string inputs (got {what}, dtype 'string'): "
        "only string layers (TextVectorization, StringLookup, Hashing, HashedCrossing) take strings; turn them into "
        "numbers with one first."
    )


def torch_dtype(name: str) -> torch.dtype:
    name = _dtype_name(name)
    if name == STRING:
        raise TypeError("The 'string' dtype has no torch dtype: strings stay numpy arrays on the host.")
    return getattr(torch, name)


def as_shape_tuple(shape) -> tuple:
    return tuple(None if d is None else int(d) for d in shape)


def _to_tensor(x, dtype=None, cast_float64=True):
    """numpy / Python data -> torch tensor. Floating data becomes ``dtype``
    (straight from float64: a float64 layer loses nothing); without one,
    float64 becomes float32 as in Keras, unless ``cast_float64`` is False (a
    functional model casts each input to its Input's dtype itself)."""
    if isinstance(x, torch.Tensor):
        t = x
    elif isinstance(x, Variable):
        t = x.value
    else:
        t = torch.as_tensor(np.asarray(x))
    if t.is_floating_point():
        if dtype is not None:
            t = t.to(dtype)
        elif cast_float64 and t.dtype == torch.float64:
            t = t.to(torch.float32)
    return t


class Layer(nn.Module):
    """Base class of every kerasish layer (and of Model).

    Args:
        name: the layer's name; made unique from the class name when omitted.
        dtype: the weights' dtype (``"float32"``).
        trainable: whether the weights are trained.
        input_shape: (Keras 2 idiom) the shape of the first layer of a
            Sequential model, batch axis excluded.

    Subclass it as in Keras: create weights in ``build(input_shape)`` with
    ``add_weight``, compute in ``call(inputs)`` on channels_last torch tensors.
    """

    # Built-ins set this: their ``native_call`` takes internal-layout tensors.
    _native_layout = False
    _user_class = False
    # Whether the output is in the layer's own dtype whatever the input's (a
    # layer with weights always is; Rescaling casts uint8 images to float32).
    _outputs_own_dtype = False
    _call_has_mask = False
    _overrides_compute_mask = False
    # Layers that take strings (TextVectorization, StringLookup, Hashing, ...)
    # set this: the engine hands them string inputs as numpy arrays on the host
    # and refuses string inputs to every other layer.
    _takes_strings = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        try:
            params = inspect.signature(cls.call).parameters
        except (TypeError, ValueError):
            params = {}
        cls._call_has_training = "training" in params or any(p.kind == p.VAR_KEYWORD for p in params.values())
        # As Keras: a ``mask`` parameter in ``call`` asks for the mask of the
        # first input (``**kwargs`` does not count).
        cls._call_has_mask = "mask" in params
        # As Keras: a class with its own compute_mask supports masking unless it says otherwise.
        cls._overrides_compute_mask = any("compute_mask" in k.__dict__ for k in cls.__mro__ if k is not Layer and issubclass(k, Layer))
        # Classes written by users (not kerasish's own): their call() output is
        # checked and their constructor arguments recorded for get_config.
        cls._user_class = not cls.__module__.startswith("kerasish.")

    def __new__(cls, *args, **kwargs):
        instance = super().__new__(cls)
        if cls._user_class:
            instance.__dict__["_auto_config"] = _auto_config(cls, args, kwargs)
        return instance

    def __init__(self, *, name=None, dtype=None, trainable=True, activity_regularizer=None, **kwargs):
        nn.Module.__init__(self)
        for key in _KERAS_ONLY_KWARGS:
            if kwargs.get(key):
                raise ValueError(f"{type(self).__name__}: `{key}` is a Keras feature kerasish does not support (got {kwargs[key]!r}).")
            kwargs.pop(key, None)
        unknown = set(kwargs) - _BASE_KWARGS
        if unknown:
            raise ValueError(f"Unrecognized keyword arguments passed to {type(self).__name__}: {sorted(unknown)}")
        if name is not None and (not isinstance(name, str) or not name or "/" in name):
            raise ValueError(f"Invalid layer name {name!r}: a name is a non-empty string without '/'.")
        self.name = name or auto_name(self)
        self._dtype = _dtype_name(dtype)
        self._trainable = bool(trainable)
        self.built = False
        self.training = False  # Keras semantics: inference unless training is asked for
        self._inbound_nodes: list[Node] = []
        self._outbound_nodes: list[Node] = []
        self._variables: list[Variable] = []
        self._torch_module: nn.Module | None = None
        self._activity_losses: list[torch.Tensor] = []
        if activity_regularizer is not None:
            activity_regularizer = regularizers.get(activity_regularizer)
        self.activity_regularizer = activity_regularizer
        # Keras 2 scripts give the first layer of a Sequential its input shape.
        self._batch_input_shape = None
        if kwargs.get("batch_input_shape") is not None:
            self._batch_input_shape = as_shape_tuple(kwargs["batch_input_shape"])
        elif kwargs.get("input_shape") is not None:
            shape = kwargs["input_shape"]
            shape = (shape,) if isinstance(shape, int) else tuple(shape)
            self._batch_input_shape = (kwargs.get("batch_size"),) + as_shape_tuple(shape)
        elif kwargs.get("input_dim") is not None:
            self._batch_input_shape = (kwargs.get("batch_size"), int(kwargs["input_dim"]))

    # ------------------------------------------------------------------
    # Properties Keras users read
    # ------------------------------------------------------------------
    @property
    def dtype(self) -> str:
        return self._dtype

    @property
    def compute_dtype(self) -> str:
        return self._dtype

    @property
    def variable_dtype(self) -> str:
        return self._dtype

    @property
    def trainable(self) -> bool:
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool):
        self._trainable = bool(value)
        for v in self._variables:
            t = v.tensor
            if isinstance(t, nn.Parameter):
                t.requires_grad_(v._trainable and self._trainable)
        for sub in self._sublayers():
            sub.trainable = value

    @property
    def supports_masking(self) -> bool:
        """Whether the layer passes masks on (``compute_mask``); settable, as in Keras.

        Default: True exactly when the class overrides ``compute_mask``. Layers
        that keep the timesteps as they are (Dense, Activation, Dropout, ...)
        set it to True in ``__init__``; see ``docs/sequence_models.md``.
        """
        return self.__dict__.get("_supports_masking", type(self)._overrides_compute_mask)

    @supports_masking.setter
    def supports_masking(self, value):
        self.__dict__["_supports_masking"] = bool(value)

    def compute_mask(self, inputs, mask=None):
        """The mask(s) of the outputs, for ``inputs`` (Keras layout) and their ``mask``.

        The default passes the input mask on (used only when
        ``supports_masking`` is True). Override it to make or change a mask;
        return None for no mask. Masks are boolean tensors, True where a
        timestep counts, e.g. ``(batch, timesteps)`` for sequences.
        """
        return mask

    @property
    def torch_module(self) -> nn.Module:
        """The torch module a model registers for this layer: the native one
        made in ``build`` when there is one, else the layer itself."""
        return self._torch_module if self._torch_module is not None else self

    def _sublayers(self) -> list["Layer"]:
        """Layers tracked as attributes of this one (custom layers, nested models,
        and those in a list attribute, as Keras tracks them)."""
        out = []
        for m in self._modules.values():
            if isinstance(m, Layer):
                out.append(m)
            elif isinstance(m, _LayerList):
                out.extend(x for x in m if isinstance(x, Layer))
        return out

    # ------------------------------------------------------------------
    # Weights
    # ------------------------------------------------------------------
    def _set_torch_module(self, module: nn.Module, attr: str = "module") -> nn.Module:
        """Register the native module that holds this layer's state."""
        # Images run in channels_last memory inside models; 4-D weights in the
        # same format spare the conv kernels a reorder on every call. Volumes'
        # 5-D weights take the 3-D format (torch has no 5-D channels_last).
        five_d = any(p.dim() == 5 for p in module.parameters())
        module.to(memory_format=torch.channels_last_3d if five_d else torch.channels_last)
        # A plain attribute (not a second child entry, which would duplicate the
        # state_dict keys and send every access through nn.Module.__getattr__).
        object.__setattr__(self, "_torch_module", module)
        self.add_module(attr, module)
        return module

    def _track_weight(self, owner, attr, name, *, to_keras=None, from_keras=None, trainable=True, initializer=None, regularizer=None, constraint=None) -> Variable:
        """Expose ``owner.<attr>`` as a Keras weight and initialise it in Keras layout."""
        kwargs = {}
        if to_keras is not None:
            kwargs = {"to_keras": to_keras, "from_keras": from_keras}
        cls = _LayerVariable if owner is self and to_keras is None else Variable
        var = cls(owner, attr, name, f"{self.name}/{name}", trainable=trainable, layer=self, regularizer=regularizer, constraint=constraint, **kwargs)
        if initializer is not None:
            var.assign(initializer(var.shape))
        t = var.tensor
        if isinstance(t, nn.Parameter):
            t.requires_grad_(trainable and self._trainable)
        self._variables.append(var)
        # Keras layers show their weights as attributes (``dense.kernel``,
        # ``bn.moving_mean``). Only where the name is free: never over a user
        # attribute, a class attribute or property, or a registered
        # parameter / buffer / submodule (``add_weight(name="w")``'s own). A
        # plain instance attribute, so torch's state_dict is unchanged.
        if (
            name.isidentifier()
            and not hasattr(type(self), name)
            and name not in self.__dict__
            and name not in self._parameters
            and name not in self._buffers
            and name not in self._modules
        ):
            object.__setattr__(self, name, var)
        return var

    def add_weight(self, shape=None, initializer="glorot_uniform", dtype=None, trainable=True, regularizer=None, constraint=None, name=None, **kwargs):
        """Create a weight registered on this layer: a ``torch.nn.Parameter``
        when trainable, a buffer otherwise. Returns its :class:`Variable`."""
        shape = () if shape is None else as_shape_tuple(shape)
        if any(d is None or d < 0 for d in shape):
            raise ValueError(f"Layer '{self.name}': add_weight needs a fully known, non-negative shape; got {shape}.")
        name = name or f"variable_{len(self._variables)}"
        attr = name
        i = 1
        while hasattr(self, attr) and attr in (*self._parameters, *self._buffers, *self.__dict__):
            attr = f"{name}_{i}"
            i += 1
        init = initializers.get(initializer)
        tensor = torch.zeros(shape, dtype=torch_dtype(dtype or self._dtype))
        if trainable:
            self.register_parameter(attr, nn.Parameter(tensor))
        else:
            self.register_buffer(attr, tensor)
        return self._track_weight(self, attr, name, trainable=trainable, initializer=init, regularizer=regularizers.get(regularizer) if regularizer is not None else None, constraint=constraints.get(constraint))

    @property
    def weights(self) -> list[Variable]:
        return unique_variables([*self._variables, *(v for sub in self._sublayers() for v in sub.weights)])

    variables = weights

    @property
    def trainable_weights(self) -> list[Variable]:
        if not self.trainable:
            return []
        return [v for v in self.weights if v.trainable]

    trainable_variables = trainable_weights

    @property
    def non_trainable_weights(self) -> list[Variable]:
        if not self.trainable:
            return list(self.weights)
        return [v for v in self.weights if not v.trainable]

    non_trainable_variables = non_trainable_weights

    def get_weights(self) -> list[np.ndarray]:
        """The weights as numpy arrays in Keras layout and order."""
        return [v.numpy() for v in self.weights]

    def set_weights(self, weights) -> None:
        """Set the weights from arrays in Keras layout; checks everything first,
        so a mismatch leaves the layer as it was."""
        mine = self.weights
        weights = list(weights)
        if len(weights) != len(mine):
            raise ValueError(
                f"Layer '{self.name}' expects {len(mine)} weights ({[v.name for v in mine]}), but was given {len(weights)}."
            )
        arrays = []
        for v, w in zip(mine, weights):
            a = w.detach().cpu() if isinstance(w, torch.Tensor) else np.asarray(w)
            if a.dtype.is_complex if isinstance(a, torch.Tensor) else a.dtype.kind not in "biuf":
                raise ValueError(f"Layer '{self.name}' weight '{v.name}' is {v.dtype}, but the value given is {a.dtype}.")
            if tuple(a.shape) != v.shape:
                raise ValueError(
                    f"Layer '{self.name}' weight '{v.name}' has shape {v.shape}, but the value given has shape {tuple(a.shape)}."
                )
            arrays.append(a)
        for v, a in zip(mine, arrays):
            v.assign(a)

    def count_params(self) -> int:
        if not self.built:
            raise ValueError(
                f"You tried to call `count_params` on layer '{self.name}', but the layer isn't built. "
                "Call it on an input first (or build it with `layer.build(input_shape)`)."
            )
        return int(sum(math.prod(v.shape) for v in self.weights))

    @property
    def losses(self) -> list[torch.Tensor]:
        """Regularisation losses of this layer's weights plus its activity losses."""
        out = []
        for v in self.weights:
            if v.regularizer is not None:
                out.append(v.regularizer(v.value))
        out.extend(self._activity_losses)
        for sub in self._sublayers():
            out.extend(sub._activity_losses)
        return out

    def add_loss(self, loss) -> None:
        """Add an activity loss computed in ``call`` (cleared at each call)."""
        self._activity_losses.append(loss if isinstance(loss, torch.Tensor) else torch.as_tensor(loss))

    # ------------------------------------------------------------------
    # Life cycle
    # ------------------------------------------------------------------
    def build(self, input_shape) -> None:
        """Create the weights for ``input_shape`` (Keras layout). Default: none."""
        self.built = True

    def _maybe_build(self, input_shape) -> None:
        if not self.built:
            limit = loading_weight_limit()
            if limit is None:
                self.build(input_shape)
            else:  # rebuilding from a file's config: bound each weight before it is allocated
                with WeightLimit(self.name, limit):
                    self.build(input_shape)
            self.built = True
            self._build_shapes = input_shape

    def call(self, inputs, training=None, **kwargs):
        """Compute on channels_last torch tensors (Keras layout)."""
        if type(self)._native_layout:
            x = layout.map_structure(layout.to_internal, inputs)
            y = self.native_call(x, training=bool(training), **kwargs)
            return layout.map_structure(layout.to_keras, y)
        raise NotImplementedError(f"Layer '{self.name}' ({type(self).__name__}) does not implement call().")

    def native_call(self, inputs, *args, training=False, **kwargs):
        """Compute on internal-layout tensors; what models run.

        Built-in layers override this. For user layers the default converts to
        Keras layout, calls ``call`` and converts back; further tensor
        arguments (``layer(targets, logits)``, ``mask=``) are converted too.
        """
        if type(self)._native_layout:
            raise NotImplementedError(f"Layer '{self.name}' ({type(self).__name__}) does not implement native_call().")
        x = layout.map_structure(layout.to_keras, inputs)
        if args:
            args = layout.map_structure(layout.to_keras, args)
        if kwargs:
            kwargs = layout.map_structure(layout.to_keras, kwargs)
        if self._call_has_training:
            kwargs["training"] = training
        self._activity_losses = []
        y = _check_call_output(self, self.call(x, *args, **kwargs))
        if self.__dict__.get("_single_symbolic_output") and not isinstance(y, torch.Tensor):
            raise TypeError(
                f"Layer '{self.name}' ({type(self).__name__}).call() returned a {type(y).__name__}, but its "
                "compute_output_shape() describes a single tensor: return one torch tensor, or make "
                "compute_output_shape() return a list of shapes."
            )
        return layout.map_structure(layout.to_internal, y)

    def compute_output_shape(self, input_shape):
        """Output shape(s) for ``input_shape`` (Keras layout, batch first).

        The default runs ``call`` on meta tensors (no memory, no compute), with
        unknown sizes tried at two values to see which output sizes follow them.
        """
        return self._trace_output_shapes(input_shape)

    def _trace_output_shapes(self, input_shape, call_args=None, call_kwargs=None):
        """Output shape(s) found by running ``call`` on placeholders: for
        ``input_shape``, or for the symbolic ``call_args`` / ``call_kwargs`` of
        a call with several tensor arguments."""
        try:
            return _infer_output_shape_by_tracing(self, input_shape, call_args=call_args, call_kwargs=call_kwargs)
        except Exception as meta_error:
            if not self._user_class:
                raise
            # Some calls (numpy round trips, .item()) cannot run on meta tensors:
            # try small zero tensors on the CPU before giving up.
            try:
                return _infer_output_shape_by_tracing(self, input_shape, on_meta=False, call_args=call_args, call_kwargs=call_kwargs)
            except Exception:
                given = input_shape if call_args is None else _call_arg_shapes(self, call_args, call_kwargs or {})
                raise ValueError(
                    f"Layer '{self.name}' ({type(self).__name__}): the output shape for input shape {given} "
                    f"could not be inferred by running call() on placeholder tensors ({type(meta_error).__name__}: "
                    f"{meta_error}). Override compute_output_shape(input_shape) in {type(self).__name__}."
                ) from meta_error

    def compute_output_spec(self, *args, **kwargs):
        """Symbolic outputs (KerasTensors) of a call on symbolic ``args`` /
        ``kwargs``, without running it on data."""
        out = self._output_shapes_for_call(args, kwargs)
        return _make_keras_tensors(out, "float32")

    def _output_shapes_for_call(self, args, kwargs):
        """Output shape(s) of a call whose tensors may be in several arguments.

        An overridden ``compute_output_shape`` gets the shapes as Keras passes
        them: with one parameter, the first tensor argument's shape; with
        several, each ``<arg>_shape`` by name. The default traces ``call`` on
        placeholders for every tensor argument, each of its KerasTensor's dtype
        (token ids trace as integers, as they will run)."""
        if _overrides(self, "compute_output_shape"):
            if not any_symbolic((args[1:], kwargs)):
                return self.compute_output_shape(_shapes_of(args[0]))
            return _call_with_shapes(self, self.compute_output_shape, _call_arg_shapes(self, args, kwargs))
        return self._trace_output_shapes(None, call_args=args, call_kwargs=kwargs)

    def _build_for_call(self, args, kwargs):
        """Build on a call's tensor arguments: ``build(input_shape)`` gets the
        first one's shape; a ``build`` with several ``<arg>_shape`` parameters
        gets each by name, as in Keras."""
        if self.built:
            return
        if not any_symbolic((args[1:], kwargs)) or not _overrides(self, "build") or len(_shape_params(self.build)) <= 1:
            self._maybe_build(_shapes_of(args[0]))
            return
        _call_with_shapes(self, self.build, _call_arg_shapes(self, args, kwargs))
        self.built = True
        self._build_shapes = None  # rebuilt from the graph when loaded, not from one shape

    # ------------------------------------------------------------------
    # Calling
    # ------------------------------------------------------------------
    def __call__(self, *args, **kwargs):
        if len(args) == 1 and type(args[0]) is torch.Tensor and not kwargs:
            return self._eager_call(args[0])  # the hot path: one tensor, nothing symbolic
        if not args:
            if "inputs" in kwargs:
                args = (kwargs.pop("inputs"),)
            else:
                raise TypeError(f"Layer '{self.name}' was called without inputs.")
        if any_symbolic((args, kwargs)):
            return self._symbolic_call(*args, **kwargs)
        return self._eager_call(*args, **kwargs)

    def _symbolic_call(self, inputs, *args, **kwargs):
        if not self._takes_strings:
            _refuse_strings(self, [t for t in flatten((inputs, args, kwargs)) if isinstance(t, KerasTensor) and t.dtype == STRING])
        in_shapes = _shapes_of(inputs)
        call_kwargs = kwargs
        if type(self)._call_has_mask and kwargs.get("mask") is None:
            # the mask the call will get at run time (masking rule 1), for build and shape inference
            in_masks = masking.masks_of(inputs)
            if masking.any_mask(in_masks):
                call_kwargs = {**kwargs, "mask": in_masks}
        try:
            self._check_input(in_shapes)
            self._build_for_call((inputs,) + args, call_kwargs)
            out_shapes = self._output_shapes_for_call((inputs,) + args, call_kwargs)
        except (ValueError, TypeError):
            raise
        except Exception as e:  # a torch error during inference is the user's shape mistake
            raise ValueError(
                f"Layer '{self.name}' ({type(self).__name__}) cannot take an input of shape {_fmt_shapes(in_shapes)}: {e}"
            ) from e
        flat_in = flatten(inputs)
        dtype = flat_in[0].dtype if isinstance(flat_in[0], KerasTensor) else "float32"
        if self._takes_strings:
            dtype = self._output_dtype()
        elif self._variables or self._sublayers() or type(self)._outputs_own_dtype:
            dtype = self._dtype
        outputs = _make_keras_tensors(out_shapes, dtype)
        prev = masking.previous_mask(self, (inputs,) + args, kwargs)
        if self.supports_masking:
            masking.set_output_masks(outputs, masking.symbolic_masks(self, (inputs,) + args, kwargs, prev))
        else:
            masking.warn_dropped(self, prev)
        if self._user_class:
            self.__dict__["_single_symbolic_output"] = isinstance(outputs, KerasTensor)
        Node(self, (inputs,) + args, kwargs, outputs)
        return outputs

    def _output_dtype(self) -> str:
        """The dtype name of the output of a layer that takes strings (its
        symbolic outputs'); such layers override it."""
        return self._dtype

    def _check_input(self, input_shape) -> None:
        """Raise ValueError naming the layer when ``input_shape`` is unusable.

        Subclasses with rank or size requirements override it; it runs before
        ``build`` on both symbolic and eager calls.
        """

    def _device(self):
        """The device of this layer's state (None if it has none).

        Cached; any move of any kerasish module (``.to()``, ``.cuda()``,
        ``load_state_dict`` all pass through ``_apply`` / ``load_state_dict``)
        starts a new epoch and so invalidates every cache.
        """
        cached = self.__dict__.get("_device_cache")
        if cached is not None and cached[0] == _device_epoch[0]:
            return cached[1]
        device = None
        for t in self.parameters():
            device = t.device
            break
        else:
            for t in self.buffers():
                device = t.device
                break
        self.__dict__["_device_cache"] = (_device_epoch[0], device)
        return device

    def _apply(self, fn, *args, **kwargs):
        _device_epoch[0] += 1
        return super()._apply(fn, *args, **kwargs)

    def load_state_dict(self, *args, **kwargs):
        _device_epoch[0] += 1
        return super().load_state_dict(*args, **kwargs)

    def _eager_call(self, inputs, *args, **kwargs):
        if type(inputs) is not torch.Tensor and not self._takes_strings and is_string_data(inputs):
            _refuse_strings(self, [inputs])
        in_masks = masking.masks_of(inputs)  # before conversion, which may make new tensors
        device = self._device()
        dtype = torch_dtype(self._dtype)

        def convert(x):
            if x is None or isinstance(x, (str, bool)):
                return x
            t = _to_tensor(x, dtype)  # Keras casts floating inputs to the compute dtype
            return t.to(device) if device is not None and t.device != device else t

        try:
            inputs = _convert_leaves(convert, inputs)
        except TypeError:
            _refuse_strings(self, [x for x in flatten(inputs) if is_string_data(x)])
            raise
        if args or kwargs:
            # Further tensor arguments (``layer(targets, logits)``, ``mask=``)
            # as the first: arrays to tensors on the layer's device; other values as given.
            def convert_array(x):
                return convert(x) if isinstance(x, (np.ndarray, torch.Tensor)) else x

            args = _convert_leaves(convert_array, args)
            kwargs = {k: v if k == "training" else _convert_leaves(convert_array, v) for k, v in kwargs.items()}
        in_shapes = _shapes_of(inputs)
        self._check_input(in_shapes)
        if not self.built:
            self._maybe_build(in_shapes)
        training = kwargs.pop("training", None)
        if training is None:
            training = self.training
        self._activity_losses = []
        if self._call_has_training:
            kwargs["training"] = training
        if type(self)._call_has_mask and kwargs.get("mask") is None and masking.any_mask(in_masks):
            kwargs["mask"] = in_masks
        out = self.call(inputs, *args, **kwargs)
        if self._user_class:
            out = _check_call_output(self, out)
        prev = kwargs.get("mask")
        if prev is None:
            prev = in_masks
        if self.supports_masking:
            # no mask in and the default compute_mask: no mask out, nothing to do
            if (type(self)._overrides_compute_mask or masking.any_mask(prev)) and not all(
                    masking.get_mask(t) is not None for t in flatten(out)):
                masking.set_output_masks(out, masking.compute_masks(self, inputs, prev, internal=False))
        else:
            masking.warn_dropped(self, prev)
        if self.activity_regularizer is not None:
            for t in flatten(out):
                self._activity_losses.append(self.activity_regularizer(t) / max(t.shape[0], 1))
        return out

    # torch's own entry point: a layer used as a torch module behaves like call().
    def forward(self, *args, **kwargs):
        return self.call(*args, **kwargs)

    # ------------------------------------------------------------------
    # Graph introspection
    # ------------------------------------------------------------------
    def _single_node(self, what):
        if not self._inbound_nodes:
            raise AttributeError(f"Layer '{self.name}' has never been called and thus has no defined {what}.")
        if len(self._inbound_nodes) > 1 and what in ("input", "output"):
            raise AttributeError(
                f"Layer '{self.name}' has multiple inbound nodes; use get_{what}_at(node_index) instead."
            )
        return self._inbound_nodes[0]

    @property
    def input(self):
        node = self._single_node("input")
        return node.call_args[0]

    @property
    def output(self):
        return self._single_node("output").outputs

    def get_input_at(self, node_index):
        return self._inbound_nodes[node_index].call_args[0]

    def get_output_at(self, node_index):
        return self._inbound_nodes[node_index].outputs

    @property
    def input_shape(self):
        return _shapes_of(self.input)

    @property
    def output_shape(self):
        return _shapes_of(self.output)

    # ------------------------------------------------------------------
    # Config
    # ------------------------------------------------------------------
    def get_config(self) -> dict:
        config = {
            "name": self.name,
            "trainable": self.trainable,
            "dtype": {"module": "keras", "class_name": "DTypePolicy", "config": {"name": self._dtype}, "registered_name": None},
        }
        if self._batch_input_shape is not None:
            config["batch_input_shape"] = list(self._batch_input_shape)
        if self.activity_regularizer is not None:
            config["activity_regularizer"] = regularizers.serialize(self.activity_regularizer)
        if self._user_class and _get_config_is_default(self):
            # As Keras: a user class without its own get_config is configured
            # by the (plain JSON) arguments its constructor was given.
            auto = self.__dict__.get("_auto_config")
            if auto is None:
                raise NotImplementedError(
                    f"Object {type(self).__name__} was created by passing non-serializable argument values "
                    "(or positional-only / *args arguments) in `__init__()`, and therefore the object must "
                    f"override `get_config()` in order to be serializable. Please implement "
                    f"`{type(self).__name__}.get_config()` returning those arguments, e.g. "
                    "`return {**super().get_config(), \"units\": self.units}`."
                )
            config.update(auto)
        return config

    @classmethod
    def from_config(cls, config: dict):
        config = dict(config)
        if "batch_shape" in config and "batch_input_shape" not in config and cls.__name__ != "InputLayer":
            config["batch_input_shape"] = config.pop("batch_shape")
        if getattr(cls, "_user_class", False):
            # A user __init__ without **kwargs cannot take the base keys
            # (name, trainable, dtype): set those after construction.
            params = inspect.signature(cls.__init__).parameters
            if not any(p.kind == p.VAR_KEYWORD for p in params.values()):
                rest = {k: config.pop(k) for k in list(config) if k not in params}
                layer = cls(**config)
                if isinstance(rest.get("name"), str) and rest["name"]:
                    layer.name = rest["name"]
                if "trainable" in rest:
                    layer.trainable = bool(rest["trainable"])
                return layer
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"

    # nn.Module's repr machinery calls extra_repr; keep torch's print readable.
    def extra_repr(self) -> str:
        return f"name={self.name!r}"

    def __setattr__(self, name, value):
        # ``self.kernel = self.add_weight(name="kernel")``: the tensor is already
        # registered under that name; keep the Variable as a plain attribute.
        if isinstance(value, Variable) and (name in self._parameters or name in self._buffers):
            object.__setattr__(self, name, value)
            return
        # Keras tracks lists of layers assigned as attributes; torch only tracks
        # modules. Wrap a plain list of layers so its weights are seen.
        if isinstance(value, list) and value and all(isinstance(v, Layer) for v in value) and not name.startswith("_"):
            value = _LayerList(value)
        super().__setattr__(name, value)
        # Plain torch inside a user layer (``self.conv = nn.Conv2d(...)`` or
        # ``self.w = nn.Parameter(...)``): its tensors become Keras weights too,
        # so fit trains them, count_params counts them and files save them.
        if not type(self)._native_layout and not name.startswith("_") and "_variables" in self.__dict__:
            if isinstance(value, nn.Parameter):
                self._track_raw(self, name, name, trainable=True)
            elif isinstance(value, nn.Module) and not isinstance(value, Layer):
                for module_name, module in value.named_modules():
                    prefix = f"{name}.{module_name}" if module_name else name
                    for pname, p in module.named_parameters(recurse=False):
                        self._track_raw(module, pname, f"{prefix}.{pname}", trainable=True)
                    for bname, b in module.named_buffers(recurse=False):
                        if b is not None and b.is_floating_point():
                            self._track_raw(module, bname, f"{prefix}.{bname}", trainable=False)

    def _track_raw(self, owner, attr, name, trainable):
        tensor = getattr(owner, attr)
        if any(v.tensor is tensor for v in self._variables):
            return
        self._variables.append(Variable(owner, attr, name, f"{self.name}/{name}", trainable=trainable, layer=self))


_JSON_TYPES = (str, int, float, bool, type(None))


def unique_variables(variables) -> list:
    """``variables`` without repeats (a weight shared by two layers counts once), in first-seen order."""
    out, seen = [], set()
    for v in variables:
        if id(v) not in seen:
            seen.add(id(v))
            out.append(v)
    return out


def _auto_config(cls, args, kwargs):
    """The constructor arguments of a user layer, when all are plain JSON
    values (Keras's automatic config); None otherwise."""
    try:
        sig = inspect.signature(cls.__init__)
        bound = sig.bind(None, *args, **kwargs)
    except (TypeError, ValueError):
        return None
    params = list(sig.parameters.values())
    if any(p.kind in (p.POSITIONAL_ONLY, p.VAR_POSITIONAL) for p in params[1:]):
        if any(p.kind == p.POSITIONAL_ONLY for p in params[1:]) or bound.arguments.get(next(p.name for p in params if p.kind == p.VAR_POSITIONAL)):
            return None
    bound.apply_defaults()
    out = dict(bound.arguments)
    out.pop(params[0].name, None)
    for p in params[1:]:
        if p.kind == p.VAR_KEYWORD:
            out.update(out.pop(p.name, {}))
        elif p.kind == p.VAR_POSITIONAL:
            out.pop(p.name, None)
    out.pop("name", None)

    def plain(v):
        if isinstance(v, (list, tuple)):
            return all(plain(x) for x in v)
        if isinstance(v, dict):
            return all(isinstance(k, str) and plain(x) for k, x in v.items())
        return isinstance(v, _JSON_TYPES)

    return out if plain(out) else None


def _get_config_is_default(layer) -> bool:
    """Whether the class's get_config is kerasish's (not written by the user)."""
    for klass in type(layer).__mro__:
        if "get_config" in klass.__dict__:
            return klass.__module__ in ("kerasish.engine.layer", "kerasish.models.model")
    return True


def _check_call_output(layer, out):
    """A user call()'s output: torch tensors (Variables become their value) in
    lists / tuples / dicts; anything else is a TypeError naming the layer."""
    if isinstance(out, torch.Tensor):
        return out
    if isinstance(out, Variable):
        return out.value
    if out is None:
        return out
    if isinstance(out, (list, tuple)):
        return type(out)(_check_call_output(layer, o) for o in out)
    if isinstance(out, dict):
        return {k: _check_call_output(layer, o) for k, o in out.items()}
    hint = " (convert with torch.as_tensor, or compute with torch ops)" if isinstance(out, (np.ndarray, np.generic, int, float)) else ""
    raise TypeError(
        f"Layer '{layer.name}' ({type(layer).__name__}).call() must return torch tensors "
        f"(or lists / tuples / dicts of them), but it returned a {type(out).__module__}.{type(out).__name__}{hint}."
    )


class _LayerVariable(Variable):
    """A weight made by ``add_weight``: a :class:`Variable` that torch functions
    also take in place of its tensor (``torch.matmul(inputs, self.w)``), as
    Keras's backend ops take a Keras variable."""

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        def unwrap(a):
            return a.value if isinstance(a, Variable) else a

        return func(*tree.map_structure(unwrap, args), **tree.map_structure(unwrap, kwargs or {}))


class _LayerList(nn.ModuleList):
    """A list of layers assigned as an attribute (Keras tracks these)."""


def _convert_leaves(fn, struct):
    """Apply ``fn`` to every leaf (array, tensor, number, None) of a nested structure."""
    return tree.map_structure(fn, struct)


def _shapes_of(struct):
    if isinstance(struct, (KerasTensor, torch.Tensor, np.ndarray, Variable)):
        return tuple(struct.shape)
    if isinstance(struct, (list, tuple)):
        return [(_shapes_of(s)) for s in struct]
    if isinstance(struct, dict):
        return {k: _shapes_of(v) for k, v in struct.items()}
    return None


def _fmt_shapes(shapes):
    return str(shapes)


def _is_shape_tuple(s) -> bool:
    return isinstance(s, tuple) and all(d is None or isinstance(d, (int, np.integer)) for d in s)


def _make_keras_tensors(shapes, dtype):
    if _is_shape_tuple(shapes):
        return KerasTensor(shapes, dtype=dtype)
    if isinstance(shapes, dict):
        return {k: _make_keras_tensors(v, dtype) for k, v in shapes.items()}
    return [_make_keras_tensors(s, dtype) for s in shapes]


# Unknown sizes are tried at two values; an output size that moves with them is unknown.
_PROBE_SIZES = (83, 89)


def _infer_output_shape_by_tracing(layer: Layer, input_shape, on_meta: bool = True, probes=_PROBE_SIZES, call_args=None, call_kwargs=None):
    """Output shape(s) found by running ``layer.call`` on placeholder tensors.

    On meta tensors (no memory, no compute) by default; ``on_meta=False`` runs
    on small zero CPU tensors, for functions the meta device cannot trace.
    Each unknown size is tried at two values; output sizes that follow are unknown.

    Args:
        input_shape: the first argument's shape(s), when the call has one tensor argument.
        call_args / call_kwargs: instead, a call's arguments with KerasTensors
            where its tensors go (several tensor arguments, ``mask=``); each
            placeholder takes its KerasTensor's dtype.
    """

    def placeholder(shape, probe, dtype=torch.float32):
        size = tuple(probe if d is None else d for d in shape)
        return torch.empty(size, device="meta", dtype=dtype) if on_meta else torch.zeros(size, dtype=dtype)

    def fill(shapes, probe):
        if _is_shape_tuple(shapes):
            return placeholder(shapes, probe)
        if isinstance(shapes, dict):
            return {k: fill(v, probe) for k, v in shapes.items()}
        return [fill(s, probe) for s in shapes]

    def fill_symbolic(struct, probe):
        if isinstance(struct, KerasTensor):
            return placeholder(struct.shape, probe, torch_dtype(struct.dtype))
        if isinstance(struct, (list, tuple)):
            return type(struct)(fill_symbolic(s, probe) for s in struct)
        if isinstance(struct, dict):
            return {k: fill_symbolic(v, probe) for k, v in struct.items()}
        return struct

    results = []
    losses = layer._activity_losses  # add_loss() while tracing must not count
    try:
        for probe in probes:
            if call_args is None:
                args, kwargs = (fill(input_shape, probe),), {}
            else:
                args, kwargs = fill_symbolic(tuple(call_args), probe), fill_symbolic(dict(call_kwargs or {}), probe)
            with torch.no_grad():
                if on_meta:
                    y = _call_on_meta(layer, args[0], args[1:], kwargs)
                else:
                    if layer._call_has_training:
                        kwargs = {**kwargs, "training": False}
                    y = layer.call(*args, **kwargs)
            results.append(_shapes_of(y))
    finally:
        layer._activity_losses = losses

    def merge(a, b):
        if _is_shape_tuple(a):
            return tuple(da if da == db else None for da, db in zip(a, b))
        if isinstance(a, dict):
            return {k: merge(a[k], b[k]) for k in a}
        return [merge(x, y) for x, y in zip(a, b)]

    return merge(*results)


def _call_on_meta(layer: Layer, x, args=(), kwargs=None):
    """Run the layer's Keras-layout call on meta tensors, weights moved to meta too."""
    state = dict(layer.named_parameters())
    state.update(layer.named_buffers())
    meta = {k: torch.empty(v.shape, device="meta", dtype=v.dtype) for k, v in state.items()}
    kwargs = dict(kwargs or {})
    if layer._call_has_training:
        kwargs["training"] = False
    return torch.func.functional_call(layer, meta, (x, *args), kwargs, strict=False)


def _overrides(layer, method: str) -> bool:
    """Whether ``layer``'s class overrides the base Layer's ``method``."""
    for klass in type(layer).__mro__:
        if method in klass.__dict__:
            return klass is not Layer
    return False


def _shape_params(fn) -> list:
    """The named parameters of ``build`` / ``compute_output_shape``."""
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    try:
        return [p.name for p in inspect.signature(fn).parameters.values() if p.kind in kinds]
    except (TypeError, ValueError):
        return ["input_shape"]


def _call_arg_shapes(layer, args, kwargs) -> dict:
    """``{"<arg>_shape": shape}`` for each tensor argument of a call, in the
    order of ``call``'s signature (Keras's shapes dict; masks left out)."""
    try:
        bound = inspect.signature(layer.call).bind(*args, **kwargs).arguments
        params = inspect.signature(layer.call).parameters
    except (TypeError, ValueError):
        bound, params = {f"arg{i}": a for i, a in enumerate(args)}, {}
    shapes = {}
    for name, value in bound.items():
        kind = params[name].kind if name in params else None
        if kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD):
            continue
        if name == "mask" or name.endswith("_mask") or not any_symbolic(value):
            continue
        shapes[f"{name}_shape"] = _shapes_of(value)
    return shapes


def _call_with_shapes(layer, fn, shapes: dict):
    """Call ``build`` / ``compute_output_shape`` as Keras does for a call with
    several tensor arguments: one parameter takes the first shape; several
    take the shapes by name (``build(self, query_shape, value_shape)``)."""
    names = _shape_params(fn)
    if len(names) <= 1:
        return fn(next(iter(shapes.values()), None))
    bad = [n for n in names if not n.endswith("_shape")]
    if bad:
        raise ValueError(
            f"Layer '{layer.name}' ({type(layer).__name__}): for a `{fn.__name__}()` method with more than one argument, "
            f"all arguments should have a `_shape` suffix and match an argument of `call()`, e.g. "
            f"`{fn.__name__}(self, foo_shape, bar_shape)`; got {bad}."
        )
    return fn(**{n: shapes[n] for n in names if n in shapes})
