"""Boston housing price regression dataset, as ``keras.datasets.boston_housing``."""

from __future__ import annotations

from kerasish.datasets import _download, _housing


def load_data(path="boston_housing.npz", test_split=0.2, seed=113):
    """Loads the Boston Housing dataset.

    From the StatLib library (Carnegie Mellon University): 506 samples of 13
    attributes of houses around Boston in the late 1970s; targets are median
    home values in k$. **Warning:** the dataset has an ethical problem (its
    variable "B" assumes that racial self-segregation influences house
    prices); prefer ``california_housing`` unless illustrating that issue.
    ``boston_housing.npz`` is downloaded once from the Keras datasets bucket,
    checked against Keras's sha256 and cached in ``~/.kerasish/datasets``.

    Args:
        path: file name under which to cache the dataset (a bare name).
        test_split: fraction of the data for the test set, in ``[0, 1)``.
        seed: seed of the shuffle before the split (Keras's default 113).

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: ``x`` float64 arrays of
        shape ``(n, 13)``, ``y`` float64 arrays of shape ``(n,)``; with the
        defaults 404 training and 102 test samples, the same as Keras.

    Raises:
        ValueError: bad ``test_split``; the file is not a valid dataset file.
        ConnectionError: the file is not cached and cannot be downloaded.

    Example:
        >>> (x_train, y_train), (x_test, y_test) = load_data()  # doctest: +SKIP
        >>> x_train.shape, x_test.shape  # doctest: +SKIP
        ((404, 13), (102, 13))
    """
    _housing.check_test_split(test_split, "boston_housing")
    fpath = _download.get_file(path, key="boston_housing.npz", dataset="Boston housing")
    x, y = _housing.read_xy(fpath, "Boston housing", 13)
    return _housing.shuffle_split(x, y, test_split, seed)
