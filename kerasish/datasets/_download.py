"""Download, cache and safely read the files of the built-in datasets.

Two halves:

* **Download and cache** (:func:`get_file`, on
  :func:`kerasish.utils.file_utils.get_file`). Files live in
  ``~/.kerasish/datasets`` (``$KERASISH_HOME/datasets`` when the
  ``KERASISH_HOME`` environment variable is set), under the file names Keras
  uses, fetched from the same URLs as Keras and checked against known
  hashes. A download is verified before it is renamed into place, so an
  interrupted or corrupt download never leaves a partial file behind. A
  cached file whose hash does not match is fetched again (and replaced only
  by a file that matches). Without network, the error names the dataset, the
  URL and the exact path where the file can be placed by hand to work
  offline.

* **Safe reading** (:func:`load_cifar_batch`). The CIFAR "python version"
  archives hold Python 2 pickles. They are read with
  :class:`~kerasish.datasets.safe_pickle.RestrictedUnpickler`, which never
  calls any function or class named by the file except a handful of small
  validating functions; see its module for why that is safe.

The tables :data:`ORIGINS` and :data:`CHECKSUMS` are looked up at call time,
so tests (or a mirror) can patch entries, e.g.
``monkeypatch.setitem(_download.ORIGINS, "mnist.npz", "file:///tmp/mnist.npz")``.
"""

from __future__ import annotations

import os
import pickle
import tempfile

import numpy as np

from kerasish.datasets.safe_pickle import restricted_load
from kerasish.utils import file_utils

_KERAS_BUCKET = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
_TORONTO = "https://www.cs.toronto.edu/~kriz/"

#: Source URL of every dataset file, keyed by the file name Keras uses.
ORIGINS: dict[str, str] = {
    "mnist.npz": _KERAS_BUCKET + "mnist.npz",
    "train-labels-idx1-ubyte.gz": _KERAS_BUCKET + "train-labels-idx1-ubyte.gz",
    "train-images-idx3-ubyte.gz": _KERAS_BUCKET + "train-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz": _KERAS_BUCKET + "t10k-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz": _KERAS_BUCKET + "t10k-images-idx3-ubyte.gz",
    "cifar-10-python.tar.gz": _TORONTO + "cifar-10-python.tar.gz",
    "cifar-100-python.tar.gz": _TORONTO + "cifar-100-python.tar.gz",
    "imdb.npz": _KERAS_BUCKET + "imdb.npz",
    "imdb_word_index.json": _KERAS_BUCKET + "imdb_word_index.json",
    "reuters.npz": _KERAS_BUCKET + "reuters.npz",
    "reuters_word_index.json": _KERAS_BUCKET + "reuters_word_index.json",
    "boston_housing.npz": _KERAS_BUCKET + "boston_housing.npz",
    "california_housing.npz": _KERAS_BUCKET + "california_housing.npz",
}

#: ``(algorithm, hex digest)`` of every dataset file, keyed like ORIGINS.
#: MNIST, CIFAR, IMDB, Reuters and the housing sets: the values in Keras's ``keras/src/datasets``.
#: Fashion-MNIST (Keras checks none): the md5 values published by Zalando
#: in the Fashion-MNIST README (also used by torchvision).
CHECKSUMS: dict[str, tuple[str, str] | None] = {
    "mnist.npz": ("sha256", "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"),
    "train-labels-idx1-ubyte.gz": ("md5", "25c81989df183df01b3e8a0aad5dffbe"),
    "train-images-idx3-ubyte.gz": ("md5", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
    "t10k-labels-idx1-ubyte.gz": ("md5", "bb300cfdad3c16e7a12a480ee83cd310"),
    "t10k-images-idx3-ubyte.gz": ("md5", "bef4ecab320f06d8554ea6380940ec79"),
    "cifar-10-python.tar.gz": ("sha256", "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"),
    "cifar-100-python.tar.gz": ("sha256", "85cd44d02ba6437773c5bbd22e183051d648de2e7d6b014e1ef29b855ba677a7"),
    # IMDB and Reuters: Keras's values (sha256 for the .npz, md5 for the JSON).
    "imdb.npz": ("sha256", "69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f"),
    "imdb_word_index.json": ("md5", "bfafd718b763782e994055a2d397834f"),
    "reuters.npz": ("sha256", "d6586e694ee56d7a4e65172e12b3e987c03096cb01eab99753921ef915959916"),
    "reuters_word_index.json": ("md5", "4d44cc38712099c9e383dc6e5f11a921"),
    "boston_housing.npz": ("sha256", "f553886a1f8d56431e820c5b82552d9d95cfcb96d1e678153f8839538947dff5"),
    "california_housing.npz": ("sha256", "1a2e3a52e0398de6463aebe6f4a8da34fb21fbb6b934cf88c3425e766f2a1a6f"),
}

# --------------------------------------------------------------------------
# Cache folder
# --------------------------------------------------------------------------
def kerasish_home() -> str:
    """The kerasish home folder: ``$KERASISH_HOME`` or ``~/.kerasish``."""
    home = os.environ.get("KERASISH_HOME") or os.path.join("~", ".kerasish")
    return os.path.abspath(os.path.expanduser(home))


def datasets_dir(cache_subdir: str = "") -> str:
    """The folder where dataset files are cached (not created here).

    Args:
        cache_subdir: sub-folder of ``<home>/datasets`` (e.g.
            ``"fashion-mnist"``), or ``""``.

    Returns:
        ``<home>/datasets[/cache_subdir]`` where ``<home>`` is
        :func:`kerasish_home`.
    """
    return os.path.join(kerasish_home(), "datasets", cache_subdir) if cache_subdir else os.path.join(kerasish_home(), "datasets")


def _fallback_dir(cache_subdir: str) -> str:
    # As Keras does when its home is not writable: <tmp>/.kerasish/datasets.
    base = os.path.join(tempfile.gettempdir(), ".kerasish", "datasets")
    return os.path.join(base, cache_subdir) if cache_subdir else base


def _writable_dir(path: str) -> bool:
    try:
        os.makedirs(path, exist_ok=True)
    except OSError:
        return False
    return os.access(path, os.W_OK)


def _offline_message(dataset: str, fname: str, origin: str, target: str, reason: object, extra: str = "") -> str:
    return (
        f"Could not download the {dataset} dataset file '{fname}' from {origin} "
        f"({reason}). To use the {dataset} dataset offline, download {origin} on a "
        f"machine with network access and place the file, unchanged and named "
        f"'{fname}', at:\n    {target}\n{extra}"
        "(The cache folder is <KERASISH_HOME>/datasets; KERASISH_HOME defaults to "
        "~/.kerasish.)"
    )


def get_file(fname: str, key: str | None = None, cache_subdir: str = "", dataset: str = "", extra_hint: str = "") -> str:
    """Return the local path of a dataset file, downloading it if needed.

    The file is looked for at ``<home>/datasets/<cache_subdir>/<fname>``. If it
    is there and its checksum matches (or no checksum is known) it is used as
    is; a file with a wrong checksum is deleted and fetched again. Otherwise it
    is downloaded from ``ORIGINS[key]``, checked against ``CHECKSUMS[key]`` and
    moved into place.

    Args:
        fname: the file name in the cache folder (a bare name, not a path).
        key: entry of :data:`ORIGINS` / :data:`CHECKSUMS` (default ``fname``).
        cache_subdir: sub-folder of ``<home>/datasets``.
        dataset: the dataset's name, for messages.
        extra_hint: an extra line for the offline error message.

    Returns:
        The absolute path of the verified local file.

    Raises:
        ValueError: ``fname`` is a path, or the downloaded file's checksum is
            wrong.
        ConnectionError: the file is not cached and cannot be downloaded (an
            ``OSError``); the message says where to place it by hand.

    Example:
        >>> path = get_file("mnist.npz", dataset="MNIST")  # doctest: +SKIP
    """
    fname = os.fspath(fname)
    if not fname or os.sep in fname or (os.altsep and os.altsep in fname) or fname in (".", ".."):
        raise ValueError(
            "Paths are not accepted as a dataset file name: give a bare file name; "
            f"it is stored in {datasets_dir(cache_subdir)}. Received: {fname!r}."
        )
    key = fname if key is None else key
    if key not in ORIGINS:
        raise ValueError(f"Unknown dataset file key: {key!r}. Known: {sorted(ORIGINS)}.")
    origin = ORIGINS[key]
    checksum = CHECKSUMS.get(key)
    dataset = dataset or key

    folder = datasets_dir(cache_subdir)
    target = os.path.join(folder, fname)
    if not os.path.exists(target) and not _writable_dir(folder):
        # Home not writable (e.g. read-only home): use <tmp>/.kerasish like Keras.
        folder = _fallback_dir(cache_subdir)
        os.makedirs(folder, exist_ok=True)
        target = os.path.join(folder, fname)

    algorithm, expected = checksum if checksum is not None else ("auto", None)
    os.makedirs(folder, exist_ok=True)
    try:
        return file_utils.get_file(fname, origin, file_hash=expected, hash_algorithm=algorithm, cache_subdir=folder,
                                   cache_dir=folder)
    except ConnectionError as e:
        raise ConnectionError(_offline_message(dataset, fname, origin, target, getattr(e, "reason", e), extra_hint)) from e


def load_cifar_batch(fileobj, source: str, label_key: str = "labels"):
    """Parse one CIFAR batch file (``data_batch_1``, ``test``, ...).

    The file is a pickled dict with bytes keys: ``b"data"``, a ``uint8`` array
    of shape ``(N, 3072)`` (rows are 1024 red, then green, then blue values of
    a 32x32 image), and ``b"labels"`` (CIFAR-10) or ``b"fine_labels"`` /
    ``b"coarse_labels"`` (CIFAR-100), lists of ``N`` ints.

    Args:
        fileobj: open binary file.
        source: name of the file, for messages.
        label_key: ``"labels"``, ``"fine_labels"`` or ``"coarse_labels"``.

    Returns:
        ``(data, labels)``: ``data`` ``uint8`` of shape ``(N, 3, 32, 32)``
        (channels first, as in the file) and ``labels`` a list of ``N`` ints.

    Raises:
        ValueError: the file is not a CIFAR batch (message names ``source``).
    """
    try:
        d = restricted_load(fileobj, encoding="bytes")
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError, UnicodeDecodeError) as e:
        raise ValueError(f"Could not read the CIFAR batch file {source}: {e}") from e
    if not isinstance(d, dict):
        raise ValueError(f"The CIFAR batch file {source} does not hold a dict (got {type(d).__name__}).")
    d = {(k.decode("utf8") if isinstance(k, bytes) else k): v for k, v in d.items()}
    if "data" not in d or label_key not in d:
        raise ValueError(f"The CIFAR batch file {source} has no '{'data' if 'data' not in d else label_key}' entry; keys: {sorted(map(str, d))}.")
    data, labels = d["data"], d[label_key]
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072:
        raise ValueError(
            f"The 'data' entry of the CIFAR batch file {source} must be a uint8 array of shape (N, 3072); "
            f"got {getattr(data, 'dtype', type(data).__name__)} {getattr(data, 'shape', '')}."
        )
    if isinstance(labels, np.ndarray):
        labels = labels.tolist()
    if not isinstance(labels, list) or len(labels) != data.shape[0] or not all(type(v) is int and 0 <= v < 256 for v in labels):
        raise ValueError(f"The '{label_key}' entry of the CIFAR batch file {source} must be a list of {data.shape[0]} ints in [0, 255].")
    return data.reshape(data.shape[0], 3, 32, 32), labels


def read_cifar_batches(archive: str, folder: str, members: list[str], label_key: str, dataset: str):
    """Read CIFAR batch files from the cached archive (or an extracted folder).

    If ``<datasets>/<folder>/`` already holds every member (e.g. unpacked by
    hand) and the archive is not cached, the members are read from there.
    Otherwise the archive is fetched/verified with :func:`get_file` and the
    members are read straight out of the ``.tar.gz`` (nothing is extracted
    to disk, so archive paths are never trusted).

    Args:
        archive: archive file name, e.g. ``"cifar-10-python.tar.gz"``.
        folder: the folder inside the archive, e.g. ``"cifar-10-batches-py"``.
        members: batch file names inside ``folder``.
        label_key: passed to :func:`load_cifar_batch`.
        dataset: name for messages.

    Returns:
        A list of ``(data, labels)`` per member, in order.
    """
    import tarfile

    cache = datasets_dir()
    local = os.path.join(cache, folder)
    if not os.path.exists(os.path.join(cache, archive)) and all(os.path.isfile(os.path.join(local, m)) for m in members):
        out = []
        for m in members:
            with open(os.path.join(local, m), "rb") as f:
                out.append(load_cifar_batch(f, os.path.join(local, m), label_key))
        return out
    hint = f"(Or unpack the archive so that the folder {local} holds {', '.join(members)}.)\n"
    path = get_file(archive, dataset=dataset, extra_hint=hint)
    wanted = {f"{folder}/{m}": m for m in members}
    found = {}
    try:
        # One sequential pass over the gzip stream ("r|gz"): no rewinding.
        with tarfile.open(path, "r|gz") as tar:
            for info in tar:
                m = wanted.get(info.name)
                if m is None or m in found:
                    continue
                if not info.isfile():
                    raise ValueError(f"The member '{info.name}' of the {dataset} archive {path} is not a regular file.")
                with tar.extractfile(info) as f:
                    found[m] = load_cifar_batch(f, f"{path}:{info.name}", label_key)
    except (tarfile.TarError, EOFError, OSError) as e:
        raise ValueError(f"Could not read the {dataset} archive {path}: {e}") from e
    missing = [name for name, m in wanted.items() if m not in found]
    if missing:
        raise ValueError(f"The {dataset} archive {path} has no member(s) {missing}.")
    return [found[m] for m in members]
