"""kerasish.datasets: Keras's numpy layout, download-and-cache, safe reading.

No network: every test writes small files in the original formats (mnist.npz,
IDX .gz, CIFAR python tar.gz with Python-2-style pickles) and points the cache
at them through KERASISH_HOME, a ``file://`` URL, or a patched checksum
table. Where Keras can read the same files, its own loaders are the oracle.
"""

import gzip
import hashlib
import io
import os
import pickle
import struct
import tarfile
import urllib.error

import numpy as np
import pytest

from kerasish.datasets import _download, boston_housing, california_housing, cifar10, cifar100, fashion_mnist, mnist, safe_pickle
from kerasish.utils import file_utils


# --------------------------------------------------------------------------
# helpers: files in the original formats
# --------------------------------------------------------------------------
def sha256(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def md5(path):
    return hashlib.md5(open(path, "rb").read()).hexdigest()


class Py2Pickler(pickle._Pickler):
    """Writes pickles like Python 2's cPickle did for the CIFAR files:
    protocol 2, every str/bytes as a byte string (BINSTRING opcodes),
    ``numpy.core.multiarray`` as the module of ``_reconstruct``."""

    dispatch = pickle._Pickler.dispatch.copy()

    def _save_binstring(self, obj):
        if isinstance(obj, str):
            obj = obj.encode("ascii")
        n = len(obj)
        if n < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([n]) + obj)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", n) + obj)
        self.memoize(obj)

    dispatch[bytes] = _save_binstring
    dispatch[str] = _save_binstring


def py2_dumps(obj):
    buf = io.BytesIO()
    Py2Pickler(buf, protocol=2).dump(obj)
    return buf.getvalue().replace(b"cnumpy._core.multiarray\n", b"cnumpy.core.multiarray\n")


def cifar_batch(rng, n, label_keys, n_classes):
    d = {b"batch_label": b"training batch 1 of 5", b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8)}
    for key, k in zip(label_keys, n_classes):
        d[key] = [int(v) for v in rng.integers(0, k, n)]
    d[b"filenames"] = [f"img_{i}.png".encode() for i in range(n)]
    return d


def write_tar(path, members):
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def make_cifar10(folder, rng, dumps=py2_dumps, sizes=(3, 2, 4, 1, 2, 3)):
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    batches = {name: cifar_batch(rng, n, [b"labels"], [10]) for name, n in zip(names, sizes)}
    members = {f"cifar-10-batches-py/{name}": dumps(d) for name, d in batches.items()}
    members["cifar-10-batches-py/batches.meta"] = dumps({b"label_names": [b"airplane"] * 10, b"num_vis": 3072})
    path = os.path.join(folder, "cifar-10-python.tar.gz")
    write_tar(path, members)
    return path, batches, members


def make_cifar100(folder, rng, dumps=py2_dumps):
    batches = {
        "train": cifar_batch(rng, 5, [b"fine_labels", b"coarse_labels"], [100, 20]),
        "test": cifar_batch(rng, 3, [b"fine_labels", b"coarse_labels"], [100, 20]),
    }
    members = {f"cifar-100-python/{name}": dumps(d) for name, d in batches.items()}
    members["cifar-100-python/meta"] = dumps({b"fine_label_names": [b"apple"] * 100, b"coarse_label_names": [b"fish"] * 20})
    path = os.path.join(folder, "cifar-100-python.tar.gz")
    write_tar(path, members)
    return path, batches, members


def make_mnist_npz(path, rng, n_train=7, n_test=4):
    arrays = dict(
        x_train=rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        y_train=rng.integers(0, 10, n_train).astype(np.uint8),
        x_test=rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        y_test=rng.integers(0, 10, n_test).astype(np.uint8),
    )
    np.savez(path, **arrays)
    return arrays


def write_idx(path, array):
    header = struct.pack(">BBBB", 0, 0, 8, array.ndim) + b"".join(struct.pack(">I", s) for s in array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


def no_network(*args, **kwargs):
    raise urllib.error.URLError("no network in tests")


@pytest.fixture
def home(tmp_path, monkeypatch):
    """An empty KERASISH_HOME; network access fails unless a test allows it."""
    h = tmp_path / "home"
    monkeypatch.setenv("KERASISH_HOME", str(h))
    monkeypatch.setattr(file_utils, "urlopen", no_network)
    return h


def cifar10_reference(batches):
    """CIFAR-10 as Keras builds it, written out from the raw batches."""
    xs = [b[b"data"] for name, b in batches.items() if name != "test_batch"]
    ys = [b[b"labels"] for name, b in batches.items() if name != "test_batch"]
    x_train = np.concatenate(xs).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    y_train = np.concatenate(ys).astype(np.uint8).reshape(-1, 1)
    t = batches["test_batch"]
    return (x_train, y_train), (t[b"data"].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1), np.asarray(t[b"labels"], np.uint8).reshape(-1, 1))


# --------------------------------------------------------------------------
# MNIST
# --------------------------------------------------------------------------
def test_mnist_cached_file_layout_and_values(home, monkeypatch):
    rng = np.random.default_rng(0)
    (home / "datasets").mkdir(parents=True)
    target = home / "datasets" / "mnist.npz"
    arrays = make_mnist_npz(target, rng)
    monkeypatch.setitem(_download.CHECKSUMS, "mnist.npz", ("sha256", sha256(target)))
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    assert x_train.shape == (7, 28, 28) and x_test.shape == (4, 28, 28)
    assert y_train.shape == (7,) and y_test.shape == (4,)
    assert x_train.dtype == y_train.dtype == x_test.dtype == y_test.dtype == np.uint8
    for got, key in zip((x_train, y_train, x_test, y_test), ("x_train", "y_train", "x_test", "y_test")):
        np.testing.assert_array_equal(got, arrays[key])


def test_mnist_matches_keras_loader(home, monkeypatch, keras):
    import keras.src.datasets.mnist as kmnist

    rng = np.random.default_rng(1)
    (home / "datasets").mkdir(parents=True)
    target = home / "datasets" / "mnist.npz"
    make_mnist_npz(target, rng)
    monkeypatch.setitem(_download.CHECKSUMS, "mnist.npz", ("sha256", sha256(target)))
    monkeypatch.setattr(kmnist, "get_file", lambda **kw: str(target))
    ours, theirs = mnist.load_data(), kmnist.load_data()
    for a, b in zip(ours[0] + ours[1], theirs[0] + theirs[1]):
        assert a.shape == b.shape and a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)


def test_mnist_download_through_file_url_is_verified_and_cached(home, tmp_path, monkeypatch):
    rng = np.random.default_rng(2)
    src = tmp_path / "mirror" / "mnist.npz"
    src.parent.mkdir()
    arrays = make_mnist_npz(src, rng)
    monkeypatch.setitem(_download.ORIGINS, "mnist.npz", src.as_uri())
    monkeypatch.setitem(_download.CHECKSUMS, "mnist.npz", ("sha256", sha256(src)))
    from urllib.request import urlopen

    calls = []
    monkeypatch.setattr(file_utils, "urlopen", lambda url, timeout=None: calls.append(url) or urlopen(url, timeout=timeout))
    (x_train, _), (_, y_test) = mnist.load_data()
    np.testing.assert_array_equal(x_train, arrays["x_train"])
    np.testing.assert_array_equal(y_test, arrays["y_test"])
    cached = home / "datasets" / "mnist.npz"
    assert calls == [src.as_uri()]
    assert cached.read_bytes() == src.read_bytes()
    assert sorted(os.listdir(home / "datasets")) == ["mnist.npz"]  # no temporary file left
    # A second call uses the cache: no download.
    mnist.load_data()
    assert len(calls) == 1
    # `path` names the cached file.
    mnist.load_data(path="my_mnist.npz")
    assert (home / "datasets" / "my_mnist.npz").read_bytes() == src.read_bytes()
    assert len(calls) == 2


def test_mnist_corrupt_cached_file_is_deleted_and_refetched(home, tmp_path, monkeypatch, capsys):
    rng = np.random.default_rng(3)
    src = tmp_path / "mnist.npz"
    arrays = make_mnist_npz(src, rng)
    monkeypatch.setitem(_download.ORIGINS, "mnist.npz", src.as_uri())
    monkeypatch.setitem(_download.CHECKSUMS, "mnist.npz", ("sha256", sha256(src)))
    from urllib.request import urlopen

    monkeypatch.setattr(file_utils, "urlopen", urlopen)
    cached = home / "datasets" / "mnist.npz"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(src.read_bytes()[:100])  # truncated download
    (x_train, _), _ = mnist.load_data()
    np.testing.assert_array_equal(x_train, arrays["x_train"])
    assert cached.read_bytes() == src.read_bytes()
    assert "hash does not match" in capsys.readouterr().out


def test_download_with_wrong_checksum_leaves_no_file(home, tmp_path, monkeypatch):
    src = tmp_path / "mnist.npz"
    make_mnist_npz(src, np.random.default_rng(4))
    monkeypatch.setitem(_download.ORIGINS, "mnist.npz", src.as_uri())
    monkeypatch.setitem(_download.CHECKSUMS, "mnist.npz", ("sha256", "0" * 64))
    from urllib.request import urlopen

    monkeypatch.setattr(file_utils, "urlopen", urlopen)
    with pytest.raises(ValueError, match="sha256 file hash") as e:
        mnist.load_data()
    assert src.as_uri() in str(e.value)
    assert os.listdir(home / "datasets") == []


def test_offline_error_names_dataset_url_and_path(home):
    with pytest.raises(OSError) as e:
        mnist.load_data()
    msg = str(e.value)
    target = str(home / "datasets" / "mnist.npz")
    assert isinstance(e.value, ConnectionError)
    assert "MNIST" in msg and _download.ORIGINS["mnist.npz"] in msg and target in msg
    assert "no network in tests" in msg
    assert os.listdir(home / "datasets") == []  # no partial file


def test_interrupted_download_leaves_no_partial_file(home, monkeypatch):
    class Broken:
        def __init__(self):
            self.n = 0

        def read(self, size):
            self.n += 1
            if self.n > 1:
                raise ConnectionResetError("peer reset")
            return b"x" * 10

        def __enter__(self):
            return self

        def __exit__(self, *a):
            return False

    monkeypatch.setattr(file_utils, "urlopen", lambda url, timeout=None: Broken())
    with pytest.raises(ConnectionError, match="interrupted"):
        mnist.load_data()
    assert os.listdir(home / "datasets") == []


def test_kerasish_home_default_and_path_argument(monkeypatch, tmp_path):
    monkeypatch.delenv("KERASISH_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert _download.datasets_dir() == os.path.join(str(tmp_path), ".kerasish", "datasets")
    assert _download.datasets_dir("fashion-mnist").endswith(os.path.join(".kerasish", "datasets", "fashion-mnist"))
    with pytest.raises(ValueError, match="Paths are not accepted"):
        mnist.load_data(path=os.path.join("sub", "mnist.npz"))


# --------------------------------------------------------------------------
# Fashion-MNIST
# --------------------------------------------------------------------------
def make_fashion(folder, rng):
    folder.mkdir(parents=True, exist_ok=True)
    data = {
        "train-labels-idx1-ubyte.gz": rng.integers(0, 10, 6).astype(np.uint8),
        "train-images-idx3-ubyte.gz": rng.integers(0, 256, (6, 28, 28)).astype(np.uint8),
        "t10k-labels-idx1-ubyte.gz": rng.integers(0, 10, 2).astype(np.uint8),
        "t10k-images-idx3-ubyte.gz": rng.integers(0, 256, (2, 28, 28)).astype(np.uint8),
    }
    for name, arr in data.items():
        write_idx(folder / name, arr)
    return data


def test_fashion_mnist_layout_values_and_keras_parity(home, monkeypatch, keras):
    import keras.src.datasets.fashion_mnist as kfashion

    folder = home / "datasets" / "fashion-mnist"
    data = make_fashion(folder, np.random.default_rng(5))
    for name in data:
        monkeypatch.setitem(_download.CHECKSUMS, name, ("md5", md5(folder / name)))
    (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data()
    assert x_train.shape == (6, 28, 28) and y_train.shape == (6,) and x_test.shape == (2, 28, 28) and y_test.shape == (2,)
    assert {a.dtype for a in (x_train, y_train, x_test, y_test)} == {np.dtype("uint8")}
    np.testing.assert_array_equal(x_train, data["train-images-idx3-ubyte.gz"])
    np.testing.assert_array_equal(y_test, data["t10k-labels-idx1-ubyte.gz"])
    x_train[0, 0, 0] = 1  # writable arrays

    monkeypatch.setattr(kfashion, "get_file", lambda fname, origin, cache_subdir: str(folder / fname))
    theirs = kfashion.load_data()
    ours = fashion_mnist.load_data()
    for a, b in zip(ours[0] + ours[1], theirs[0] + theirs[1]):
        assert a.shape == b.shape and a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)


def test_fashion_mnist_offline_and_bad_idx(home, monkeypatch):
    with pytest.raises(ConnectionError) as e:
        fashion_mnist.load_data()
    assert "Fashion-MNIST" in str(e.value)
    assert str(home / "datasets" / "fashion-mnist" / "train-labels-idx1-ubyte.gz") in str(e.value)

    folder = home / "datasets" / "fashion-mnist"
    data = make_fashion(folder, np.random.default_rng(6))
    with gzip.open(folder / "train-images-idx3-ubyte.gz", "wb") as f:
        f.write(b"\x00\x00\x08\x03" + struct.pack(">III", 6, 28, 28) + b"\x00" * 10)  # truncated
    for name in data:
        monkeypatch.setitem(_download.CHECKSUMS, name, None)
    with pytest.raises(ValueError, match="train-images-idx3-ubyte.gz"):
        fashion_mnist.load_data()


def test_published_checksums_and_urls():
    # The values Keras (mnist, cifar) and Fashion-MNIST publish.
    assert _download.CHECKSUMS["mnist.npz"] == ("sha256", "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1")
    assert _download.CHECKSUMS["cifar-10-python.tar.gz"][1].startswith("6d958be0")
    assert _download.CHECKSUMS["cifar-100-python.tar.gz"][1].startswith("85cd44d0")
    assert _download.ORIGINS["cifar-10-python.tar.gz"] == "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
    assert _download.ORIGINS["mnist.npz"] == "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
    assert all(k in _download.CHECKSUMS for k in _download.ORIGINS)


# --------------------------------------------------------------------------
# CIFAR
# --------------------------------------------------------------------------
def place_cifar(home, monkeypatch, maker, rng, **kw):
    (home / "datasets").mkdir(parents=True, exist_ok=True)
    path, batches, members = maker(str(home / "datasets"), rng, **kw)
    monkeypatch.setitem(_download.CHECKSUMS, os.path.basename(path), ("sha256", sha256(path)))
    return path, batches, members


def test_cifar10_layout_transpose_and_values(home, monkeypatch):
    _, batches, _ = place_cifar(home, monkeypatch, make_cifar10, np.random.default_rng(7))
    (x_train, y_train), (x_test, y_test) = cifar10.load_data()
    assert x_train.shape == (12, 32, 32, 3) and x_test.shape == (3, 32, 32, 3)
    assert y_train.shape == (12, 1) and y_test.shape == (3, 1)
    assert {a.dtype for a in (x_train, y_train, x_test, y_test)} == {np.dtype("uint8")}
    # channels_last: pixel (i, j) of channel c is data[c * 1024 + i * 32 + j].
    raw = batches["data_batch_1"][b"data"]
    for n, i, j, c in [(0, 0, 0, 0), (1, 5, 7, 2), (2, 31, 30, 1)]:
        assert x_train[n, i, j, c] == raw[n, c * 1024 + i * 32 + j]
    ref = cifar10_reference(batches)
    for a, b in zip((x_train, y_train, x_test, y_test), ref[0] + ref[1]):
        np.testing.assert_array_equal(a, b)
    assert x_train.flags.c_contiguous


def test_cifar10_matches_keras_loader(home, tmp_path, monkeypatch, keras):
    import keras.src.datasets.cifar10 as kcifar10

    path, _, members = place_cifar(home, monkeypatch, make_cifar10, np.random.default_rng(8))
    extracted = tmp_path / "extracted"
    with tarfile.open(path) as tar:
        tar.extractall(extracted, filter="data")
    monkeypatch.setattr(kcifar10, "get_file", lambda **kw: str(extracted))
    monkeypatch.setattr(kcifar10, "np", _SizedNumpy(12), raising=True)
    ours, theirs = cifar10.load_data(), kcifar10.load_data()
    for a, b in zip(ours[0] + ours[1], theirs[0] + theirs[1]):
        assert a.shape == b.shape and a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)


class _SizedNumpy:
    """numpy, except that Keras's hard-coded 50000-sample / 10000-per-batch
    CIFAR-10 buffer is sized for our small batches (sizes (3,2,4,1,2))."""

    def __init__(self, n):
        self.n = n

    def __getattr__(self, name):
        return getattr(np, name)

    def empty(self, shape, dtype=None):
        return _Slots(np.empty((self.n,) + tuple(shape[1:]), dtype=dtype))


class _Slots(np.ndarray):
    """Maps Keras's ``[(i-1)*10000 : i*10000]`` slices onto batch offsets."""

    _offsets = {0: (0, 3), 10000: (3, 5), 20000: (5, 9), 30000: (9, 10), 40000: (10, 12)}

    def __new__(cls, arr):
        return arr.view(cls)

    def _map(self, key):
        if isinstance(key, tuple) and isinstance(key[0], slice) and key[0].start in self._offsets:
            return (slice(*self._offsets[key[0].start]),) + key[1:]
        if isinstance(key, slice) and key.start in self._offsets:
            return slice(*self._offsets[key.start])
        return key

    def __setitem__(self, key, value):
        np.ndarray.__setitem__(self.view(np.ndarray), self._map(key), value)


def test_cifar10_python3_protocol2_pickles_also_load(home, monkeypatch):
    dumps = lambda d: pickle.dumps(d, protocol=2)  # noqa: E731
    _, batches, _ = place_cifar(home, monkeypatch, make_cifar10, np.random.default_rng(9), dumps=dumps)
    (x_train, y_train), (x_test, y_test) = cifar10.load_data()
    ref = cifar10_reference(batches)
    for a, b in zip((x_train, y_train, x_test, y_test), ref[0] + ref[1]):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("label_mode", ["fine", "coarse"])
def test_cifar100_label_modes_and_keras_parity(home, tmp_path, monkeypatch, keras, label_mode):
    import keras.src.datasets.cifar100 as kcifar100

    path, batches, _ = place_cifar(home, monkeypatch, make_cifar100, np.random.default_rng(10))
    (x_train, y_train), (x_test, y_test) = cifar100.load_data(label_mode=label_mode)
    assert x_train.shape == (5, 32, 32, 3) and x_test.shape == (3, 32, 32, 3)
    assert y_train.shape == (5, 1) and y_test.shape == (3, 1)
    assert x_train.dtype == np.uint8
    key = f"{label_mode}_labels".encode()
    np.testing.assert_array_equal(y_train[:, 0], batches["train"][key])
    np.testing.assert_array_equal(y_test[:, 0], batches["test"][key])
    np.testing.assert_array_equal(x_test, batches["test"][b"data"].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))

    extracted = tmp_path / "extracted"
    with tarfile.open(path) as tar:
        tar.extractall(extracted, filter="data")
    monkeypatch.setattr(kcifar100, "get_file", lambda **kw: str(extracted))
    theirs = kcifar100.load_data(label_mode=label_mode)
    for a, b in zip((x_train, y_train, x_test, y_test), theirs[0] + theirs[1]):
        assert a.shape == b.shape and a.dtype == b.dtype  # labels: int64, as in Keras
        np.testing.assert_array_equal(a, b)


def test_cifar100_bad_label_mode():
    with pytest.raises(ValueError, match="label_mode=medium"):
        cifar100.load_data(label_mode="medium")


def test_cifar_download_via_file_url_and_offline_message(home, tmp_path, monkeypatch):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    path, batches, _ = make_cifar100(str(mirror), np.random.default_rng(11))
    monkeypatch.setitem(_download.CHECKSUMS, "cifar-100-python.tar.gz", ("sha256", sha256(path)))
    with pytest.raises(ConnectionError) as e:
        cifar100.load_data()
    target = str(home / "datasets" / "cifar-100-python.tar.gz")
    assert "CIFAR-100" in str(e.value) and target in str(e.value)
    assert "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz" in str(e.value)
    assert str(home / "datasets" / "cifar-100-python") in str(e.value)  # the unpacked-folder option

    from urllib.request import urlopen

    monkeypatch.setattr(file_utils, "urlopen", urlopen)
    monkeypatch.setitem(_download.ORIGINS, "cifar-100-python.tar.gz", "file://" + os.path.abspath(path))
    (x_train, y_train), _ = cifar100.load_data("coarse")
    np.testing.assert_array_equal(y_train[:, 0], batches["train"][b"coarse_labels"])
    assert open(target, "rb").read() == open(path, "rb").read()


def test_cifar_reads_a_folder_unpacked_by_hand(home, tmp_path, monkeypatch):
    path, batches, _ = make_cifar10(str(tmp_path), np.random.default_rng(12))
    with tarfile.open(path) as tar:
        tar.extractall(home / "datasets", filter="data")
    (x_train, y_train), (x_test, y_test) = cifar10.load_data()  # no archive, no network
    ref = cifar10_reference(batches)
    for a, b in zip((x_train, y_train, x_test, y_test), ref[0] + ref[1]):
        np.testing.assert_array_equal(a, b)


def test_cifar_corrupt_archive_is_refetched(home, tmp_path, monkeypatch):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    path, batches, _ = make_cifar10(str(mirror), np.random.default_rng(13))
    monkeypatch.setitem(_download.CHECKSUMS, "cifar-10-python.tar.gz", ("sha256", sha256(path)))
    monkeypatch.setitem(_download.ORIGINS, "cifar-10-python.tar.gz", "file://" + os.path.abspath(path))
    from urllib.request import urlopen

    monkeypatch.setattr(file_utils, "urlopen", urlopen)
    (home / "datasets").mkdir(parents=True)
    (home / "datasets" / "cifar-10-python.tar.gz").write_bytes(b"not an archive")
    (_, y_train), _ = cifar10.load_data()
    np.testing.assert_array_equal(y_train[:3, 0], batches["data_batch_1"][b"labels"])


# --------------------------------------------------------------------------
# the restricted pickle reader
# --------------------------------------------------------------------------
class Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_malicious_pickle_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    payload = pickle.dumps({b"data": Evil(marker), b"labels": [1]}, protocol=2)
    with pytest.raises(pickle.UnpicklingError, match="system"):
        safe_pickle.restricted_loads(payload)
    assert not marker.exists()
    # Sanity: the payload really is an exploit for a plain pickle.load.
    assert b"system" in payload


def test_malicious_pickle_inside_cifar_archive_is_refused(home, monkeypatch, tmp_path):
    marker = tmp_path / "pwned"
    evil = lambda d: pickle.dumps({b"data": Evil(marker), b"labels": [0]}, protocol=2)  # noqa: E731
    place_cifar(home, monkeypatch, make_cifar10, np.random.default_rng(14), dumps=evil)
    with pytest.raises(ValueError, match="data_batch_1.*Refusing"):
        cifar10.load_data()
    assert not marker.exists()


@pytest.mark.parametrize(
    "payload",
    [
        pickle.dumps(np.array([1, None], dtype=object), protocol=2),  # object array: pointers
        pickle.dumps(np.zeros(2, dtype=[("a", "u1"), ("b", "f4")]), protocol=2),  # structured dtype
        b"\x80\x02cbuiltins\neval\nX\x04\x00\x00\x001+1\x85R.",  # builtins.eval("1+1")
        b"\x80\x02cnumpy\nndarray\nK\x01\x85R.",  # numpy.ndarray(...) call: not callable here
        b"\x80\x02c_codecs\nencode\nX\x01\x00\x00\x00aX\x05\x00\x00\x00utf_7\x86R.",  # other codec
    ],
)
def test_reader_refuses_everything_but_plain_numeric_arrays(payload):
    with pytest.raises((pickle.UnpicklingError, TypeError)):
        safe_pickle.restricted_loads(payload)


def test_reader_accepts_exactly_cifar_content():
    rng = np.random.default_rng(15)
    d = cifar_batch(rng, 4, [b"labels"], [10])
    for payload in (py2_dumps(d), pickle.dumps(d, protocol=2)):
        back = safe_pickle.restricted_loads(payload)
        assert set(back) == set(d)
        np.testing.assert_array_equal(back[b"data"], d[b"data"])
        assert back[b"labels"] == d[b"labels"] and back[b"filenames"] == d[b"filenames"]
    data, labels = _download.load_cifar_batch(io.BytesIO(py2_dumps(d)), "batch", "labels")
    assert data.shape == (4, 3, 32, 32) and labels == d[b"labels"]
    bad = dict(d)
    bad[b"data"] = d[b"data"][:, :100]
    with pytest.raises(ValueError, match=r"\(N, 3072\)"):
        _download.load_cifar_batch(io.BytesIO(py2_dumps(bad)), "batch", "labels")


def test_cifar_archive_missing_member_is_named(home, monkeypatch):
    (home / "datasets").mkdir(parents=True)
    path = str(home / "datasets" / "cifar-10-python.tar.gz")
    write_tar(path, {"cifar-10-batches-py/data_batch_1": py2_dumps(cifar_batch(np.random.default_rng(16), 2, [b"labels"], [10]))})
    monkeypatch.setitem(_download.CHECKSUMS, "cifar-10-python.tar.gz", ("sha256", sha256(path)))
    with pytest.raises(ValueError, match="cifar-10-batches-py/test_batch"):
        cifar10.load_data()


# --------------------------------------------------------------------------
# Boston / California housing
# --------------------------------------------------------------------------
def place_housing(home, monkeypatch, name, n, features, seed):
    rng = np.random.default_rng(seed)
    (home / "datasets").mkdir(parents=True, exist_ok=True)
    target = home / "datasets" / name
    x, y = rng.random((n, features)), rng.random(n) * 50
    np.savez(target, x=x, y=y)
    monkeypatch.setitem(_download.CHECKSUMS, name, ("sha256", sha256(target)))
    return target, x, y


@pytest.mark.parametrize("kwargs", [{}, {"test_split": 0.35, "seed": 7}, {"test_split": 0.0}])
def test_boston_housing_matches_keras(home, monkeypatch, keras, kwargs):
    import keras.src.datasets.boston_housing as kboston

    target, _, _ = place_housing(home, monkeypatch, "boston_housing.npz", 37, 13, 20)
    monkeypatch.setattr(kboston, "get_file", lambda *a, **kw: str(target))
    ours, theirs = boston_housing.load_data(**kwargs), kboston.load_data(**kwargs)
    for a, b in zip(ours[0] + ours[1], theirs[0] + theirs[1]):
        assert a.shape == b.shape and a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
    assert ours[0][0].shape[1] == 13


@pytest.mark.parametrize("version", ["large", "small"])
def test_california_housing_matches_keras(home, monkeypatch, keras, version):
    import keras.src.datasets.california_housing as kcal

    target, _, _ = place_housing(home, monkeypatch, "california_housing.npz", 650, 8, 21)
    monkeypatch.setattr(kcal, "get_file", lambda *a, **kw: str(target))
    ours, theirs = california_housing.load_data(version=version), kcal.load_data(version=version)
    for a, b in zip(ours[0] + ours[1], theirs[0] + theirs[1]):
        assert a.shape == b.shape and a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
    assert len(ours[0][0]) + len(ours[1][0]) == (600 if version == "small" else 650)


def test_housing_download_bad_arguments_and_offline(home, tmp_path, monkeypatch):
    with pytest.raises(ValueError, match="version='medium'"):
        california_housing.load_data(version="medium")
    with pytest.raises(ValueError, match="test_split=1"):
        boston_housing.load_data(test_split=1)
    with pytest.raises(ConnectionError) as e:
        boston_housing.load_data()
    assert "Boston housing" in str(e.value) and _download.ORIGINS["boston_housing.npz"] in str(e.value)
    assert str(home / "datasets" / "boston_housing.npz") in str(e.value)

    mirror = tmp_path / "mirror.npz"
    np.savez(mirror, x=np.ones((10, 8)), y=np.arange(10.0))
    monkeypatch.setitem(_download.ORIGINS, "california_housing.npz", mirror.as_uri())
    monkeypatch.setitem(_download.CHECKSUMS, "california_housing.npz", ("sha256", sha256(mirror)))
    from urllib.request import urlopen

    monkeypatch.setattr(file_utils, "urlopen", urlopen)
    (x_train, y_train), (x_test, y_test) = california_housing.load_data(test_split=0.3)
    assert x_train.shape == (7, 8) and x_test.shape == (3, 8)
    assert sorted(np.concatenate([y_train, y_test]).tolist()) == list(range(10))


def test_housing_files_are_checked(home, monkeypatch):
    (home / "datasets").mkdir(parents=True)
    target = home / "datasets" / "boston_housing.npz"
    np.savez(target, x=np.ones((4, 12)), y=np.ones(4))  # 12 features, not 13
    monkeypatch.setitem(_download.CHECKSUMS, "boston_housing.npz", ("sha256", sha256(target)))
    with pytest.raises(ValueError, match=r"\(n, 13\)"):
        boston_housing.load_data()
    np.savez(target, x=np.array([object(), 1], dtype=object), y=np.ones(2))
    monkeypatch.setitem(_download.CHECKSUMS, "boston_housing.npz", ("sha256", sha256(target)))
    with pytest.raises(ValueError, match="allow_pickle|Object arrays|Could not read"):
        boston_housing.load_data()


def test_housing_published_checksums():
    assert _download.CHECKSUMS["boston_housing.npz"][1].startswith("f553886a")
    assert _download.CHECKSUMS["california_housing.npz"][1].startswith("1a2e3a52")
    assert _download.ORIGINS["california_housing.npz"].endswith("tf-keras-datasets/california_housing.npz")
