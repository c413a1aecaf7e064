"""``kerasish.utils``: helpers Keras scripts call (``set_random_seed``, ...)."""

from kerasish.utils.random import set_random_seed

__all__ = ["set_random_seed"]
