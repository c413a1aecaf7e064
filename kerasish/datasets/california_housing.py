"""California housing price regression dataset, as ``keras.datasets.california_housing``."""

from __future__ import annotations

from kerasish.datasets import _download, _housing


def load_data(version="large", path="california_housing.npz", test_split=0.2, seed=113):
    """Loads the California Housing dataset.

    From the StatLib repository: one row per block group of the 1990 U.S.
    census, 8 features (MedInc, HouseAge, AveRooms, AveBedrms, Population,
    AveOccup, Latitude, Longitude); the target is the median house value in
    dollars. ``california_housing.npz`` is downloaded once from the Keras
    datasets bucket, checked against Keras's sha256 and cached in
    ``~/.kerasish/datasets``.

    Args:
        version: ``"large"`` (20,640 samples) or ``"small"`` (the first 600,
            a stand-in for the deprecated ``boston_housing``).
        path: file name under which to cache the dataset (a bare name).
        test_split: fraction of the data for the test set, in ``[0, 1)``.
        seed: seed of the shuffle before the split (Keras's default 113).

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: ``x`` arrays of shape
        ``(n, 8)``, ``y`` arrays of shape ``(n,)`` (the file's dtypes), split
        exactly as Keras splits them.

    Raises:
        ValueError: bad ``version`` or ``test_split``; the file is not a
            valid dataset file.
        ConnectionError: the file is not cached and cannot be downloaded.

    Example:
        >>> (x_train, y_train), (x_test, y_test) = load_data(version="small")  # doctest: +SKIP
        >>> x_train.shape, x_test.shape  # doctest: +SKIP
        ((480, 8), (120, 8))
    """
    if version not in ("small", "large"):
        raise ValueError(f"california_housing load_data: argument `version` must be one of 'small', 'large'. Received: version={version!r}")
    _housing.check_test_split(test_split, "california_housing")
    fpath = _download.get_file(path, key="california_housing.npz", dataset="California housing")
    x, y = _housing.read_xy(fpath, "California housing", 8)
    if version == "small":
        x, y = x[:600], y[:600]
    return _housing.shuffle_split(x, y, test_split, seed)
