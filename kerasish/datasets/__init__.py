"""``kerasish.datasets``: the Keras built-in datasets as numpy arrays.

``mnist``, ``fashion_mnist``, ``cifar10``, ``cifar100``, ``imdb``,
``reuters``, ``boston_housing`` and ``california_housing``, each with a ``load_data()`` that returns
``(x_train, y_train), (x_test, y_test)`` exactly as Keras does (same shapes,
dtypes, values, channels_last images; word-id sequences for the text sets,
which also have ``get_word_index()``). Files are
downloaded once from the URLs Keras uses, checked against known checksums and
cached in ``~/.kerasish/datasets`` (``$KERASISH_HOME/datasets``).

Example:
    >>> from kerasish.datasets import mnist
    >>> (x_train, y_train), (x_test, y_test) = mnist.load_data()  # doctest: +SKIP
    >>> x_train.shape, y_train.dtype  # doctest: +SKIP
    ((60000, 28, 28), dtype('uint8'))
"""

from kerasish.datasets import boston_housing, california_housing, cifar10, cifar100, fashion_mnist, imdb, mnist, reuters

__all__ = ["boston_housing", "california_housing", "cifar10", "cifar100", "fashion_mnist", "imdb", "mnist", "reuters"]
