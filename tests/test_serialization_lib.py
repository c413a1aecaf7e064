"""One registry and one serializer for every kind of object (issue 16, item 1):
``kerasish.saving.serialize_keras_object`` / ``deserialize_keras_object``,
custom-object scopes, registered functions, and interchange with Keras 3's
configs (Keras 3 on torch is the oracle)."""

import numpy as np
import pytest
import torch

import kerasish
from kerasish.engine.serialization import BUILTIN_LAYERS, register_builtin_layers
from kerasish.saving import object_registration, serialization_lib
from kerasish.saving import deserialize_keras_object, serialize_keras_object

PKG = "test_serialization_lib"


class Scale(kerasish.layers.Layer):
    """An unregistered custom layer: found only through custom_objects / scopes."""

    def __init__(self, factor=2.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def call(self, x):
        return x * self.factor

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


@kerasish.saving.register_keras_serializable(package=PKG, name="custom_fn")
def doubled_relu(x):
    return 2.0 * torch.relu(x)


def _functional_with_scale():
    inputs = kerasish.Input((3,))
    outputs = kerasish.layers.Dense(2)(Scale(3.0)(inputs))
    return kerasish.Model(inputs, outputs)


# ----------------------------------------------------------------------
# The two bugs of the issue
# ----------------------------------------------------------------------
def test_model_from_config_in_custom_object_scope():
    config = _functional_with_scale().get_config()
    with pytest.raises(ValueError, match="Scale"):
        kerasish.Model.from_config(config)
    with kerasish.saving.custom_object_scope({"Scale": Scale}):
        model = kerasish.Model.from_config(config)
    assert isinstance(model.layers[1], Scale) and model.layers[1].factor == 3.0


def test_sequential_from_config_in_custom_object_scope():
    seq = kerasish.Sequential([kerasish.Input((3,)), Scale(4.0), kerasish.layers.Dense(2)])
    config = seq.get_config()
    with kerasish.saving.custom_object_scope({"Scale": Scale}):
        clone = kerasish.Sequential.from_config(config)
    assert isinstance(clone.layers[0], Scale) and clone.layers[0].factor == 4.0


def test_registered_function_as_activation_survives_load_model(tmp_path):
    model = kerasish.Sequential([kerasish.Input((4,)), kerasish.layers.Dense(3, activation=doubled_relu)])
    path = str(tmp_path / "m.keras")
    model.save(path)
    loaded = kerasish.saving.load_model(path)
    assert loaded.layers[0].activation is doubled_relu
    x = np.random.default_rng(0).normal(size=(5, 4)).astype("float32")
    expected = model.predict(x, verbose=0)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), expected, rtol=1e-6, atol=1e-6 * np.abs(expected).max())


def test_registered_function_is_written_as_keras_does():
    assert kerasish.saving.get_registered_name(doubled_relu) == f"{PKG}>custom_fn"
    assert serialize_keras_object(doubled_relu) == {
        "module": "builtins",
        "class_name": "function",
        "config": f"{PKG}>custom_fn",
        "registered_name": "function",
    }
    assert kerasish.activations.get(f"{PKG}>custom_fn") is doubled_relu


# ----------------------------------------------------------------------
# Every kind round-trips through one serializer
# ----------------------------------------------------------------------
def _objects():
    ks = kerasish
    return [
        ks.layers.Dense(3, activation="relu", kernel_regularizer=ks.regularizers.L2(0.1)),
        ks.losses.Huber(delta=0.5),
        ks.metrics.AUC(num_thresholds=50),
        ks.optimizers.Adam(learning_rate=ks.optimizers.schedules.ExponentialDecay(0.1, 10, 0.9)),
        ks.optimizers.schedules.CosineDecay(0.1, 100),
        ks.initializers.RandomNormal(stddev=0.3, seed=1),
        ks.regularizers.L1L2(l1=0.1, l2=0.2),
        ks.constraints.MaxNorm(3.0),
    ]


@pytest.mark.parametrize("obj", _objects(), ids=lambda o: type(o).__name__)
def test_every_kind_round_trips(obj):
    config = serialize_keras_object(obj)
    assert config["class_name"] == type(obj).__name__ and config["registered_name"] is None
    assert config["module"].startswith("keras.")
    again = deserialize_keras_object(config)
    assert type(again) is type(obj)
    assert serialize_keras_object(again)["config"] == config["config"]


@pytest.mark.parametrize(
    "fn", [kerasish.activations.relu, kerasish.losses.mean_squared_error, doubled_relu], ids=lambda f: f.__name__
)
def test_functions_round_trip(fn):
    assert deserialize_keras_object(serialize_keras_object(fn)) is fn


def test_models_round_trip():
    seq = kerasish.Sequential([kerasish.Input((3,)), kerasish.layers.Dense(2)])
    again = deserialize_keras_object(serialize_keras_object(seq))
    assert isinstance(again, kerasish.Sequential) and again.layers[0].units == 2
    config = serialize_keras_object(_functional_with_scale())
    model = deserialize_keras_object(config, custom_objects={"Scale": Scale})
    assert isinstance(model.layers[1], Scale)


def test_plain_data_and_layers_front():
    data = {"a": [1, 2.5, None], "b": "x"}
    assert serialize_keras_object(data) == data and deserialize_keras_object(data) == data
    dense = kerasish.layers.Dense(5)
    assert kerasish.layers.deserialize(kerasish.layers.serialize(dense)).units == 5


def test_public_aliases():
    for name in (
        "serialize_keras_object",
        "deserialize_keras_object",
        "register_keras_serializable",
        "custom_object_scope",
        "CustomObjectScope",
        "get_custom_objects",
        "get_registered_name",
        "get_registered_object",
    ):
        assert getattr(kerasish.utils, name) is getattr(kerasish.saving, name)
    assert kerasish.saving.get_registered_object(f"{PKG}>custom_fn") is doubled_relu
    assert kerasish.saving.get_custom_objects()[f"{PKG}>custom_fn"] is doubled_relu


# ----------------------------------------------------------------------
# Interchange with Keras 3's serialize_keras_object
# ----------------------------------------------------------------------
def _keras_registered_fn(keras):
    @keras.saving.register_keras_serializable(package=PKG, name="custom_fn")
    def doubled_relu(x):
        return 2.0 * keras.ops.relu(x)

    return doubled_relu


def test_keras_configs_load_in_kerasish(keras):
    k_fn = _keras_registered_fn(keras)
    k_dense = keras.layers.Dense(4, activation=k_fn, kernel_initializer=keras.initializers.HeNormal(seed=3))
    k_dense.build((None, 2))
    dense = deserialize_keras_object(keras.saving.serialize_keras_object(k_dense))
    assert isinstance(dense, kerasish.layers.Dense) and dense.units == 4 and dense.activation is doubled_relu
    assert isinstance(dense.kernel_initializer, kerasish.initializers.HeNormal)

    # (Not Huber: Keras 3's Huber config drops `delta`.)
    k_loss = keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.2)
    loss = deserialize_keras_object(keras.saving.serialize_keras_object(k_loss))
    assert isinstance(loss, kerasish.losses.CategoricalCrossentropy)
    y, p = np.array([[0.0, 1.0, 0.0]], "float32"), np.array([[1.0, 1.2, 0.1]], "float32")
    expected = float(k_loss(y, p))
    np.testing.assert_allclose(float(loss(torch.tensor(y), torch.tensor(p))), expected, rtol=1e-5)

    k_opt = keras.optimizers.Adam(learning_rate=keras.optimizers.schedules.ExponentialDecay(0.1, 10, 0.9))
    opt = deserialize_keras_object(keras.saving.serialize_keras_object(k_opt))
    assert isinstance(opt, kerasish.optimizers.Adam)
    assert isinstance(opt.get_config()["learning_rate"], dict)

    k_sched = keras.optimizers.schedules.PolynomialDecay(0.5, 20, end_learning_rate=0.01)
    sched = deserialize_keras_object(keras.saving.serialize_keras_object(k_sched))
    assert isinstance(sched, kerasish.optimizers.schedules.PolynomialDecay)
    assert sched.get_config() == k_sched.get_config()

    assert deserialize_keras_object(keras.saving.serialize_keras_object(k_fn)) is doubled_relu


def test_kerasish_configs_load_in_keras(keras):
    k_fn = _keras_registered_fn(keras)
    dense = kerasish.layers.Dense(4, activation=doubled_relu)
    k_dense = keras.saving.deserialize_keras_object(serialize_keras_object(dense))
    assert isinstance(k_dense, keras.layers.Dense) and k_dense.activation is k_fn

    loss = kerasish.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.2)
    k_loss = keras.saving.deserialize_keras_object(serialize_keras_object(loss))
    assert isinstance(k_loss, keras.losses.CategoricalCrossentropy)
    assert k_loss.get_config()["label_smoothing"] == 0.2 and k_loss.get_config()["from_logits"] is True

    opt = kerasish.optimizers.Adam(learning_rate=kerasish.optimizers.schedules.ExponentialDecay(0.1, 10, 0.9))
    k_opt = keras.saving.deserialize_keras_object(serialize_keras_object(opt))
    assert isinstance(k_opt, keras.optimizers.Adam)
    assert isinstance(k_opt.learning_rate_schedule if hasattr(k_opt, "learning_rate_schedule") else k_opt._learning_rate,
                      keras.optimizers.schedules.ExponentialDecay)

    sched = kerasish.optimizers.schedules.PolynomialDecay(0.5, 20, end_learning_rate=0.01)
    k_sched = keras.saving.deserialize_keras_object(serialize_keras_object(sched))
    assert k_sched.get_config() == sched.get_config()

    assert keras.saving.deserialize_keras_object(serialize_keras_object(doubled_relu)) is k_fn


# ----------------------------------------------------------------------
# Scopes and safe mode
# ----------------------------------------------------------------------
def test_scopes_nest_and_restore():
    outer, inner = object(), object()
    get = kerasish.saving.get_registered_object
    with kerasish.saving.custom_object_scope({"thing": outer, "only_outer": outer}):
        assert get("thing") is outer
        with kerasish.saving.CustomObjectScope({"thing": inner}):
            assert get("thing") is inner and get("only_outer") is outer
            # custom_objects given to the call win over every scope.
            assert get("thing", custom_objects={"thing": 1}) == 1
        assert get("thing") is outer
    assert get("thing") is None and get("only_outer") is None


def test_scope_restored_after_error():
    with pytest.raises(RuntimeError):
        with kerasish.saving.custom_object_scope({"gone": 1}):
            raise RuntimeError("boom")
    assert kerasish.saving.get_registered_object("gone") is None


def test_safe_mode_scope_nests():
    assert object_registration.in_safe_mode()
    with object_registration.SafeModeScope(False):
        assert not object_registration.in_safe_mode()
        with object_registration.SafeModeScope(True):
            assert object_registration.in_safe_mode()
        assert not object_registration.in_safe_mode()
    assert object_registration.in_safe_mode()


def test_registry_module_is_a_leaf():
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(object_registration))
    imported = [n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    imported += [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    assert not [m for m in imported if m and (m.startswith("kerasish") or m.startswith("."))], imported


# ----------------------------------------------------------------------
# One error for names found nowhere
# ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "config, name, what",
    [
        ({"module": "my.mod", "class_name": "Mystery", "config": {}, "registered_name": "pkg>Mystery"}, "pkg>Mystery", "class"),
        ({"module": "builtins", "class_name": "function", "config": "my_fn", "registered_name": "function"}, "my_fn", "function"),
    ],
)
def test_unknown_names_raise_one_error_naming_the_fix(config, name, what):
    with pytest.raises(ValueError) as info:
        deserialize_keras_object(config, source="model.keras")
    message = str(info.value)
    assert isinstance(info.value, serialization_lib.UnknownObjectError)
    assert isinstance(info.value, TypeError)  # what Keras 3 raises
    assert f"'{name}'" in message and "'model.keras'" in message and f"custom {what}" in message
    assert "custom_objects=" in message and "register_keras_serializable" in message


def test_package_fronts_share_the_error():
    for deserialize in (kerasish.losses.deserialize, kerasish.initializers.deserialize, kerasish.layers.deserialize):
        with pytest.raises(ValueError, match=r"'Mystery'.*custom_objects=.*register_keras_serializable"):
            deserialize({"class_name": "Mystery", "config": {}})
    with pytest.raises(ValueError, match=r"Unknown activation: 'pkg>nope'.*custom function.*register_keras_serializable"):
        kerasish.activations.get("pkg>nope")


# ----------------------------------------------------------------------
# Built-in layers: an explicit table, not where a class is defined
# ----------------------------------------------------------------------
class PosesAsBuiltin(kerasish.layers.Layer):
    """Defined in a module named like kerasish's: still no built-in."""

    __module__ = "kerasish.fake"

    def __init__(self, factor=2.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def call(self, x):
        return x * self.factor

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


def test_class_in_a_kerasish_named_module_is_not_found_by_name():
    layer = PosesAsBuiltin(3.0)
    config = kerasish.layers.serialize(layer)
    # Written as a custom class (its own module and name), not as a keras.layers built-in.
    assert config["module"] == "kerasish.fake" and config["registered_name"] == "PosesAsBuiltin"
    assert "PosesAsBuiltin" not in BUILTIN_LAYERS
    with pytest.raises(serialization_lib.UnknownObjectError, match=r"'PosesAsBuiltin'.*custom_objects="):
        kerasish.layers.deserialize(config)
    with pytest.raises(serialization_lib.UnknownObjectError, match="PosesAsBuiltin"):
        deserialize_keras_object({**config, "module": "keras.layers", "registered_name": None})
    again = kerasish.layers.deserialize(config, custom_objects={"PosesAsBuiltin": PosesAsBuiltin})
    assert type(again) is PosesAsBuiltin and again.factor == 3.0


def test_table_holds_what_the_packages_export():
    exported = {name: obj for name, obj in vars(kerasish.layers).items()
                if isinstance(obj, type) and issubclass(obj, kerasish.layers.Layer)}
    assert {k: BUILTIN_LAYERS[k] for k in exported} == exported  # every exported layer, under its exported name
    models = {"Functional": kerasish.models.Functional, "Model": kerasish.Model, "Sequential": kerasish.Sequential}
    applications = {"TorchModuleLayer": kerasish.applications.TorchModuleLayer,
                    "TorchvisionNormalization": kerasish.applications.TorchvisionNormalization,
                    "CustomScaleLayer": kerasish.applications.inception_resnet_v2.CustomScaleLayer,
                    "LayerScale": kerasish.applications.convnext.LayerScale,
                    "StochasticDepth": kerasish.applications.convnext.StochasticDepth}
    assert BUILTIN_LAYERS == {**exported, **models, **applications}  # and nothing else


def test_table_refuses_a_second_class_under_a_taken_name():
    with pytest.raises(ValueError, match="'Dense' is taken"):
        register_builtin_layers({"Dense": PosesAsBuiltin})
    with pytest.raises(TypeError, match="not a Layer subclass"):
        register_builtin_layers({"relu": torch.relu})
    assert BUILTIN_LAYERS["Dense"] is kerasish.layers.Dense


def _tiny_functional():
    inputs = kerasish.Input((3,))
    return kerasish.models.Functional(inputs, kerasish.layers.Dense(2)(inputs))


# The arguments of the table's classes whose constructors require some; the
# others are made with their defaults.
_REQUIRED_ARGS = {
    "CustomScaleLayer": {"scale": 0.17},
    "StochasticDepth": {"drop_path_rate": 0.1},
    "LayerScale": {"init_values": 1e-6, "projection_dim": 4},
    "RandomPosterization": {"factor": 4},
    "RandomColorDegeneration": {"factor": 0.5},
    "RandomHue": {"factor": 0.5},
    "RandomSaturation": {"factor": 0.5},
    "RandomSharpness": {"factor": 0.5},
    "Pipeline": {"layers": []},
    "Hashing": {"num_bins": 3},
    "HashedCrossing": {"num_bins": 3},
    "CategoryEncoding": {"num_tokens": 4},
    "Discretization": {"bin_boundaries": [0.0, 1.0]},
    "Activation": {"activation": "relu"},
    "Embedding": {"input_dim": 5, "output_dim": 2},
    "ReversibleEmbedding": {"input_dim": 5, "output_dim": 2},
    "LSTM": {"units": 2},
    "GRU": {"units": 2},
    "SimpleRNN": {"units": 2},
    "Bidirectional": {"layer": kerasish.layers.LSTM(2)},
    "RNN": {"cell": kerasish.layers.LSTMCell(2)},
    "SimpleRNNCell": {"units": 2},
    "LSTMCell": {"units": 2},
    "GRUCell": {"units": 2},
    "StackedRNNCells": {"cells": [kerasish.layers.GRUCell(2)]},
    "TimeDistributed": {"layer": kerasish.layers.Dense(2)},
    "ConvLSTM2D": {"filters": 2, "kernel_size": 3},
    "CenterCrop": {"height": 2, "width": 3},
    "Conv1D": {"filters": 2, "kernel_size": 3},
    "Convolution1D": {"filters": 2, "kernel_size": 3},
    "RepeatVector": {"n": 2},
    "SpatialDropout1D": {"rate": 0.5},
    "Conv1DTranspose": {"filters": 2, "kernel_size": 3},
    "Convolution1DTranspose": {"filters": 2, "kernel_size": 3},
    "SeparableConv1D": {"filters": 2, "kernel_size": 3},
    "SeparableConvolution1D": {"filters": 2, "kernel_size": 3},
    "DepthwiseConv1D": {"kernel_size": 3},
    "Conv3D": {"filters": 2, "kernel_size": 3},
    "Convolution3D": {"filters": 2, "kernel_size": 3},
    "Conv3DTranspose": {"filters": 2, "kernel_size": 3},
    "Convolution3DTranspose": {"filters": 2, "kernel_size": 3},
    "SpatialDropout3D": {"rate": 0.5},
    "Conv2D": {"filters": 2, "kernel_size": 3},
    "Convolution2D": {"filters": 2, "kernel_size": 3},
    "Conv2DTranspose": {"filters": 2, "kernel_size": 3},
    "Convolution2DTranspose": {"filters": 2, "kernel_size": 3},
    "SeparableConv2D": {"filters": 2, "kernel_size": 3},
    "SeparableConvolution2D": {"filters": 2, "kernel_size": 3},
    "DepthwiseConv2D": {"kernel_size": 3},
    "Dense": {"units": 2},
    "Dot": {"axes": 1},
    "Dropout": {"rate": 0.5},
    "SpatialDropout2D": {"rate": 0.5},
    "InputLayer": {"shape": (3,)},
    "Lambda": {"function": doubled_relu},  # registered: written by name, not as code
    "Permute": {"dims": (2, 1)},
    "RandomBrightness": {"factor": 0.2},
    "RandomContrast": {"factor": 0.2},
    "RandomCrop": {"height": 2, "width": 3},
    "RandomRotation": {"factor": 0.2},
    "RandomTranslation": {"height_factor": 0.1, "width_factor": 0.2},
    "RandomZoom": {"height_factor": 0.2},
    "Rescaling": {"scale": 0.5},
    "Reshape": {"target_shape": (2, 3)},
    "Resizing": {"height": 2, "width": 3},
    "TensorOp": {"op": "multiply", "constant": 2.0},
    "GaussianNoise": {"stddev": 0.1},
    "GaussianDropout": {"rate": 0.5},
    "AlphaDropout": {"rate": 0.5},
    "EinsumDense": {"equation": "ab,bc->ac", "output_shape": 3, "bias_axes": "c"},
    "MultiHeadAttention": {"num_heads": 2, "key_dim": 4},
    "GroupedQueryAttention": {"head_dim": 2, "num_query_heads": 4, "num_key_value_heads": 2},
    "GroupQueryAttention": {"head_dim": 2, "num_query_heads": 4, "num_key_value_heads": 2},
    "AdaptiveAveragePooling1D": {"output_size": 2},
    "AdaptiveAveragePooling2D": {"output_size": 2},
    "AdaptiveAveragePooling3D": {"output_size": 2},
    "AdaptiveMaxPooling1D": {"output_size": 2},
    "AdaptiveMaxPooling2D": {"output_size": 2},
    "AdaptiveMaxPooling3D": {"output_size": 2},
    "Wrapper": {"layer": kerasish.layers.Dense(2)},
    "SpectralNormalization": {"layer": kerasish.layers.Dense(2)},
    "TorchModuleWrapper": {"module": torch.nn.Linear(2, 3)},
    "TorchModuleLayer": {"spec": {"architecture": "mobilenet_v2", "kwargs": {}, "paths": ["features.0"]}},
}


@pytest.mark.parametrize("name", sorted(BUILTIN_LAYERS))
def test_every_table_entry_round_trips(name):
    cls = BUILTIN_LAYERS[name]
    obj = _tiny_functional() if name == "Functional" else cls(**_REQUIRED_ARGS.get(name, {}))
    config = kerasish.layers.serialize(obj)
    # written as a built-in, under Keras's name (GroupedQueryAttention's is GroupQueryAttention)
    assert config["class_name"] == vars(cls).get("_keras_class_name", cls.__name__) and config["registered_name"] is None
    assert config["module"] in ("keras.layers", "keras", "keras.src.models.functional")
    # A TorchModuleWrapper's config holds its module pickled: loading it needs safe_mode=False.
    with object_registration.SafeModeScope(False if name == "TorchModuleWrapper" else None):
        again = kerasish.layers.deserialize(config)
    assert type(again) is cls
    assert kerasish.layers.serialize(again)["config"] == config["config"]
