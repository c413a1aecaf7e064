"""ConvNeXtTiny / Small / Base / Large / XLarge (``keras.applications.convnext``), built as Keras builds them.

Layers, names, order and weights are Keras's (``convnext_tiny_prestem_normalization``,
the ``convnext_tiny_stem`` and ``..._downsampling_block_i`` Sequentials,
``..._stage_i_block_j_depthwise_conv`` / ``_layernorm`` / ``_pointwise_conv_1`` /
``_gelu`` / ``_pointwise_conv_2`` / ``_layer_scale`` / ``_identity``, the head).
One difference: Keras records each block's residual sum ``inputs + x`` as an
operation, not a layer; here it is an ``Add`` layer (auto-named ``add_N``) in
``model.layers``, which holds no weight.

Preprocessing is inside the model (``include_preprocessing=True``): it takes
RGB pixels in [0, 255] and :func:`preprocess_input` is a pass-through.

Pretrained weights: ``weights="imagenet"`` loads Keras's own ``.h5`` files.
torchvision's ConvNeXts are the same network (Keras's weights were converted
from the same official checkpoints), so a torchvision checkpoint loads too:
``weights="torchvision"`` downloads torchvision's ImageNet-1k weights (Tiny,
Small, Base, Large), and ``weights="/path/ckpt.pth"`` reads a torchvision
``convnext_*`` state_dict. Both go through the model's key map
(:mod:`kerasish.applications.weight_map`), built with the layers.
"""

from __future__ import annotations

import numpy as np
import torch

from kerasish import initializers, layers
from kerasish.applications import _building
from kerasish.applications import imagenet_utils
from kerasish.applications import weight_map
from kerasish.engine.layer import Layer
from kerasish.engine.serialization import register_builtin_layers
from kerasish.models.functional import Functional
from kerasish.models.sequential import Sequential

__all__ = ["ConvNeXtTiny", "ConvNeXtSmall", "ConvNeXtBase", "ConvNeXtLarge", "ConvNeXtXLarge", "ConvNeXt", "LayerScale",
           "StochasticDepth", "preprocess_input", "decode_predictions"]

BASE_WEIGHTS_PATH = "https://storage.googleapis.com/tensorflow/keras-applications/convnext/"
# Keras's sha256 of its weight files: (with top, without top).
WEIGHTS_HASHES = {
    "convnext_tiny": ("8ae6e78ce2933352b1ef4008e6dd2f17bc40771563877d156bc6426c7cf503ff",
                      "d547c096cabd03329d7be5562c5e14798aa39ed24b474157cef5e85ab9e49ef1"),
    "convnext_small": ("ce1277d8f1ee5a0ef0e171469089c18f5233860ceaf9b168049cb9263fd7483c",
                       "6fc8009faa2f00c1c1dfce59feea9b0745eb260a7dd11bee65c8e20843da6eab"),
    "convnext_base": ("52cbb006d3dadd03f6e095a8ca1aca47aecdd75acb4bc74bce1f5c695d0086e6",
                      "40a20c5548a5e9202f69735ecc06c990e6b7c9d2de39f0361e27baeb24cb7c45"),
    "convnext_large": ("070c5ed9ed289581e477741d3b34beffa920db8cf590899d6d2c67fba2a198a6",
                       "96f02b6f0753d4f543261bc9d09bed650f24dd6bc02ddde3066135b63d23a1cd"),
    "convnext_xlarge": ("c1f5ccab661354fc3a79a10fa99af82f0fbf10ec65cb894a3ae0815f17a889ee",
                        "de3f8a54174130e0cecdc71583354753d557fcf1f4487331558e2a16ba0cfe05"),
}
MODEL_CONFIGS = {
    "tiny": {"depths": [3, 3, 9, 3], "projection_dims": [96, 192, 384, 768], "default_size": 224},
    "small": {"depths": [3, 3, 27, 3], "projection_dims": [96, 192, 384, 768], "default_size": 224},
    "base": {"depths": [3, 3, 27, 3], "projection_dims": [128, 256, 512, 1024], "default_size": 224},
    "large": {"depths": [3, 3, 27, 3], "projection_dims": [192, 384, 768, 1536], "default_size": 224},
    "xlarge": {"depths": [3, 3, 27, 3], "projection_dims": [256, 512, 1024, 2048], "default_size": 224},
}
# torchvision's ImageNet-1k checkpoints of the same networks (none for XLarge).
TORCHVISION_WEIGHTS = {
    "convnext_tiny": "ConvNeXt_Tiny_Weights.IMAGENET1K_V1", "convnext_small": "ConvNeXt_Small_Weights.IMAGENET1K_V1",
    "convnext_base": "ConvNeXt_Base_Weights.IMAGENET1K_V1", "convnext_large": "ConvNeXt_Large_Weights.IMAGENET1K_V1",
}


class LayerScale(Layer):
    """Multiplies its input by a learned per-channel scale (CaiT's LayerScale, as Keras's ConvNeXt uses it).

    Args:
        init_values: the scale's initial value (all channels).
        projection_dim: the number of channels (the last axis).

    Input shape: ``(..., projection_dim)``. Output shape: the same.

    Example:
        >>> import numpy as np
        >>> from kerasish.applications.convnext import LayerScale
        >>> LayerScale(0.5, 2)(np.ones((1, 2), "float32")).tolist()
        [[0.5, 0.5]]
    """

    _native_layout = True

    def __init__(self, init_values, projection_dim, **kwargs):
        super().__init__(**kwargs)
        self.init_values = init_values
        self.projection_dim = projection_dim

    def build(self, input_shape):
        if input_shape[-1] is not None and input_shape[-1] != self.projection_dim:
            raise ValueError(f"Layer '{self.name}' (LayerScale): the input's last axis must be projection_dim="
                             f"{self.projection_dim}; got input shape {input_shape}.")
        self.gamma = self.add_weight(name="gamma", shape=(self.projection_dim,),
                                     initializer=initializers.Constant(self.init_values), trainable=True)
        self.built = True

    def native_call(self, inputs, training=False):
        gamma = self.gamma.tensor if hasattr(self.gamma, "tensor") else self.gamma
        # Internally an image is (N, C, H, W): the channel scale broadcasts on axis 1.
        return inputs * (gamma.view(1, -1, 1, 1) if inputs.dim() == 4 else gamma)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "init_values": self.init_values, "projection_dim": self.projection_dim}


class StochasticDepth(Layer):
    """Drops whole samples' residual branches in training (scaling the kept ones by ``1 / (1 - rate)``);
    the identity at inference.

    Args:
        drop_path_rate: the probability of dropping a sample's branch, in [0, 1).

    Input shape: any. Output shape: the same.

    Example:
        >>> import numpy as np
        >>> from kerasish.applications.convnext import StochasticDepth
        >>> StochasticDepth(0.5)(np.ones((2, 2), "float32")).tolist()  # inference: identity
        [[1.0, 1.0], [1.0, 1.0]]
    """

    _native_layout = True

    def __init__(self, drop_path_rate, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(drop_path_rate, (int, float)) or not 0 <= drop_path_rate < 1:
            raise ValueError(f"StochasticDepth: `drop_path_rate` must be in [0, 1). Received: drop_path_rate={drop_path_rate!r}")
        self.drop_path_rate = drop_path_rate
        self.built = True

    def native_call(self, inputs, training=False):
        if not training or self.drop_path_rate == 0:
            return inputs
        keep = 1.0 - self.drop_path_rate
        shape = (inputs.shape[0],) + (1,) * (inputs.dim() - 1)
        mask = torch.empty(shape, dtype=inputs.dtype, device=inputs.device).bernoulli_(keep)
        return inputs * mask.div_(keep)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "drop_path_rate": self.drop_path_rate}


# Keras's configs name these classes: built-ins, so a saved ConvNeXt loads without custom_objects.
register_builtin_layers({"LayerScale": LayerScale, "StochasticDepth": StochasticDepth})


def ConvNeXtBlock(projection_dim, drop_path_rate=0.0, layer_scale_init_value=1e-6, name=None, key_map=None, prefix=None):
    """A ConvNeXt block as a function of its input: 7x7 depthwise conv, LayerNorm,
    two pointwise (Dense) layers with GELU, LayerScale, stochastic depth, residual.

    ``key_map`` / ``prefix``: where torchvision's ``CNBlock`` keys go (optional).
    """

    def apply(inputs):
        x = layers.Conv2D(projection_dim, 7, padding="same", groups=projection_dim, name=f"{name}_depthwise_conv")(inputs)
        x = layers.LayerNormalization(epsilon=1e-6, name=f"{name}_layernorm")(x)
        x = layers.Dense(4 * projection_dim, name=f"{name}_pointwise_conv_1")(x)
        x = layers.Activation("gelu", name=f"{name}_gelu")(x)
        x = layers.Dense(projection_dim, name=f"{name}_pointwise_conv_2")(x)
        if key_map is not None:
            for torch_index, layer in (("0", "depthwise_conv"), ("2", "layernorm"), ("3", "pointwise_conv_1"),
                                       ("5", "pointwise_conv_2")):
                key_map.add(f"{prefix}.block.{torch_index}", f"{name}_{layer}")
        if layer_scale_init_value is not None:
            x = LayerScale(layer_scale_init_value, projection_dim, name=f"{name}_layer_scale")(x)
            if key_map is not None:
                # torchvision keeps the scale as (C, 1, 1).
                key_map.add(prefix, f"{name}_layer_scale", keys={"gamma": "layer_scale"},
                            transforms={"gamma": lambda t: t.reshape(-1)})
        if drop_path_rate:
            branch = StochasticDepth(drop_path_rate, name=f"{name}_stochastic_depth")
        else:
            branch = layers.Activation("linear", name=f"{name}_identity")
        return inputs + branch(x)

    return apply


def ConvNeXt(depths, projection_dims, drop_path_rate=0.0, layer_scale_init_value=1e-6, default_size=224, name="convnext",
             include_preprocessing=True, include_top=True, weights=None, input_tensor=None, input_shape=None,
             pooling=None, classes=1000, classifier_activation="softmax", weights_name=None):
    """Builds a ConvNeXt of any depth / width, as Keras's ``ConvNeXt``.

    Args:
        depths: blocks per stage (4 stages).
        projection_dims: channels per stage.
        drop_path_rate: the largest stochastic-depth rate (grows linearly over the blocks).
        layer_scale_init_value: LayerScale's initial value (``None``: no LayerScale).
        default_size: the default input size.
        name: the model's name (and every layer's prefix).
        include_preprocessing: start with the ImageNet ``Normalization`` (inputs in [0, 255]).
        include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation:
            as for :func:`ConvNeXtTiny`.
        weights_name: ``"convnext_tiny"`` ...: which pretrained files ``weights`` names.

    Returns:
        A functional ``Model``.

    Example:
        >>> from kerasish.applications.convnext import ConvNeXt
        >>> ConvNeXt([1, 1, 1, 1], [8, 16, 24, 32], weights=None, input_shape=(32, 32, 3), include_top=False).output_shape
        (None, 1, 1, 32)
    """
    use_torchvision = weights == "torchvision"
    if use_torchvision and weights_name not in TORCHVISION_WEIGHTS:
        raise ValueError(f"{name}: torchvision has no ImageNet weights for this model; use weights='imagenet'.")
    inputs, x, input_shape = _building.application_input(
        name, weights="imagenet" if use_torchvision else weights, include_top=include_top, classes=classes,
        pooling=pooling, classifier_activation=classifier_activation, input_shape=input_shape,
        input_tensor=input_tensor, default_size=default_size)
    if weights in ("imagenet", "torchvision") and weights_name is not None:
        expected = MODEL_CONFIGS[weights_name.split("convnext_")[-1]]
        if list(depths) != expected["depths"] or list(projection_dims) != expected["projection_dims"]:
            raise ValueError(f"{name}: pretrained {weights_name} weights need depths {expected['depths']} and "
                             f"projection_dims {expected['projection_dims']}; got {list(depths)} and {list(projection_dims)}.")
    key_map = weight_map.KeyMap()
    if include_preprocessing and input_shape[-1] == 3:
        x = layers.Normalization(mean=[0.485 * 255, 0.456 * 255, 0.406 * 255],
                                 variance=[(0.229 * 255) ** 2, (0.224 * 255) ** 2, (0.225 * 255) ** 2],
                                 name=f"{name}_prestem_normalization")(x)

    stem = Sequential([
        layers.Conv2D(projection_dims[0], kernel_size=4, strides=4, name=f"{name}_stem_conv"),
        layers.LayerNormalization(epsilon=1e-6, name=f"{name}_stem_layernorm"),
    ], name=f"{name}_stem")
    key_map.add("features.0", stem.name, keys={"kernel": "0.weight", "bias": "0.bias", "gamma": "1.weight", "beta": "1.bias"})
    downsample = [stem]
    for i in range(3):
        block = Sequential([
            layers.LayerNormalization(epsilon=1e-6, name=f"{name}_downsampling_layernorm_{i}"),
            layers.Conv2D(projection_dims[i + 1], kernel_size=2, strides=2, name=f"{name}_downsampling_conv_{i}"),
        ], name=f"{name}_downsampling_block_{i}")
        key_map.add(f"features.{2 * i + 2}", block.name,
                    keys={"gamma": "0.weight", "beta": "0.bias", "kernel": "1.weight", "bias": "1.bias"})
        downsample.append(block)

    rates = [float(r) for r in np.linspace(0.0, drop_path_rate, sum(depths))]
    cur = 0
    for i in range(4):
        x = downsample[i](x)
        for j in range(depths[i]):
            x = ConvNeXtBlock(projection_dims[i], drop_path_rate=rates[cur + j], layer_scale_init_value=layer_scale_init_value,
                              name=f"{name}_stage_{i}_block_{j}", key_map=key_map, prefix=f"features.{2 * i + 1}.{j}")(x)
        cur += depths[i]

    if include_top:
        x = layers.GlobalAveragePooling2D(name=f"{name}_head_gap")(x)
        norm = layers.LayerNormalization(epsilon=1e-6, name=f"{name}_head_layernorm")
        x = norm(x)
        x = layers.Dense(classes, activation=classifier_activation, name=f"{name}_head_dense")(x)
        key_map.add("classifier.2", f"{name}_head_dense")
        ignore = ()
    else:
        x = _building.pool(x, pooling, named=False)
        norm = layers.LayerNormalization(epsilon=1e-6)
        x = norm(x)
        ignore = ("classifier.2.",)
    key_map.add("classifier.0", norm.name)
    model = Functional(inputs=inputs, outputs=x, name=name)
    weight_map.attach_key_map(model, key_map, ignore=ignore,
                              source=f"torchvision:{TORCHVISION_WEIGHTS[weights_name]}" if weights_name in TORCHVISION_WEIGHTS else None)

    if use_torchvision:
        weight_map.load_torchvision(model, TORCHVISION_WEIGHTS[weights_name])
    else:
        file_name = file_hash = None
        if weights_name is not None:
            file_name = name + (".h5" if include_top else "_notop.h5")
            file_hash = WEIGHTS_HASHES[weights_name][0 if include_top else 1]
        _building.load_weights(model, weights, name, file_name, BASE_WEIGHTS_PATH + (file_name or ""), file_hash)
    return model


def _variant(size):
    config = MODEL_CONFIGS[size]
    key = f"convnext_{size}"
    pretty = f"ConvNeXt{'XLarge' if size == 'xlarge' else size.capitalize()}"

    def builder(include_top=True, include_preprocessing=True, weights="imagenet", input_tensor=None, input_shape=None,
                pooling=None, classes=1000, classifier_activation="softmax", name=key):
        return ConvNeXt(config["depths"], config["projection_dims"], drop_path_rate=0.0, layer_scale_init_value=1e-6,
                        default_size=config["default_size"], name=name, include_preprocessing=include_preprocessing,
                        include_top=include_top, weights=weights, input_tensor=input_tensor, input_shape=input_shape,
                        pooling=pooling, classes=classes, classifier_activation=classifier_activation, weights_name=key)

    tv = "" if key not in TORCHVISION_WEIGHTS else (
        f" ``\"torchvision\"`` loads torchvision's ``{TORCHVISION_WEIGHTS[key]}`` (the same network); a ``.pth`` path a "
        "torchvision state_dict.")
    skip = "" if size in ("tiny", "small") else "  # doctest: +SKIP"  # big: slow to build
    builder.__name__ = builder.__qualname__ = pretty
    builder.__doc__ = f"""Instantiates {pretty} as Keras builds it (depths {config['depths']}, widths {config['projection_dims']}).

    Args:
        include_top: whether to end with the head (``{key}_head_gap``, ``_head_layernorm``, ``_head_dense``).
        include_preprocessing: start with the ImageNet normalization (inputs are RGB pixels in [0, 255]).
        weights: ``None``, ``"imagenet"`` (Keras's h5 file) or the path of a weights file.{tv}
        input_tensor: optional tensor (an ``Input``) to build on.
        input_shape: optional ``(height, width, 3)``, at least 32x32.
        pooling: ``None``, ``"avg"`` or ``"max"`` for a headless model (then a LayerNormalization, as Keras).
        classes: number of classes (with ``include_top``).
        classifier_activation: the head's activation (``None`` for logits).
        name: the model's name (``"{key}"``), also every layer's prefix.

    Returns:
        A functional ``Model``.

    Example:
        >>> from kerasish.applications.convnext import {pretty}
        >>> {pretty}(weights=None, include_top=False, pooling="avg", input_shape=(32, 32, 3)).output_shape{skip}
        (None, {config['projection_dims'][-1]})
    """
    return builder


ConvNeXtTiny = _variant("tiny")
ConvNeXtSmall = _variant("small")
ConvNeXtBase = _variant("base")
ConvNeXtLarge = _variant("large")
ConvNeXtXLarge = _variant("xlarge")


def preprocess_input(x, data_format=None):
    """A pass-through, as in Keras: ConvNeXt models normalize inside.

    Example:
        >>> from kerasish.applications.convnext import preprocess_input
        >>> preprocess_input([0.0, 255.0])
        [0.0, 255.0]
    """
    return x


def decode_predictions(preds, top=5):
    """See :func:`kerasish.applications.imagenet_utils.decode_predictions`."""
    return imagenet_utils.decode_predictions(preds, top=top)
