"""Fashion-MNIST dataset."""

from __future__ import annotations

import gzip
import os

import numpy as np

from kerasish.datasets import _download

_FILES = (
    "train-labels-idx1-ubyte.gz",
    "train-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
)


def read_idx(path: str, ndim: int) -> np.ndarray:
    """Read a gzipped IDX file of unsigned bytes (the MNIST file format).

    The header is the magic number ``0x0000 08 <ndim>`` (big endian) followed
    by ``ndim`` big-endian uint32 sizes; the data are ``uint8``.

    Args:
        path: the ``.gz`` file.
        ndim: expected rank (1 for labels, 3 for images).

    Returns:
        A writable ``uint8`` array of the shape given in the header.

    Raises:
        ValueError: not an IDX ``uint8`` file of rank ``ndim`` or truncated.
    """
    try:
        with gzip.open(path, "rb") as f:
            raw = bytearray(f.read())
    except (OSError, EOFError) as e:
        raise ValueError(f"Could not read the IDX file {path}: {e}") from e
    header = 4 + 4 * ndim
    if len(raw) < header or raw[0:3] != b"\x00\x00\x08" or raw[3] != ndim:
        raise ValueError(f"{path} is not an IDX file of unsigned bytes with {ndim} dimension(s) (bad magic number {bytes(raw[:4])!r}).")
    shape = tuple(int(v) for v in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    count = int(np.prod(shape, dtype=np.int64))
    if len(raw) - header != count:
        raise ValueError(f"The IDX file {path} holds {len(raw) - header} data bytes, expected {count} for shape {shape}.")
    return np.frombuffer(raw, dtype=np.uint8, count=count, offset=header).reshape(shape)


def load_data():
    """Loads the Fashion-MNIST dataset.

    60,000 28x28 grayscale images of 10 fashion categories for training and
    10,000 for testing; a drop-in replacement for MNIST. The four IDX ``.gz``
    files are downloaded once from the Keras datasets bucket, checked against
    the md5 values published with Fashion-MNIST and cached in
    ``~/.kerasish/datasets/fashion-mnist``.

    Classes: 0 T-shirt/top, 1 Trouser, 2 Pullover, 3 Dress, 4 Coat, 5 Sandal,
    6 Shirt, 7 Sneaker, 8 Bag, 9 Ankle boot.

    Returns:
        Tuple of NumPy arrays: ``(x_train, y_train), (x_test, y_test)``.

        * ``x_train``: ``uint8`` array of shape ``(60000, 28, 28)``.
        * ``y_train``: ``uint8`` array of labels (0-9), shape ``(60000,)``.
        * ``x_test``: ``uint8`` array of shape ``(10000, 28, 28)``.
        * ``y_test``: ``uint8`` array of shape ``(10000,)``.

    Raises:
        ValueError: a file is not a valid IDX file, or the image and label
            counts differ.
        ConnectionError: a file is not cached and cannot be downloaded; the
            message says where to put it by hand.

    Example:
        >>> (x_train, y_train), (x_test, y_test) = load_data()  # doctest: +SKIP
        >>> assert x_train.shape == (60000, 28, 28)  # doctest: +SKIP

    License: copyright Zalando SE, MIT license.
    """
    dirname = "fashion-mnist"
    paths = [_download.get_file(fname, cache_subdir=dirname, dataset="Fashion-MNIST") for fname in _FILES]
    y_train = read_idx(paths[0], 1)
    x_train = read_idx(paths[1], 3)
    y_test = read_idx(paths[2], 1)
    x_test = read_idx(paths[3], 3)
    for x, y, px, py in ((x_train, y_train, paths[1], paths[0]), (x_test, y_test, paths[3], paths[2])):
        if x.shape[1:] != (28, 28) or len(x) != len(y):
            raise ValueError(
                f"Fashion-MNIST images {os.path.basename(px)} have shape {x.shape} but labels "
                f"{os.path.basename(py)} have shape {y.shape}; expected (N, 28, 28) and (N,)."
            )
    return (x_train, y_train), (x_test, y_test)
