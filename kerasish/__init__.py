"""kerasish: write Keras, run native PyTorch.

``import kerasish as keras`` gives the Keras 3 API (``keras.layers``,
``keras.Model``, ``keras.Sequential``, ``keras.Input``, ...) on models made of
ordinary ``torch.nn`` modules.
"""

from kerasish.version import __version__

# kerasish.saving first. Its registry (object_registration, serialization_lib)
# is the bottom of the package and every kind of object registers in it, but
# the package's __init__ also imports the file formats, which import models and
# so nearly everything else. Entered here, the registry is complete before any
# module that needs it starts; entered from a low module (activations, say),
# that module would still be half-made when the formats reach it again.
from kerasish import saving
from kerasish import activations, backend, constraints, initializers, regularizers
from kerasish import layers, models
from kerasish import applications, callbacks, config, datasets, distribution, losses, metrics, mixed_precision, optimizers, utils
from kerasish import ops, preprocessing, random, tree, visualization
from kerasish.engine.layer import Layer
from kerasish.models.model import Model
from kerasish.models.sequential import Sequential
from kerasish.engine.keras_tensor import KerasTensor
from kerasish.engine.naming import clear_session
from kerasish.layers.core.input_layer import Input, InputLayer
from kerasish.layers.core.input_spec import InputSpec

__all__ = ["Input", "InputLayer", "InputSpec", "KerasTensor", "Layer", "Model", "Sequential", "activations", "backend", "clear_session", "constraints", "initializers", "layers", "models", "regularizers", "saving", "applications", "callbacks", "config", "datasets", "distribution", "losses", "metrics", "mixed_precision", "optimizers", "utils", "ops", "preprocessing", "random", "tree", "visualization"]

# Imported on first use: only tests need it.
_LAZY_SUBPACKAGES = ("testing",)


def __getattr__(name):
    if name in _LAZY_SUBPACKAGES:
        import importlib

        return importlib.import_module(f"kerasish.{name}")
    raise AttributeError(f"module 'kerasish' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY_SUBPACKAGES))
