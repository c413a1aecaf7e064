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
