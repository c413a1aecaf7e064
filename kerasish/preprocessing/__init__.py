"""``keras.preprocessing``: Keras 3's namespace of data loading names, the same
functions as in :mod:`kerasish.utils` (scripts written for Keras 2 import them from here).

Example:
    >>> from kerasish.preprocessing.sequence import pad_sequences
    >>> pad_sequences([[1, 2], [3]], maxlen=3).tolist()
    [[0, 1, 2], [0, 0, 3]]
"""

from kerasish.preprocessing import image, sequence
from kerasish.utils.image_dataset import image_dataset_from_directory
from kerasish.utils.text_dataset import text_dataset_from_directory
from kerasish.utils.timeseries_dataset import timeseries_dataset_from_array

__all__ = ["image", "image_dataset_from_directory", "sequence", "text_dataset_from_directory", "timeseries_dataset_from_array"]
