"""What every ``kerasish.applications`` family shares while it builds a model
as Keras builds it: the argument checks and the input (:func:`application_input`,
with Keras's :func:`obtain_input_shape`), Keras's asymmetric stride-2 padding
(:func:`correct_pad`), the pooling of a headless model (:func:`pool`) and the
weights (:func:`load_weights`).

Pretrained weights: Keras publishes each application's ImageNet weights as a
Keras 2 ``.h5`` file on storage.googleapis.com. A model built here has Keras's
layers in Keras's order with Keras's weight shapes, so that file loads as it
does in Keras (by position, :mod:`kerasish.saving.legacy_h5`) and gives the
*same* network. :func:`kerasish.utils.get_file` downloads it once into
``$KERAS_HOME/models`` (default ``~/.keras/models``), Keras's own cache (a file
Keras downloaded is reused), checked against Keras's hash. torchvision's
checkpoints (the families whose torchvision network is the same) come through
:mod:`kerasish.applications._torchvision_backbone` and
:mod:`kerasish.applications.weight_map`.
"""

from __future__ import annotations

import os
import warnings

import torch

from kerasish import activations, layers
from kerasish.applications import weight_map
from kerasish.engine.keras_tensor import KerasTensor, get_source_inputs
from kerasish.utils.file_utils import get_file, keras_home

# Files a path given as ``weights`` is read as a torch state_dict from.
_TORCH_FILES = (".pth", ".pt", ".bin", ".ckpt")


# ----------------------------------------------------------------------
# Arguments and the input
# ----------------------------------------------------------------------
KERAS_WEIGHTS = """``None`` (random initialization), ``"imagenet"`` (Keras's
            ImageNet weights, downloaded to ``~/.keras/models``), or the path to
            a weights file (``.weights.h5`` / ``.h5`` / ``.keras``)."""

_APPLICATION_DOC = """Instantiates the {title} architecture, layer for layer as Keras.

    Args:
        include_top: whether to include the {top} at the top.
        weights: {weights}
        input_tensor: optional symbolic tensor to use as the image input.
        input_shape: optional ``(height, width, channels)``, at least {min_size}x{min_size};
            ``({default_size}, {default_size}, 3)`` with ``include_top`` and ImageNet weights.
        pooling: with ``include_top=False``: ``None`` (4-D output), ``"avg"`` or ``"max"``.
        classes: number of classes (1000 with ImageNet weights and the top).
        classifier_activation: activation of the top layer (``None`` for logits).
        name: the model's name.

    Returns:
        A kerasish functional ``Model`` taking {images} preprocessed by
        {preprocess}.

    Example:
        >>> from kerasish.applications import {pretty}
        >>> model = {pretty}(weights=None, input_shape=({min_size}, {min_size}, 3), include_top=False, pooling="{pooling}")
        >>> {shown}
        {output}
    """


def application_doc(pretty, *, min_size, default_size, preprocess, output, pooling="avg", shown="model.output_shape",
                    top="fully-connected layer", weights=KERAS_WEIGHTS, images="images", title=None):
    """The docstring of an application builder, the same Args for every family.

    ``preprocess`` names the input preprocessing (``:func:`preprocess_input` ("tf" mode)``);
    the example builds ``pretty`` at ``min_size`` without the top and prints
    ``shown`` (``output``, the value it gives); ``title`` names the architecture
    in the summary line (default ``pretty``).
    """
    return _APPLICATION_DOC.format(pretty=pretty, min_size=min_size, default_size=default_size, preprocess=preprocess,
                                   output=output, pooling=pooling, shown=shown, top=top, weights=weights, images=images,
                                   title=title or pretty)


def obtain_input_shape(input_shape, default_size, min_size, require_flatten, weights=None):
    """Check / complete ``input_shape`` (channels_last) as Keras's applications do.

    Args:
        input_shape: ``None`` or ``(height, width, channels)`` (``None`` for an unknown size).
        default_size: the side of the model's ImageNet input.
        min_size: the smallest side the model accepts.
        require_flatten: whether the model has its top (then the shape must be static,
            and with ImageNet weights it must be the default one).
        weights: the ``weights`` argument.

    Returns:
        The checked ``(height, width, channels)``.

    Example:
        >>> obtain_input_shape(None, 224, 32, require_flatten=False)
        (None, None, 3)
        >>> obtain_input_shape((64, 64, 3), 224, 32, require_flatten=True)
        (64, 64, 3)
    """
    if input_shape is not None:
        try:
            input_shape = tuple(None if d is None else int(d) for d in input_shape)
        except TypeError:
            raise ValueError(f"`input_shape` must be a tuple of three integers. Received: input_shape={input_shape!r}") from None
    if weights != "imagenet" and input_shape and len(input_shape) == 3:
        if input_shape[-1] not in {1, 3}:
            warnings.warn(
                "This model usually expects 1 or 3 input channels. However, it was passed an input_shape "
                f"with {input_shape[-1]} input channels.",
                stacklevel=3,
            )
        default_shape = (default_size, default_size, input_shape[-1])
    else:
        default_shape = (default_size, default_size, 3)
    if weights == "imagenet" and require_flatten:
        if input_shape is not None and input_shape != default_shape:
            raise ValueError(
                "When setting `include_top=True` and loading `imagenet` weights, "
                f"`input_shape` should be {default_shape}.  Received: input_shape={input_shape}"
            )
        return default_shape
    if input_shape:
        if len(input_shape) != 3:
            raise ValueError(f"`input_shape` must be a tuple of three integers. Received: input_shape={input_shape}")
        if input_shape[-1] != 3 and weights == "imagenet":
            raise ValueError(f"The input must have 3 channels; Received `input_shape={input_shape}`")
        if (input_shape[0] is not None and input_shape[0] < min_size) or (input_shape[1] is not None and input_shape[1] < min_size):
            raise ValueError(f"Input size must be at least {min_size}x{min_size}; Received: input_shape={input_shape}")
    else:
        input_shape = default_shape if require_flatten else (None, None, 3)
    if require_flatten and None in input_shape:
        raise ValueError(f"If `include_top` is True, you should specify a static `input_shape`. Received: input_shape={input_shape}")
    return input_shape


def _check_args(pretty, weights, include_top, classes, pooling, classifier_activation):
    # Keras's messages, so scripts matching on them keep working.
    if not (weights in {"imagenet", None} or (isinstance(weights, (str, os.PathLike)) and os.path.exists(weights))):
        raise ValueError(
            "The `weights` argument should be either `None` (random initialization), 'imagenet' "
            "(pre-training on ImageNet), or the path to the weights file to be loaded.  "
            f"Received: weights={weights}"
        )
    if weights == "imagenet" and include_top and classes != 1000:
        raise ValueError(
            "If using `weights='imagenet'` with `include_top=True`, `classes` should be 1000.  "
            f"Received: classes={classes}"
        )
    if pooling not in (None, "avg", "max"):
        raise ValueError(f"{pretty}: `pooling` must be None, 'avg' or 'max'. Received: pooling={pooling!r}")
    if weights == "imagenet" and include_top and classifier_activation not in {None, "softmax"}:
        if activations.get(classifier_activation) not in (activations.get("softmax"), activations.get(None)):
            raise ValueError(
                "Only `None` and `softmax` activations are allowed for the `classifier_activation` argument when "
                f"using pretrained weights, with `include_top=True`; Received: classifier_activation={classifier_activation}"
            )


def application_input(pretty, *, weights, include_top, classes, pooling, classifier_activation, input_shape,
                      input_tensor, default_size, min_size=32):
    """Keras's argument checks and the image input of an application.

    Args:
        pretty: the model's name in messages (``"ResNet50"``).
        weights, include_top, classes, pooling, classifier_activation, input_shape,
            input_tensor: the application's arguments.
        default_size: the side of the ImageNet input (:func:`obtain_input_shape`);
            ``None`` when the family checked ``input_shape`` by its own rules
            (MobileNetV3), which is then used as given.
        min_size: the smallest side.

    Returns:
        ``(model inputs, the image tensor to build on, the checked input_shape)``:
        the inputs are the ``Input`` tensors ``input_tensor`` comes from
        (:func:`kerasish.utils.get_source_inputs`), or a new ``Input``.

    Example:
        >>> inputs, x, shape = application_input("Demo", weights=None, include_top=False, classes=1000, pooling=None,
        ...                                      classifier_activation="softmax", input_shape=(32, 32, 3),
        ...                                      input_tensor=None, default_size=224)
        >>> inputs is x, tuple(x.shape), shape
        (True, (None, 32, 32, 3), (32, 32, 3))
    """
    _check_args(pretty, weights, include_top, classes, pooling, classifier_activation)
    if isinstance(input_tensor, KerasTensor) and len(input_tensor.shape) != 4:
        raise ValueError(f"{pretty}: `input_tensor` must be a 4-D image tensor, got shape {input_tensor.shape}.")
    if default_size is not None:
        input_shape = obtain_input_shape(input_shape, default_size, min_size, include_top, weights)
    if input_tensor is None:
        x = layers.Input(shape=input_shape)
        return x, x, input_shape
    if not isinstance(input_tensor, KerasTensor):
        x = layers.Input(shape=input_shape, tensor=input_tensor)
        return x, x, input_shape
    sources = get_source_inputs(input_tensor)
    return (sources[0] if len(sources) == 1 else sources), input_tensor, input_shape


# ----------------------------------------------------------------------
# Layers Keras's builders share
# ----------------------------------------------------------------------
def correct_pad(x, kernel_size):
    """((top, bottom), (left, right)) zero padding making a stride-2 "valid"
    convolution behave like TensorFlow's "same" one (Keras's ``correct_pad``):
    an even (or unknown) size gets one pixel less on top / left.

    Args:
        x: a channels_last symbolic image tensor ``(batch, H, W, C)``.
        kernel_size: int or (kh, kw).

    Example:
        >>> correct_pad(layers.Input((32, 31, 3)), 3)
        ((0, 1), (1, 1))
    """
    size = tuple(x.shape[1:3])
    k = (kernel_size, kernel_size) if isinstance(kernel_size, int) else tuple(kernel_size)
    adjust = (1, 1) if size[0] is None else (1 - size[0] % 2, 1 - size[1] % 2)
    half = (k[0] // 2, k[1] // 2)
    return ((half[0] - adjust[0], half[0]), (half[1] - adjust[1], half[1]))


def pool(x, pooling, named=True):
    """A headless model's pooling as Keras adds it.

    Args:
        x: the 4-D features.
        pooling: ``None`` (keep ``x``), ``"avg"`` or ``"max"``.
        named: name the layer ``avg_pool`` / ``max_pool`` (some Keras families
            leave it unnamed).

    Example:
        >>> pool(layers.Input((4, 4, 8)), "max").shape
        (None, 8)
    """
    if pooling == "avg":
        return layers.GlobalAveragePooling2D(**({"name": "avg_pool"} if named else {}))(x)
    if pooling == "max":
        return layers.GlobalMaxPooling2D(**({"name": "max_pool"} if named else {}))(x)
    return x


def top(x, include_top, pooling, classes, classifier_activation, named=True):
    """The end of a model as Keras's plain families build it: with ``include_top``,
    average pooling (``avg_pool``) and the ``predictions`` Dense; else :func:`pool`.

    Example:
        >>> top(layers.Input((4, 4, 8)), True, None, 10, "softmax").shape
        (None, 10)
    """
    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        return layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    return pool(x, pooling, named=named)


# ----------------------------------------------------------------------
# Weights
# ----------------------------------------------------------------------
def keras_weights_file(file_name, origin, file_hash, pretty):
    """The local path of one of Keras's weight files: ``$KERAS_HOME/models/<file_name>``,
    downloaded from ``origin`` through :func:`kerasish.utils.get_file` (once,
    hash-checked, atomic) unless it is cached already.

    Raises:
        OSError: the file cannot be downloaded or its hash is not Keras's; the
            message names the file and where to place it by hand.
    """
    try:
        return get_file(file_name, origin, file_hash=file_hash, cache_subdir="models")
    except (OSError, ValueError) as e:
        path = os.path.join(keras_home(), "models", file_name)
        raise OSError(
            f"Could not download the ImageNet weights of {pretty} (Keras's '{file_name}') from {origin}: {e} "
            f"Without network access, download it elsewhere and place it at '{path}', or pass weights='/path/to/{file_name}'."
        ) from e


def load_weights(model, weights, pretty, file_name=None, origin=None, file_hash=None):
    """Load an application's ``weights`` argument into ``model``.

    Args:
        model: the model just built.
        weights: ``None`` (nothing to load); ``"imagenet"`` (Keras's file
            ``file_name`` at ``origin``, see :func:`keras_weights_file`); or a
            path: a torch state_dict (``.pth`` / ``.pt``) read through the
            model's torch key map (:mod:`kerasish.applications.weight_map`),
            else any file ``model.load_weights`` reads (``.weights.h5``, Keras 2
            ``.h5``, ``.keras``).
        pretty: the model's name in messages.
        file_name, origin, file_hash: Keras's ImageNet file for this
            configuration (``file_name`` None: Keras publishes none).

    Example:
        >>> from kerasish.models.functional import Functional
        >>> inp = layers.Input((4,))
        >>> load_weights(Functional(inp, layers.Dense(2)(inp)), None, "Demo")  # None: random initialization
    """
    if weights is None:
        return
    if weights == "imagenet":
        if file_name is None:
            raise ValueError(f"{pretty}: Keras publishes no ImageNet weights for this configuration.")
        model.load_weights(keras_weights_file(file_name, origin, file_hash, pretty))
        return
    path = os.fspath(weights)
    if not path.lower().endswith(_TORCH_FILES):
        model.load_weights(path)
        return
    try:
        weight_map.key_map_of(model)
    except ValueError:
        raise ValueError(
            f"{pretty}: `weights`={path!r} looks like a torch state_dict; this model reads Keras weight files "
            "(.weights.h5, Keras 2 .h5, .keras). torch checkpoints of this family are not the same network as Keras's."
        ) from None
    try:
        state_dict = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:
        raise ValueError(f"{pretty}: cannot read the torch state_dict file '{path}': {e}") from e
    weight_map.load_state_dict(model, state_dict, source=f"weights file '{path}'")
