"""One call that checks a layer class, as Keras's ``TestCase.run_layer_test``.

``run_layer_test(Conv2D, {"filters": 4, "kernel_size": 3}, input_shape=(2, 8, 8, 3),
expected_output_shape=(2, 6, 6, 4), expected_num_trainable_weights=2)`` checks, each on
a fresh layer:

- the config round trip: ``from_config(get_config())`` gives the same config, before
  and after the layer is built, and the clone computes the same output on the same weights;
- the symbolic call (on ``Input``) and ``compute_output_shape``;
- the eager call: output shape, dtype and values (``expected_output``), the number of
  trainable / non-trainable weights and of losses, ``supports_masking``;
- the layer inside a functional model, where rank-4 tensors run in torch's channels-first
  layout: same output as the eager call;
- a training step, on a copy of the layer with the same weights (the layer returned
  keeps its own): gradients of a loss on the model's output, in training mode, reach
  every trainable weight and are finite, then one SGD step leaves the weights finite;
- optionally, parity with Keras 3's layer of the same name on the same weights:
  output values, ``compute_output_shape``, weight shapes, parameter count and config.

A random layer is checked in one of its deterministic cases (inference, a degenerate
factor range), or with ``seeded=True``: its draws come from the ``seed`` in its
arguments, and each comparison is between the first calls of fresh layers, so equal
seeds (the clone's, read from the config) must give equal draws.

Keras is only the test oracle: it is imported when parity is asked for, never by
kerasish itself (the module may also be passed in as ``keras_module``).
"""

from __future__ import annotations

import importlib
import inspect
import math
import os
from dataclasses import dataclass, field

import numpy as np
import torch

from kerasish.models.model import Model
from kerasish.layers.core.input_layer import Input
from kerasish.saving.object_registration import custom_object_scope

F32_EPS = float(np.finfo(np.float32).eps)


def float32_tol(terms=1, depth=1):
    """Relative tolerance between two float32 computations of the same math.

    Rounding of an accumulation of ``terms`` products grows as ``sqrt(terms)`` units
    in the last place, and ``depth`` chained accumulations add up; a factor 16 covers
    the kernels of any x86 CPU while staying far below what a real bug changes.

    Args:
        terms: length of the longest accumulation behind one value.
        depth: how many such accumulations are chained.
    """
    return 16 * F32_EPS * math.sqrt(max(terms, 1) * max(depth, 1))


def _to_numpy(x):
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    if hasattr(x, "numpy"):
        return np.asarray(x.numpy())
    return np.asarray(x)


def assert_close_f32(actual, expected, terms=1, depth=1, scale=None, err_msg=""):
    """Compare float32 results with :func:`float32_tol`, relative to magnitude.

    Args:
        actual: what the code under test computed.
        expected: the reference.
        terms: see :func:`float32_tol`.
        depth: see :func:`float32_tol`.
        scale: magnitude the absolute part of the tolerance is relative to
            (default: the largest finite ``|expected|``), since a sum's rounding
            follows the size of its terms, not of the result.
        err_msg: shown on failure.
    """
    actual = np.asarray(_to_numpy(actual), dtype=np.float64)
    expected = np.asarray(_to_numpy(expected), dtype=np.float64)
    rtol = float32_tol(terms, depth)
    if scale is None:
        finite = np.abs(expected[np.isfinite(expected)])
        scale = float(finite.max()) if finite.size else 0.0
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=rtol * scale, err_msg=err_msg)


@dataclass
class LayerTestResult:
    """What :func:`run_layer_test` computed, for further checks by the caller.

    Args:
        layer: the layer called eagerly (built, with Keras's weights when parity ran).
        output: its eager output on the input data.
        input_data: the input data used.
        keras_layer: Keras's layer, when parity ran.
        keras_output: Keras's output as numpy, when parity ran.
    """

    layer: object
    output: object
    input_data: object
    keras_layer: object = None
    keras_output: object = None
    checks: list = field(default_factory=list)


def _is_multi(shape_or_data):
    return isinstance(shape_or_data, (list, tuple)) and len(shape_or_data) > 0 and not isinstance(shape_or_data[0], (int, type(None)))


def _as_list(x):
    return list(x) if isinstance(x, (list, tuple)) else [x]


def _dtype_name(dtype):
    return str(dtype).replace("torch.", "")


def _make_input_data(input_shape, input_dtype, seed):
    rng = np.random.default_rng(seed)
    shapes = input_shape if _is_multi(input_shape) else [input_shape]
    dtypes = input_dtype if isinstance(input_dtype, (list, tuple)) else [input_dtype] * len(shapes)
    arrays = []
    for shape, dtype in zip(shapes, dtypes):
        if any(d is None for d in shape):
            raise ValueError(f"run_layer_test: input_shape {tuple(shape)} must have every size (the batch too) to make data.")
        dtype = np.dtype(dtype or "float32")
        if dtype.kind == "f":
            arrays.append(rng.standard_normal(shape).astype(dtype))
        elif dtype.kind == "b":
            arrays.append(rng.random(shape) > 0.5)
        else:
            high = 256 if dtype == np.uint8 else 10
            arrays.append(rng.integers(0, high, size=shape).astype(dtype))
    return arrays if _is_multi(input_shape) else arrays[0]


def _pack(values, multi):
    return list(values) if multi else values[0]


def _plain(v):
    """A config value as comparable plain data (arrays and tuples become lists)."""
    if isinstance(v, (list, tuple)):
        return [_plain(a) for a in v]
    if isinstance(v, dict):
        return {k: _plain(a) for k, a in v.items()}
    if isinstance(v, (np.ndarray, torch.Tensor)):
        return _to_numpy(v).tolist()
    if isinstance(v, np.generic):
        return v.item()
    return v


def _assert_same_config(got, expected, what):
    got, expected = _plain(got), _plain(expected)
    if got != expected:
        diff = sorted(k for k in set(got) | set(expected) if got.get(k, "<missing>") != expected.get(k, "<missing>"))
        raise AssertionError(f"{what}: configs differ in {diff}: {[(k, got.get(k), expected.get(k)) for k in diff]}")


def _check_shape(what, got, expected):
    got, expected = tuple(got), tuple(expected)
    if got != expected:
        raise AssertionError(f"{what}: output shape {got}, expected {expected}")


def _flat_outputs(out):
    return [o for o in _as_list(out)]


def run_layer_test(
    layer_cls,
    init_kwargs=None,
    input_shape=None,
    input_dtype=None,
    input_data=None,
    call_kwargs=None,
    expected_output_shape=None,
    expected_output_dtype=None,
    expected_output=None,
    expected_num_trainable_weights=None,
    expected_num_non_trainable_weights=None,
    expected_num_losses=None,
    supports_masking=None,
    weights=None,
    custom_objects=None,
    run_config_check=True,
    run_symbolic_check=True,
    run_model_check=True,
    run_training_check=True,
    keras_parity=False,
    keras_module=None,
    keras_layer_name=None,
    keras_init_kwargs=None,
    keras_config_parity=True,
    keras_config_extra_keys=(),
    seeded=False,
    terms=None,
    depth=1,
    atol=None,
    rtol=None,
    seed=0,
):
    """Run the standard checks on a layer class; raise ``AssertionError`` on the first failure.

    Args:
        layer_cls: the layer class.
        init_kwargs: the constructor's arguments (a fresh layer is made for each check).
        input_shape: the input's shape with its batch size, or a list of shapes for a
            layer taking several inputs; data are drawn from it when ``input_data`` is not given.
        input_dtype: the dtype of the drawn data (default float32), or one per input.
        input_data: the input (an array or tensor, or a list of them for several inputs);
            its shape replaces ``input_shape``.
        call_kwargs: extra arguments of the call (``training``, ...).
        expected_output_shape: the output shape with the batch size (list for several outputs).
        expected_output_dtype: e.g. ``"float32"``.
        expected_output: expected values of the eager output (float32 tolerance).
        expected_num_trainable_weights: ``len(layer.trainable_weights)`` once built.
        expected_num_non_trainable_weights: ``len(layer.non_trainable_weights)`` once built.
        expected_num_losses: ``len(layer.losses)`` after the eager call.
        supports_masking: expected ``layer.supports_masking`` (absent counts as False).
        weights: values (Keras layout and order) set on the layer once built, and on
            Keras's with parity, so the checks do not run on the initial ones only; a
            list of arrays, or a function from the list of weight shapes to one.
        custom_objects: name -> class or function for ``from_config``: active as a
            ``custom_object_scope`` (names inside the config, such as a custom
            activation, resolve), and passed to a ``from_config`` that takes them.
        run_config_check: check the config round trip.
        run_symbolic_check: check the call on ``Input`` and ``compute_output_shape``.
        run_model_check: check the layer in a functional model, and the clone made from its
            config, give the eager output (turn off for layers whose call is random).
        run_training_check: check gradients reach every trainable weight and one SGD step.
        keras_parity: compare with Keras 3's layer of the same name on the same weights;
            Keras's output shapes and dtype are then the expected ones unless given.
        keras_module: the ``keras`` module to compare with (default: imported lazily).
        keras_layer_name: the Keras class name when it differs from ``layer_cls.__name__``.
        keras_init_kwargs: Keras's constructor arguments when they differ (e.g. Keras's
            own regularizer objects); default ``init_kwargs``.
        keras_config_parity: with parity, also compare the configs (``name`` and ``dtype`` aside).
        keras_config_extra_keys: keys our config may have and Keras's not.
        seeded: the call draws random numbers from the ``seed`` in ``init_kwargs``
            (an augmentation layer in training mode): each layer compared (the
            eager one, the clone from its config, the one in a functional model)
            is built and given its weights before its first call, and that first
            call is compared, so the check is that equal seeds give equal draws.
            The layer's symbolic call must not draw (a layer without
            ``compute_output_shape`` is traced on it). Not with ``keras_parity``:
            Keras draws other numbers.
        terms: the longest accumulation behind one output value, for the float32
            tolerance (default: one sample's size, an upper bound for per-sample layers).
        depth: chained accumulations, for the float32 tolerance.
        atol: absolute tolerance instead of the float32 one (with ``rtol``).
        rtol: relative tolerance instead of the float32 one.
        seed: seed of the drawn input data.

    Returns:
        A :class:`LayerTestResult` with the eager layer and output (and Keras's, with parity).

    Example:
        >>> from kerasish.layers import Dense
        >>> result = run_layer_test(Dense, {"units": 3}, input_shape=(2, 4), expected_output_shape=(2, 3),
        ...                         expected_num_trainable_weights=2, expected_num_non_trainable_weights=0)
        >>> result.checks
        ['config', 'symbolic', 'eager', 'model', 'training']
    """
    init_kwargs = dict(init_kwargs or {})
    call_kwargs = dict(call_kwargs or {})
    name = layer_cls.__name__
    if seeded and keras_parity:
        raise ValueError(f"run_layer_test({name}): `seeded` and `keras_parity` do not go together (Keras draws other numbers); "
                         "compare with Keras in a deterministic case instead.")
    if input_data is None:
        if input_shape is None:
            raise ValueError(f"run_layer_test({name}): give input_shape or input_data.")
        input_data = _make_input_data(input_shape, input_dtype, seed)
    multi = _is_multi(input_data) if isinstance(input_data, (list, tuple)) else False
    arrays = [np.asarray(_to_numpy(a)) for a in _as_list(input_data)] if multi else [np.asarray(_to_numpy(input_data))]
    shapes = [tuple(a.shape) for a in arrays]
    expected_shapes = None
    if expected_output_shape is not None:
        expected_shapes = [tuple(s) for s in expected_output_shape] if _is_multi(expected_output_shape) else [tuple(expected_output_shape)]

    resolved = []

    def resolve_weights(shapes):
        # A function of the shapes is called once: both libraries get the same values.
        if not resolved:
            resolved.append([np.asarray(w) for w in (weights(shapes) if callable(weights) else weights)])
        return resolved[0]

    if keras_parity:
        # Keras's layer runs first: its output shapes and dtypes are the
        # expected ones when the caller gives none.
        keras = keras_module
        if keras is None:
            # Keras is an optional test oracle: imported here only, on its torch
            # backend, so kerasish and its test utilities never need it otherwise.
            os.environ.setdefault("KERAS_BACKEND", "torch")
            keras = importlib.import_module("keras")
        kcls = getattr(keras.layers, keras_layer_name or name)
        kr = kcls(**(init_kwargs if keras_init_kwargs is None else keras_init_kwargs))
        k_out = kr(_pack([a.copy() for a in arrays], multi), **call_kwargs)
        if weights is not None:
            kr.set_weights(resolve_weights([tuple(w.shape) for w in kr.weights]))
            k_out = kr(_pack([a.copy() for a in arrays], multi), **call_kwargs)
        k_outs = [np.asarray(keras.ops.convert_to_numpy(o)) for o in _as_list(k_out)]
        if expected_shapes is None:
            expected_shapes = [tuple(o.shape) for o in k_outs]
        if expected_output_dtype is None and len({o.dtype for o in k_outs}) == 1:
            expected_output_dtype = str(k_outs[0].dtype)

    def tensors(requires_grad=False):
        out = []
        for a in arrays:
            t = torch.as_tensor(a.copy())
            if requires_grad and t.is_floating_point():
                t.requires_grad_(True)
            out.append(t)
        return out

    def compare(got, expected, what):
        got, expected = _to_numpy(got), _to_numpy(expected)
        _check_shape(what, got.shape, expected.shape)
        if atol is not None or rtol is not None:
            np.testing.assert_allclose(got, expected, atol=atol or 0.0, rtol=rtol or 0.0, err_msg=what)
        elif np.issubdtype(expected.dtype, np.floating):
            sample = max(int(np.prod(s[1:])) for s in shapes) if shapes and len(shapes[0]) > 1 else 1
            assert_close_f32(got, expected, terms=sample if terms is None else terms, depth=depth, err_msg=what)
        else:
            np.testing.assert_array_equal(got, expected, err_msg=what)

    def first_output(lyr, values=None):
        """``lyr``'s output on the data, with the weights ``values(lyr)`` set
        when given. Unseeded: call (building it), set, call again. Seeded: build,
        set, then call once, so the output is the layer's first draw."""
        if seeded:
            lyr._maybe_build(_pack(shapes, multi))
            if values is not None:
                lyr.set_weights(values(lyr))
            return lyr(_pack(tensors(), multi), **call_kwargs)
        out = lyr(_pack(tensors(), multi), **call_kwargs)
        if values is not None:
            lyr.set_weights(values(lyr))
            out = lyr(_pack(tensors(), multi), **call_kwargs)
        return out

    def resolved_for(lyr):
        return resolve_weights([tuple(w.shape) for w in lyr.weights])

    def from_config(config):
        if custom_objects is None:
            return layer_cls.from_config(config)
        with custom_object_scope(custom_objects):
            if "custom_objects" in inspect.signature(layer_cls.from_config).parameters:
                return layer_cls.from_config(config, custom_objects=custom_objects)
            return layer_cls.from_config(config)

    result_checks = []

    # -- config round trip -------------------------------------------------
    if run_config_check:
        layer = layer_cls(**init_kwargs)
        config = layer.get_config()
        _assert_same_config(from_config(config).get_config(), config, f"{name}.from_config(get_config()) round trip")
        # Building may normalise the config (Keras's LayerNormalization turns
        # axis=-1 into [-1]); the built layer's config must round trip too.
        built_out = _flat_outputs(first_output(layer, resolved_for if weights is not None else None))
        built_config = layer.get_config()
        clone = from_config(built_config)
        _assert_same_config(clone.get_config(), built_config, f"{name} built: config round trip")
        if run_model_check:
            # A config that forgets an argument round trips to itself; the clone
            # computing something else (on the same weights) shows it.
            for o, e in zip(_flat_outputs(first_output(clone, lambda _: layer.get_weights())), built_out):
                compare(o, e, f"{name}.from_config(get_config()) round trip: the clone's output")
        result_checks.append("config")

    # -- symbolic call and compute_output_shape ------------------------------
    if run_symbolic_check:
        layer = layer_cls(**init_kwargs)
        inputs = [Input(shape=s[1:], dtype=str(a.dtype)) for s, a in zip(shapes, arrays)]
        sym = _flat_outputs(layer(_pack(inputs, multi), **call_kwargs))
        if expected_shapes is not None:
            if len(sym) != len(expected_shapes):
                raise AssertionError(f"{name}: symbolic call gave {len(sym)} outputs, expected {len(expected_shapes)}")
            for kt, exp in zip(sym, expected_shapes):
                _check_shape(f"{name} symbolic call", kt.shape, (None,) + exp[1:])
            computed = layer.compute_output_shape(_pack([tuple(s) for s in shapes], multi))
            computed = computed if _is_multi(computed) else [computed]
            for got, exp in zip(computed, expected_shapes):
                _check_shape(f"{name}.compute_output_shape({_pack(shapes, multi)})", got, exp)
            computed_none = layer.compute_output_shape(_pack([(None,) + s[1:] for s in shapes], multi))
            computed_none = computed_none if _is_multi(computed_none) else [computed_none]
            for got, exp in zip(computed_none, expected_shapes):
                _check_shape(f"{name}.compute_output_shape with an unknown batch", got, (None,) + exp[1:])
        if expected_output_dtype is not None:
            for kt in sym:
                if _dtype_name(kt.dtype) != _dtype_name(expected_output_dtype):
                    raise AssertionError(f"{name} symbolic call: dtype {kt.dtype}, expected {expected_output_dtype}")
        result_checks.append("symbolic")

    # -- eager call -----------------------------------------------------------
    layer = layer_cls(**init_kwargs)
    output = first_output(layer, resolved_for if weights is not None else None)
    outs = _flat_outputs(output)
    if expected_shapes is not None:
        if len(outs) != len(expected_shapes):
            raise AssertionError(f"{name}: eager call gave {len(outs)} outputs, expected {len(expected_shapes)}")
        for o, exp in zip(outs, expected_shapes):
            _check_shape(f"{name} eager call", o.shape, exp)
    if expected_output_dtype is not None:
        for o in outs:
            if _dtype_name(o.dtype) != _dtype_name(expected_output_dtype):
                raise AssertionError(f"{name} eager call: dtype {_dtype_name(o.dtype)}, expected {expected_output_dtype}")
    if expected_output is not None:
        for o, e in zip(outs, expected_output if isinstance(output, (list, tuple)) else [expected_output]):
            compare(o, e, f"{name} eager output vs expected_output")
    if expected_num_trainable_weights is not None and len(layer.trainable_weights) != expected_num_trainable_weights:
        raise AssertionError(
            f"{name}: {len(layer.trainable_weights)} trainable weights {[w.name for w in layer.trainable_weights]}, "
            f"expected {expected_num_trainable_weights}"
        )
    if expected_num_non_trainable_weights is not None and len(layer.non_trainable_weights) != expected_num_non_trainable_weights:
        raise AssertionError(
            f"{name}: {len(layer.non_trainable_weights)} non-trainable weights {[w.name for w in layer.non_trainable_weights]}, "
            f"expected {expected_num_non_trainable_weights}"
        )
    if expected_num_losses is not None and len(layer.losses) != expected_num_losses:
        raise AssertionError(f"{name}: {len(layer.losses)} losses after the call, expected {expected_num_losses}")
    if supports_masking is not None and bool(getattr(layer, "supports_masking", False)) != supports_masking:
        raise AssertionError(f"{name}: supports_masking is {getattr(layer, 'supports_masking', False)}, expected {supports_masking}")
    result_checks.append("eager")
    result = LayerTestResult(layer=layer, output=output, input_data=_pack(arrays, multi), checks=result_checks)

    # -- parity with Keras 3 --------------------------------------------------
    if keras_parity:
        k_weights = [np.asarray(keras.ops.convert_to_numpy(w)) for w in kr.get_weights()]
        our_shapes = [tuple(w.shape) for w in layer.weights]
        their_shapes = [tuple(w.shape) for w in k_weights]
        if our_shapes != their_shapes:
            raise AssertionError(f"{name}: weight shapes {our_shapes}, Keras's {their_shapes}")
        if layer.count_params() != kr.count_params():
            raise AssertionError(f"{name}: {layer.count_params()} parameters, Keras's {kr.count_params()}")
        layer.set_weights(k_weights)
        output = layer(_pack(tensors(), multi), **call_kwargs)
        outs = _flat_outputs(output)
        for o, e in zip(outs, k_outs):
            compare(o, e, f"{name} output vs Keras's")
        keras_shape = kr.compute_output_shape(_pack([(None,) + s[1:] for s in shapes], multi))
        ours_shape = layer.compute_output_shape(_pack([(None,) + s[1:] for s in shapes], multi))
        if _plain(ours_shape) != _plain(keras_shape):
            raise AssertionError(f"{name}.compute_output_shape: {ours_shape}, Keras's {keras_shape}")
        if keras_config_parity:
            ours_cfg, theirs_cfg = dict(layer.get_config()), dict(kr.get_config())
            for key in ("name", "dtype"):
                ours_cfg.pop(key, None)
                theirs_cfg.pop(key, None)
            for key in keras_config_extra_keys:
                ours_cfg.pop(key, None)
            _assert_same_config(ours_cfg, theirs_cfg, f"{name} config vs Keras's")
        result.output, result.keras_layer, result.keras_output = output, kr, _pack(k_outs, isinstance(k_out, (list, tuple)))
        result_checks.append("keras_parity")

    # -- the layer inside a functional model ---------------------------------
    model_kwargs = {k: v for k, v in call_kwargs.items() if k != "training"}

    def functional(of):
        inputs = [Input(shape=s[1:], dtype=str(a.dtype)) for s, a in zip(shapes, arrays)]
        return Model(_pack(inputs, multi), of(_pack(inputs, multi), **model_kwargs))

    if run_model_check:
        in_model = layer
        if seeded:  # the eager layer has drawn already: a fresh one with its weights
            in_model = layer_cls(**init_kwargs)
            in_model._maybe_build(_pack(shapes, multi))
            in_model.set_weights(layer.get_weights())
        model = functional(in_model)
        m_out = _flat_outputs(model(_pack(tensors(), multi), training=call_kwargs.get("training", False)))
        for o, e in zip(m_out, outs):
            compare(o, e, f"{name} in a functional model vs eager call")
        result_checks.append("model")

    # -- a training step ------------------------------------------------------
    if run_training_check:
        # On a copy, so the layer returned keeps its weights and statistics.
        trained = layer_cls(**init_kwargs)
        trained(_pack(tensors(), multi), **call_kwargs)
        trained.set_weights(layer.get_weights())
        model = functional(trained)
        xs = tensors(requires_grad=True)
        m_out = _flat_outputs(model(_pack(xs, multi), training=True))
        differentiable = [o for o in m_out if isinstance(o, torch.Tensor) and o.is_floating_point() and o.requires_grad]
        trainable = trained.trainable_weights
        if trainable and not differentiable:
            raise AssertionError(f"{name}: has trainable weights but its output does not depend on them")
        if differentiable:
            loss = sum(o.float().square().mean() for o in differentiable)
            for extra in model.losses:
                loss = loss + extra
            model.zero_grad(set_to_none=True)
            loss.backward()
            for w in trainable:
                if w.grad is None:
                    raise AssertionError(f"{name}: no gradient reached trainable weight '{w.name}'")
                if not torch.isfinite(torch.as_tensor(w.grad)).all():
                    raise AssertionError(f"{name}: gradient of weight '{w.name}' is not finite")
            for x in xs:
                if x.requires_grad and x.grad is not None and not torch.isfinite(x.grad).all():
                    raise AssertionError(f"{name}: gradient with respect to the input is not finite")
            params = [p for p in model.parameters() if p.requires_grad]
            if params:
                torch.optim.SGD(params, lr=1e-3).step()
                for w in trainable:
                    if not np.isfinite(w.numpy()).all():
                        raise AssertionError(f"{name}: weight '{w.name}' is not finite after an SGD step")
        result_checks.append("training")
    return result
