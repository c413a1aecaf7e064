"""``kerasish.utils``: helpers Keras scripts call (``set_random_seed``,
``image_dataset_from_directory``, ``to_categorical``, ``plot_model``...)."""

from kerasish.utils.random import set_random_seed

__all__ = ["set_random_seed"]

# --- image folders and image utilities ---
from kerasish.utils.dataset_utils import split_dataset
from kerasish.utils.image_dataset import image_dataset_from_directory
from kerasish.utils.image_utils import array_to_img, img_to_array, load_img, save_img, smart_resize
from kerasish.utils.numerical_utils import normalize, to_categorical

__all__ += ["array_to_img", "image_dataset_from_directory", "img_to_array", "load_img", "normalize", "save_img", "smart_resize", "split_dataset", "to_categorical"]
from kerasish.visualization.model_visualization import plot_model
__all__ += ["plot_model"]
from kerasish.trainers.epoch_iterator import pack_x_y_sample_weight, unpack_x_y_sample_weight
__all__ += ["pack_x_y_sample_weight", "unpack_x_y_sample_weight"]
from kerasish.saving import CustomObjectScope, custom_object_scope, deserialize_keras_object, get_custom_objects, get_registered_name, get_registered_object, register_keras_serializable, serialize_keras_object
__all__ += ["CustomObjectScope", "custom_object_scope", "deserialize_keras_object", "get_custom_objects", "get_registered_name", "get_registered_object", "register_keras_serializable", "serialize_keras_object"]
# --- sequence data ---
from kerasish.utils.sequence_utils import pad_sequences
from kerasish.utils.timeseries_dataset import timeseries_dataset_from_array
__all__ += ["pad_sequences", "timeseries_dataset_from_array"]
# --- the rest of keras.utils's small names ---
from kerasish.callbacks.progbar_logger import Progbar
from kerasish.config import disable_interactive_logging, enable_interactive_logging, is_interactive_logging_enabled
from kerasish.engine.keras_tensor import get_source_inputs, is_keras_tensor
from kerasish.engine.naming import clear_session
from kerasish.ops.core import standardize_dtype
from kerasish.utils.config import Config
__all__ += ["Config", "Progbar", "clear_session", "disable_interactive_logging", "enable_interactive_logging", "get_source_inputs",
            "is_interactive_logging_enabled", "is_keras_tensor", "standardize_dtype"]
# --- issue 20: Python datasets and files ---
from kerasish.trainers.py_dataset import PyDataset, Sequence
from kerasish.utils.file_utils import get_file
__all__ += ["PyDataset", "Sequence", "get_file"]
from kerasish.utils.dataset import AUTOTUNE, INFINITE, UNKNOWN, Dataset, TensorSpec
from kerasish.utils.text_dataset import text_dataset_from_directory
__all__ += ["AUTOTUNE", "Dataset", "INFINITE", "TensorSpec", "UNKNOWN", "text_dataset_from_directory"]
