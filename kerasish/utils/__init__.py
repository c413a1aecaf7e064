"""``kerasish.utils``: helpers Keras scripts call (``set_random_seed``,
``image_dataset_from_directory``, ``to_categorical``, ``plot_model``...)."""

from kerasish.utils.random import set_random_seed

__all__ = ["set_random_seed"]

# --- image folders and image utilities ---
