"""Export a model as an inference artifact: a ``torch.export`` program (``.pt2``)
or an ONNX file. The counterpart of Keras 3's ``model.export(filepath, format=...)``.

| format    | what is written                                   | runs with                               |
|-----------|---------------------------------------------------|-----------------------------------------|
| ``torch`` | ``torch.export.save`` of the model's program      | :func:`load_exported` / ``torch.export.load`` |
| ``onnx``  | ``torch.onnx.export`` (needs ``onnx``, ``onnxscript``) | ONNX Runtime and other ONNX runtimes |

Both artifacts hold the forward pass in inference mode (``training=False``)
with the weights baked in, take channels_last inputs exactly like the model
does, and accept any batch size when the model's batch dimension is ``None``.
Neither needs kerasish (or the model's Python code) to run.

Keras 3's TensorFlow-based formats (``tf_saved_model``, ``litert``) and
``openvino`` are not available: kerasish never depends on TensorFlow.
"""

from __future__ import annotations

import importlib
import inspect
import io
import json
import numbers
import os
import re
import shutil
import tempfile
import warnings
import zipfile

import torch

from kerasish.engine.keras_tensor import KerasTensor, pack_like
from kerasish.engine.layer import torch_dtype
from kerasish.models.functional import Functional
from kerasish.models.model import Model

from .bounded_read import decode_json
from .file_io import atomic_write
from .saving_api import _check_readable, _check_writable, _path

SUPPORTED_FORMATS = ("torch", "onnx")

# Packages torch.onnx.export's exporter (the torch.export-based one, the only
# one in torch >= 2.9) imports; onnx_ir comes with onnxscript.
ONNX_EXPORT_PACKAGES = ("onnx", "onnxscript")

# Keyword arguments of ONNXProgram.save rather than of torch.onnx.export.
_ONNX_SAVE_KWARGS = ("external_data", "keep_initializers_as_inputs", "include_initializers")


def export_model(model, filepath, format="torch", input_signature=None, verbose=True, **kwargs):
    """Export ``model``'s inference forward pass to ``filepath``.

    Args:
        model: a built kerasish ``Model`` (functional, Sequential or subclassed).
        filepath: where to write. ``format="torch"`` requires a ``.pt2`` name
            (as Keras does); ``format="onnx"`` conventionally uses ``.onnx``.
        format: ``"torch"`` (a ``torch.export`` program, the default) or
            ``"onnx"``.
        input_signature: optional example input shapes, as a shape tuple or a
            list of them (one per model input, in ``model.inputs`` order), or
            example tensors / arrays / ``KerasTensor`` s. By default the
            shapes of ``model.inputs`` are used. A ``None`` batch dimension
            becomes a symbolic ``torch.export.Dim("batch")``, so the artifact
            takes any batch size; a concrete one fixes it. Example tensors
            keep the batch dynamic when the model's batch dimension is
            ``None``. Other dimensions must be known.
        verbose: print a line naming the written file (``None``, Keras's
            default, prints too).
        **kwargs: for ``"torch"``, keyword arguments of ``torch.export.export``
            (``strict``, ``dynamic_shapes``, ...; ``strict`` defaults to False);
            for ``"onnx"``, keyword arguments of ``torch.onnx.export``
            (``opset_version``, ``input_names``, ``dynamic_shapes``, ...) and of
            ``ONNXProgram.save`` (``external_data``, ...). A ``dynamic_shapes``
            given here replaces the automatic one and follows torch.export's
            convention for ``forward(*args)``: ``{"args": (spec, ...)}``.

    Returns:
        the path written, as a string.

    Raises:
        ValueError: an unknown format, a model that is not built, a bad
            ``input_signature`` or an unknown keyword argument.
        ImportError: ``format="onnx"`` without the ``onnx`` / ``onnxscript``
            packages (the message gives the pip command).
        RuntimeError: torch could not trace the model.

    Example:
        >>> import torch, kerasish
        >>> from kerasish import layers
        >>> model = kerasish.Sequential([kerasish.Input((28, 28, 1)), layers.Conv2D(8, 3),
        ...                              layers.Flatten(), layers.Dense(10)])
        >>> path = export_model(model, "/tmp/mnist.pt2", verbose=False)
        >>> load_exported(path)(torch.rand(5, 28, 28, 1)).shape
        torch.Size([5, 10])
    """
    _check_format(format)
    if not isinstance(model, Model):
        raise TypeError(f"export_model takes a kerasish Model, got {type(model).__name__}: {model!r:.80}")
    if not model.built:
        raise ValueError(
            f"Model '{model.name}' has not been built yet, so it cannot be exported. Build it first: start it with "
            "`Input(shape)` (or give the first layer `input_shape=`), call `model.build(input_shape)`, or call it on data."
        )
    filepath = _path(filepath)
    if format == "torch" and not filepath.endswith(".pt2"):
        raise ValueError(f"format='torch' writes a torch.export archive, whose file name must end with '.pt2'. Got: '{filepath}'")
    _check_writable(filepath, overwrite=True)
    if format == "onnx":
        _require_onnx()

    examples, batch_dynamic, struct = _example_inputs(model, input_signature)
    states = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        if format == "torch":
            _export_torch(model, filepath, examples, batch_dynamic, struct, kwargs)
            message = f"Saved PyTorch ExportedProgram at '{filepath}'."
        else:
            _export_onnx(model, filepath, examples, batch_dynamic, kwargs)
            message = f"Saved artifact at '{filepath}'."
    finally:
        for m, mode in states:
            m.training = mode
    if verbose or verbose is None:  # None: Keras's "format default", which prints
        print(message)
    return filepath


def load_exported(filepath, safe_mode=True):
    """Load a program written by ``export_model(..., format="torch")`` (or any
    ``torch.export.save`` archive) and return it as a callable module:
    ``torch.export.load(filepath).module()``.

    The module takes the model's inputs (channels_last, any batch size when the
    batch was exported as dynamic) and needs neither kerasish nor the model's
    code.

    Args:
        filepath: a ``.pt2`` archive.
        safe_mode: refuse archives whose loading would unpickle data (see
            below) or load compiled code (AOTInductor). Archives written by
            :func:`export_model` never need either. ``False`` skips the check.

    .. warning::
        ``torch.export.load`` itself is *not* pickle-free: payloads that the
        archive's own metadata marks as pickled (tensor subclasses, custom and
        opaque objects, the older archive layout, sample inputs that
        ``weights_only`` loading refuses) go through
        ``torch.load(weights_only=False)`` / ``pickle.loads``, which runs code
        chosen by whoever wrote the file. Symbolic-shape expressions are
        parsed with ``sympy.sympify`` (built on ``eval``) and input guards are
        run with ``exec``. ``safe_mode`` refuses all of those before
        torch sees the file, except expressions and guards made only of
        symbol names, integers, arithmetic and comparisons, sympy's and
        torch's shape functions and input-size lookups (what export writes).
        What it cannot rule out: the graph names the torch operators it calls.
        So load only files you trust; for untrusted sources exchange weights instead
        (``torch.load(path, weights_only=True)`` of a state_dict, or
        ``.weights.h5``) and rebuild the model from code.

    Raises:
        FileNotFoundError: no such file.
        ValueError: not a torch.export archive, or (``safe_mode``) one that
            would unpickle data or load compiled code.
    """
    filepath = _path(filepath)
    _check_readable(filepath)
    if not zipfile.is_zipfile(filepath):
        raise ValueError(f"'{filepath}' is not a torch.export archive (.pt2): it is not a zip file.")
    if safe_mode:
        _check_no_pickle(filepath)
    return torch.export.load(filepath).module()


def _check_no_pickle(filepath):
    """Refuse a .pt2 archive whose loading by torch.export.load would unpickle
    data or load compiled code."""
    try:
        from torch.export.pt2_archive import constants as c
    except ImportError:  # an older torch describes no archive layout to check against
        raise ValueError(
            f"Cannot check '{filepath}' for pickled content with this torch ({torch.__version__}, which has no "
            "torch.export.pt2_archive): upgrade torch to load it in safe mode, or pass safe_mode=False only if you "
            "trust the file."
        ) from None

    def refuse(why):
        raise ValueError(
            f"Refusing to load '{filepath}' with safe_mode=True: {why}. Loading it would run pickle (code chosen by "
            "whoever wrote the file). Archives written by kerasish's export never need this; if you trust the file, "
            "pass safe_mode=False."
        )

    with zipfile.ZipFile(filepath) as z:
        records = {}
        for info in z.infolist():
            root, _, rest = info.filename.partition("/")
            if rest:
                records[rest] = info.filename
        if records.get(c.ARCHIVE_FORMAT_PATH) is None or z.read(records[c.ARCHIVE_FORMAT_PATH]).decode(errors="replace") != c.ARCHIVE_FORMAT_VALUE:
            raise ValueError(f"'{filepath}' is not a torch.export archive (.pt2): it has no '{c.ARCHIVE_FORMAT_PATH}' record.")
        if any(name.startswith(c.AOTINDUCTOR_DIR) for name in records):
            refuse("it holds AOTInductor compiled code")
        models = [n[len(c.MODELS_DIR):-len(".json")] for n in records if n.startswith(c.MODELS_DIR) and n.endswith(".json")]
        for model_name in models:
            for legacy in (f"{c.WEIGHTS_DIR}{model_name}.pt", f"{c.CONSTANTS_DIR}{model_name}.pt"):
                if legacy in records:
                    refuse(f"it stores '{legacy}' in the older pickled layout")
            for config_name, kind in ((c.WEIGHTS_CONFIG_FILENAME_FORMAT.format(model_name), "weight"), (c.CONSTANTS_CONFIG_FILENAME_FORMAT.format(model_name), "constant")):
                if config_name not in records:
                    continue
                try:
                    config = json.loads(z.read(records[config_name])).get("config", {})
                except (ValueError, AttributeError) as e:
                    raise ValueError(f"'{filepath}' is not a valid torch.export archive: cannot read '{config_name}' ({e}).") from e
                for fqn, meta in config.items():
                    if not isinstance(meta, dict) or meta.get("use_pickle"):
                        refuse(f"its {kind} '{fqn}' is stored pickled")
                    if kind == "constant" and not str(meta.get("path_name", "")).startswith(c.TENSOR_CONSTANT_FILENAME_PREFIX):
                        refuse(f"its constant '{fqn}' is a pickled object ('{meta.get('path_name')}')")
            _check_no_eval(z, records[f"{c.MODELS_DIR}{model_name}.json"], filepath)
            sample = c.SAMPLE_INPUTS_FILENAME_FORMAT.format(model_name)
            if sample in records:
                try:  # torch retries a failed weights_only load without it
                    torch.load(io.BytesIO(z.read(records[sample])), weights_only=True)
                except Exception:
                    refuse(f"its sample inputs '{sample}' do not load with weights_only=True")


# What safe_mode lets torch's eval see. Symbolic sizes (``expr_str``) are
# sympy expressions over shape symbols (``s77``, ``u0``): sympy's and torch's
# shape functions, integers, arithmetic and comparisons. Guards are
# comparisons of input sizes (``L['x'].size()[0] >= 2``). Anything else (an
# attribute access, a dunder, a string that is not a name, a call of a name
# not listed) could run code.
_SAFE_FUNCTIONS = frozenset(
    {
        "Symbol", "Integer", "Rational", "Float", "Add", "Mul", "Pow", "Max", "Min", "Abs", "Mod",
        "Eq", "Ne", "Lt", "Le", "Gt", "Ge", "StrictLessThan", "StrictGreaterThan", "LessThan", "GreaterThan",
        "Equality", "Unequality", "And", "Or", "Not", "true", "false", "True", "False", "None", "oo", "zoo", "nan",
        "positive", "integer", "real", "nonnegative", "finite", "and", "or", "not", "floor", "ceiling", "sqrt",
        "FloorDiv", "ModularIndexing", "Where", "PythonMod", "CleanDiv", "CeilToInt", "FloorToInt", "CeilDiv",
        "LShift", "RShift", "PowByNatural", "FloatPow", "FloatTrueDiv", "IntTrueDiv",
        "IsNonOverlappingAndDenseIndicator", "TruncToFloat", "TruncToInt", "RoundToInt", "RoundDecimal", "ToFloat",
        "OpaqueUnaryFn_sqrt", "BitwiseFn_bitwise_and", "BitwiseFn_bitwise_or", "Identity", "Piecewise", "ExprCondPair",
        "L",
    }
)
# A shape symbol's name: lowercase letters then digits (s0, u12, zuf3, ps1).
_SYMBOL_NAME = re.compile(r"[a-z]{1,4}\d+")
_SAFE_TOKEN = re.compile(
    r"""\s+|(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<str>'[A-Za-z_][A-Za-z0-9_]*')|\d+(?:\.\d+)?(?:e[+-]?\d+)?"""
    r"""|\.(?:size|stride|storage_offset)\(\)|\*\*|//|==|!=|<=|>=|[-+*/%<>(),=\[\]~&|]"""
)


def _safe_expression(text) -> bool:
    """True when ``text`` is made only of the tokens safe_mode lets eval see."""
    if not isinstance(text, str) or len(text) > 100_000:
        return False
    pos = 0
    while pos < len(text):
        m = _SAFE_TOKEN.match(text, pos)
        if m is None:
            return False
        name = m.group("name")
        if name is not None and name not in _SAFE_FUNCTIONS and not _SYMBOL_NAME.fullmatch(name):
            return False
        pos = m.end()
    return True


def _walk_strings(obj, key):
    """Every value stored under ``key`` anywhere in decoded JSON ``obj`` (iterative)."""
    stack = [obj]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for k, v in item.items():
                if k == key:
                    yield v
                else:
                    stack.append(v)
        elif isinstance(item, list):
            stack.extend(item)


def _check_no_eval(z, member, filepath):
    """Refuse a serialized program whose loading would hand torch's eval /
    exec anything but plain shape arithmetic (see _SAFE_FUNCTIONS)."""
    program = decode_json(z.read(member), filepath, f"'{member}'", max_bytes=2**31)
    if not isinstance(program, dict):
        raise ValueError(f"'{filepath}' is not a valid torch.export archive: '{member}' is not a program.")

    def refuse(what, text):
        raise ValueError(
            f"Refusing to load '{filepath}' with safe_mode=True: its {what} {str(text)[:200]!r} in '{member}' is not "
            "plain shape arithmetic, and torch would evaluate it as Python code (code chosen by whoever wrote the "
            "file). If you trust the file, pass safe_mode=False."
        )

    for expr in _walk_strings(program, "expr_str"):
        if not _safe_expression(expr):
            refuse("symbolic size expression", expr)
    for guard in program.get("guards_code") or []:
        if not _safe_expression(guard):
            refuse("input guard", guard)
    for name in program.get("range_constraints") or {}:
        if not _safe_expression(name):
            refuse("range constraint symbol", name)


# ----------------------------------------------------------------------------
# Checks
# ----------------------------------------------------------------------------
def _check_format(format):
    if format in SUPPORTED_FORMATS:
        return
    if format == "tf_saved_model":
        raise ValueError(
            "format='tf_saved_model' needs TensorFlow, and kerasish never depends on TensorFlow. "
            "Use format='torch' (a torch.export program, .pt2) or format='onnx' (runs in ONNX Runtime, and converts "
            "to TensorFlow / LiteRT with third-party tools)."
        )
    raise ValueError(f"Unrecognized format={format!r}. Supported formats are: {list(SUPPORTED_FORMATS)}.")


def _require_onnx():
    missing = []
    for name in ONNX_EXPORT_PACKAGES:
        try:
            importlib.import_module(name)
        except ImportError:
            missing.append(name)
    if missing:
        raise ImportError(
            f"Exporting to ONNX needs the package(s) {', '.join(repr(m) for m in missing)}, which torch.onnx.export "
            f"uses and which are not installed. Install them with `pip install {' '.join(ONNX_EXPORT_PACKAGES)}` "
            "(and `pip install onnxruntime` to run the exported file)."
        )


def _split_kwargs(kwargs, fn, excluded, format, extra=()):
    allowed = {n for n in inspect.signature(fn).parameters if n not in excluded} | set(extra)
    unknown = sorted(set(kwargs) - allowed)
    if unknown:
        raise ValueError(
            f"Unsupported argument(s) for format={format!r}: {', '.join(unknown)}. Supported arguments are: {', '.join(sorted(allowed))}."
        )
    return dict(kwargs)


# ----------------------------------------------------------------------------
# Example inputs
# ----------------------------------------------------------------------------
def _is_shape(x):
    return isinstance(x, (tuple, list)) and all(d is None or (isinstance(d, numbers.Integral) and not isinstance(d, bool)) for d in x)


def _leaves(sig):
    """Flatten an input signature into shape tuples and tensor-like leaves."""
    if _is_shape(sig) and not (isinstance(sig, list) and len(sig) == 0):
        return [tuple(sig)]
    if isinstance(sig, (list, tuple)):
        return [leaf for s in sig for leaf in _leaves(s)]
    if isinstance(sig, dict):
        return [leaf for k in sorted(sig) for leaf in _leaves(sig[k])]  # the model's flat inputs' order
    return [sig]


def _model_specs(model):
    """(shape, dtype name, name) per flat model input, and the input structure."""
    if isinstance(model, Functional):
        return [(tuple(t.shape), t.dtype, t.name) for t in model.inputs], model._input_struct, True
    shapes = getattr(model, "_build_shapes", None)
    if shapes is None:
        raise ValueError(f"Model '{model.name}' has no recorded input shape; pass `input_signature=` to export it.")
    # A subclassed model's batch size is never part of the model.
    specs = [(((None,) + tuple(s)[1:]) if len(s) else tuple(s), "float32", f"input_{i}") for i, s in enumerate(_leaves(shapes))]
    return specs, (None if _is_shape(shapes) else _shape_struct(shapes)), False


def _shape_struct(shapes):
    """Replace each shape leaf of a nested structure by a placeholder."""
    if _is_shape(shapes):
        return 0
    if isinstance(shapes, dict):
        return {k: _shape_struct(v) for k, v in shapes.items()}
    return type(shapes)(_shape_struct(s) for s in shapes)


def _example_inputs(model, input_signature):
    """Example tensors (flat), whether each input's batch is dynamic, and how
    to pack the flat tensors into the model's call structure."""
    specs, struct, functional = _model_specs(model)
    device = model._device() or torch.device("cpu")
    if input_signature is None:
        leaves = [shape for shape, _, _ in specs]
    else:
        if isinstance(input_signature, dict) and isinstance(struct, dict):
            missing = [k for k in struct if k not in input_signature]
            if missing:
                raise ValueError(f"input_signature for model '{model.name}' lacks the input(s) {missing}; expected keys {list(struct)}.")
            input_signature = [input_signature[k] for k in struct]
        leaves = _leaves(input_signature)
        if len(leaves) != len(specs):
            raise ValueError(
                f"input_signature for model '{model.name}' describes {len(leaves)} input(s), but the model takes {len(specs)}: "
                f"{[s for s, _, _ in specs]}."
            )

    examples, dynamic = [], []
    for i, (leaf, (spec_shape, spec_dtype, spec_name)) in enumerate(zip(leaves, specs)):
        where = f"input {i} ('{spec_name}') of model '{model.name}'"
        if isinstance(leaf, KerasTensor) or (hasattr(leaf, "shape") and not hasattr(leaf, "__array__") and not isinstance(leaf, torch.Tensor)):
            leaf_shape = tuple(None if d is None else int(d) for d in leaf.shape)
            dtype = getattr(leaf, "dtype", None) or spec_dtype
            leaf = leaf_shape
        else:
            dtype = spec_dtype
        if isinstance(leaf, tuple):
            shape = leaf
            if len(shape) != len(spec_shape):
                raise ValueError(f"input_signature gives shape {shape} for {where}, which expects rank {len(spec_shape)} {spec_shape}.")
            unknown = [k for k, d in enumerate(shape) if d is None and k > 0]
            if unknown:
                raise ValueError(
                    f"Cannot export {where}: its shape {shape} has unknown dimension(s) at axis {unknown}. Pass "
                    "`input_signature=` with those sizes (the batch dimension may stay None), or give `dynamic_shapes=`."
                )
            is_dynamic = len(shape) > 0 and shape[0] is None
            concrete = ((2,) + tuple(shape[1:])) if is_dynamic else shape
            td = torch_dtype(dtype) if isinstance(dtype, str) else dtype
            examples.append(torch.zeros(concrete, dtype=td, device=device))
            dynamic.append(is_dynamic)
        else:
            t = leaf if isinstance(leaf, torch.Tensor) else torch.as_tensor(leaf)
            if t.is_floating_point() and t.dtype == torch.float64:
                t = t.float()  # as the model itself does with float64 numpy data
            t = t.detach().to(device)
            is_dynamic = t.dim() > 0 and (len(spec_shape) == 0 or spec_shape[0] is None)
            if is_dynamic and t.shape[0] < 2:
                # torch.export specializes a size-1 example dimension to a constant.
                t = t.expand(2, *t.shape[1:]).contiguous() if t.shape[0] == 1 else torch.zeros((2,) + tuple(t.shape[1:]), dtype=t.dtype, device=device)
            examples.append(t)
            dynamic.append(is_dynamic)
    return examples, dynamic, (struct, functional)


def _pack(struct_info, examples):
    """The positional arguments the model is called with during tracing."""
    struct, _ = struct_info
    if not isinstance(struct, (list, tuple, dict)):
        return (examples[0],)
    return (pack_like(struct, examples),)


def _dynamic_spec(args, examples, dynamic):
    """torch.export ``dynamic_shapes`` for ``forward(*args)``: one Dim shared
    by every dynamic batch dimension (Keras inputs share the batch)."""
    if not any(dynamic):
        return None
    batch = torch.export.Dim("batch")
    per_tensor = {id(t): ({0: batch} if d else None) for t, d in zip(examples, dynamic)}

    def spec(x):
        if isinstance(x, torch.Tensor):
            return per_tensor[id(x)]
        if isinstance(x, dict):
            return {k: spec(v) for k, v in x.items()}
        return type(x)(spec(v) for v in x)

    # forward(*args): one entry for the var-positional parameter, holding one spec per argument.
    return (tuple(spec(a) for a in args),)


# ----------------------------------------------------------------------------
# Writers
# ----------------------------------------------------------------------------
def _export_torch(model, filepath, examples, dynamic, struct_info, kwargs):
    kwargs = _split_kwargs(kwargs, torch.export.export, {"mod", "args", "kwargs"}, "torch")
    kwargs.setdefault("strict", False)
    args = _pack(struct_info, examples)
    if "dynamic_shapes" not in kwargs:
        kwargs["dynamic_shapes"] = _dynamic_spec(args, examples, dynamic)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*not properly registered as a submodule.*")
        try:
            program = torch.export.export(model, args, **kwargs)
        except Exception as e:
            raise RuntimeError(
                f"torch.export could not trace model '{model.name}' with example input shape(s) "
                f"{[tuple(t.shape) for t in examples]}. If the batch dimension cannot vary, pass `input_signature=` with a "
                f"concrete batch size. Original error: {e}"
            ) from e
        # Conv kernels live in channels_last memory (non-contiguous); torch notes
        # it has no contiguous "complete" tensor and stores the whole storage
        # with its strides, which is exact.
        warnings.filterwarnings("ignore", message=r"No complete tensor found in the group.*")
        # Saved through an open file: torch names the archive's folder after a
        # path's stem, which would be the temporary name ("archive" here).
        with atomic_write(filepath, "wb") as f:
            torch.export.save(program, f)


class _FlatInputs(torch.nn.Module):
    """Calls the wrapped model on its input structure rebuilt from flat tensors
    (ONNX graphs take a flat list of named inputs)."""

    def __init__(self, model, struct):
        super().__init__()
        self.model = model
        self._struct = struct

    def forward(self, *args):
        return self.model(pack_like(self._struct, list(args)))


def _export_onnx(model, filepath, examples, dynamic, kwargs):
    save_kwargs = {k: kwargs.pop(k) for k in _ONNX_SAVE_KWARGS if k in kwargs}
    kwargs = _split_kwargs(kwargs, torch.onnx.export, {"model", "args", "f", "kwargs", "dynamo", "export_params"}, "onnx", _ONNX_SAVE_KWARGS)
    specs, struct, functional = _model_specs(model)
    if isinstance(model, Functional) or struct is None:
        module = model  # a functional model takes its inputs as flat positional tensors too
    else:
        module = _FlatInputs(model, struct).eval()
    args = tuple(examples)
    if "dynamic_shapes" not in kwargs:
        kwargs["dynamic_shapes"] = _dynamic_spec(args, examples, dynamic)
    if "input_names" not in kwargs:
        names = [name for _, _, name in specs]
        if len(set(names)) == len(names):
            kwargs["input_names"] = names
    if "output_names" not in kwargs and isinstance(model, Functional):
        names = list(model.output_names)
        if len(set(names)) == len(names):
            kwargs["output_names"] = names
    kwargs.setdefault("verbose", False)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*not properly registered as a submodule.*")
        # Every input's batch axis is the same Dim; torch notes that it names it once.
        warnings.filterwarnings("ignore", message=r".*will not be used, since it shares the same shape constraints.*")
        try:
            program = torch.onnx.export(module, args, None, dynamo=True, **kwargs)
        except Exception as e:
            raise RuntimeError(f"torch.onnx.export could not export model '{model.name}'. Original error: {e}") from e
        _save_onnx_atomically(program, filepath, save_kwargs)


def _save_onnx_atomically(program, filepath, save_kwargs):
    """``program.save(filepath)`` through temporary names.

    ONNX names its external-data file after the model file (``m.onnx.data``)
    and records that name inside it, so the program is saved under its final
    name in a temporary folder beside ``filepath``; each file is then moved
    into place with one rename (file_io.atomic_write), the data file before the
    model file that points to it.
    """
    folder, name = os.path.split(os.path.abspath(filepath))
    staging = tempfile.mkdtemp(prefix=f".{name}.", suffix=".tmp", dir=folder)
    try:
        program.save(os.path.join(staging, name), **save_kwargs)
        produced = sorted(os.listdir(staging), key=lambda n: n == name)  # the model file last
        for entry in produced:
            with atomic_write(os.path.join(folder, entry)) as tmp:
                os.replace(os.path.join(staging, entry), tmp)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


__all__ = ["SUPPORTED_FORMATS", "export_model", "load_exported"]
