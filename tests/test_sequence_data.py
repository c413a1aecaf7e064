"""Sequence data helpers: ``pad_sequences``, ``timeseries_dataset_from_array``
and the IMDB / Reuters datasets.

Keras is the oracle where it runs without TensorFlow: ``keras.utils.pad_sequences``
and ``keras.datasets.imdb`` / ``reuters`` ``load_data`` (their download patched
to return the same small file). ``timeseries_dataset_from_array`` returns a
``tf.data.Dataset`` in Keras, so it is checked against a numpy reference of
Keras's documented semantics and against its docstring examples. Dataset files
are written here in the original formats (``.npz`` of object arrays, word-index
JSON); no network.
"""

import hashlib
import io
import itertools
import json
import os
import pickle
import zipfile

import keras
import numpy as np
import pytest
import torch
from keras.src.datasets import imdb as keras_imdb
from keras.src.datasets import reuters as keras_reuters

import kerasish
from kerasish.datasets import _download, imdb, reuters, safe_pickle
from kerasish.utils import file_utils
from kerasish.utils import pad_sequences, timeseries_dataset_from_array


# --------------------------------------------------------------------------
# pad_sequences
# --------------------------------------------------------------------------
SEQS = [[1], [2, 3], [4, 5, 6], [], [7, 8, 9, 10, 11], [12, 13]]


@pytest.mark.parametrize("padding,truncating", list(itertools.product(["pre", "post"], repeat=2)))
@pytest.mark.parametrize("maxlen", [None, 1, 2, 3, 5, 8])
@pytest.mark.parametrize("dtype,value", [("int32", 0.0), ("int64", -1), ("float32", 0.5), ("float64", np.nan)])
def test_pad_sequences_matches_keras(padding, truncating, maxlen, dtype, value):
    kw = dict(maxlen=maxlen, dtype=dtype, padding=padding, truncating=truncating, value=value)
    for seqs in (SEQS, [np.array(s) for s in SEQS], tuple(tuple(s) for s in SEQS)):
        ours, theirs = pad_sequences(seqs, **kw), keras.utils.pad_sequences(seqs, **kw)
        assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
        np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("padding,truncating", list(itertools.product(["pre", "post"], repeat=2)))
def test_pad_sequences_of_vectors_and_strings_match_keras(padding, truncating):
    rng = np.random.default_rng(0)
    vecs = [rng.normal(size=(n, 3)).astype("float32") for n in (4, 1, 0, 6)]
    kw = dict(maxlen=5, dtype="float32", padding=padding, truncating=truncating)
    ours, theirs = pad_sequences(vecs, **kw), keras.utils.pad_sequences(vecs, **kw)
    assert ours.shape == (4, 5, 3)
    np.testing.assert_array_equal(ours, theirs)
    words = [["a", "bb"], ["ccc"], ["d", "e", "f", "g"]]
    for dtype in (object, "<U3"):
        kw = dict(maxlen=3, dtype=dtype, padding=padding, truncating=truncating, value="_")
        ours, theirs = pad_sequences(words, **kw), keras.utils.pad_sequences(words, **kw)
        assert ours.dtype == theirs.dtype
        assert ours.tolist() == theirs.tolist()


def test_pad_sequences_keras_docstring_examples():
    sequence = [[1], [2, 3], [4, 5, 6]]
    assert pad_sequences(sequence).tolist() == [[0, 0, 1], [0, 2, 3], [4, 5, 6]]
    assert pad_sequences(sequence).dtype == np.int32
    assert pad_sequences(sequence, value=-1).tolist() == [[-1, -1, 1], [-1, 2, 3], [4, 5, 6]]
    assert pad_sequences(sequence, padding="post").tolist() == [[1, 0, 0], [2, 3, 0], [4, 5, 6]]
    assert pad_sequences(sequence, maxlen=2).tolist() == [[0, 1], [2, 3], [5, 6]]


@pytest.mark.parametrize("args,kw,match", [
    ((iter([[1]]),), {}, "must be iterable"),
    (([[1], 5],), {}, "list of iterables"),
    (([[1, 2]],), {"value": "x"}, "not compatible"),
    (([[[1, 2]], [[1, 2, 3]]],), {}, "different from expected shape"),
    (([[1, 2]],), {"padding": "middle"}, "Padding type"),
    (([[1, 2]],), {"truncating": "both"}, "Truncating type"),
])
def test_pad_sequences_errors_as_keras(args, kw, match):
    with pytest.raises(ValueError, match=match):
        pad_sequences(*args, **kw)
    with pytest.raises(ValueError, match=match):
        keras.utils.pad_sequences(*args, **kw)


def test_pad_sequences_edge_cases():
    assert pad_sequences([], maxlen=4).shape == (0, 4)
    assert pad_sequences([[], []]).shape == (2, 0)
    np.testing.assert_array_equal(pad_sequences([[1, 2], []], maxlen=0), np.zeros((2, 0), "int32"))
    with pytest.raises(ValueError, match="empty"):
        pad_sequences([])
    with pytest.raises(ValueError, match="maxlen"):
        pad_sequences([[1]], maxlen=-1)
    with pytest.raises(ValueError, match="maxlen"):
        pad_sequences([[1]], maxlen=2.5)


# --------------------------------------------------------------------------
# timeseries_dataset_from_array
# --------------------------------------------------------------------------
def reference_windows(data, targets, sequence_length, sequence_stride=1, sampling_rate=1, shuffle=False, seed=None,
                      start_index=None, end_index=None):
    """Keras's semantics in plain numpy: the windows (and targets) in order."""
    start = start_index or 0
    end = len(data) if end_index is None else end_index
    num_seqs = end - start - (sequence_length - 1) * sampling_rate
    if targets is not None:
        num_seqs = min(num_seqs, len(targets))
    positions = list(range(0, max(num_seqs, 0), sequence_stride))
    if shuffle:
        arr = np.array(positions, dtype="int32")
        np.random.RandomState(seed).shuffle(arr)
        positions = arr.tolist()
    part = np.asarray(data)[start:end]
    xs = [part[[p + j * sampling_rate for j in range(sequence_length)]] for p in positions]
    ys = None if targets is None else [np.asarray(targets)[start:end][p] for p in positions]
    return xs, ys


def collect(ds):
    """Every window (and target) of one epoch, batched or single."""
    xs, ys = [], []
    for batch in ds:
        if isinstance(batch, tuple):
            x, y = batch
            assert isinstance(y, torch.Tensor)
            ys.extend(y.numpy() if ds.batch_size else [y.numpy()])
        else:
            x = batch
        assert isinstance(x, torch.Tensor)
        xs.extend(x.numpy() if ds.batch_size else [x.numpy()])
    return xs, ys


CASES = [
    dict(sequence_length=10, sequence_stride=3, sampling_rate=2),
    dict(sequence_length=1),
    dict(sequence_length=5, sequence_stride=1, sampling_rate=1, start_index=7),
    dict(sequence_length=4, sequence_stride=2, sampling_rate=3, start_index=5, end_index=60),
    dict(sequence_length=6, sequence_stride=5, end_index=40),
    dict(sequence_length=20, sequence_stride=20),
    dict(sequence_length=99),
    dict(sequence_length=120),  # longer than the data: no window
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: ",".join(f"{k}={v}" for k, v in c.items()))
@pytest.mark.parametrize("batch_size", [1, 7, 128, None])
@pytest.mark.parametrize("with_targets", [True, False])
def test_timeseries_windows_match_reference(case, batch_size, with_targets):
    data = np.arange(100 * 3, dtype="float32").reshape(100, 3)
    targets = np.arange(100) * 10 if with_targets else None
    ds = timeseries_dataset_from_array(data, targets, batch_size=batch_size, **case)
    ref_x, ref_y = reference_windows(data, targets, **case)
    xs, ys = collect(ds)
    assert len(xs) == len(ref_x)
    for a, b in zip(xs, ref_x):
        np.testing.assert_array_equal(a, b)
    if with_targets:
        np.testing.assert_array_equal(np.array(ys), np.array(ref_y).reshape(-1))
    expected_batches = len(ref_x) if batch_size is None else -(-len(ref_x) // batch_size)
    assert len(ds) == expected_batches == len(list(ds))
    if batch_size is not None and ref_x:
        first = next(iter(ds))
        first = first[0] if with_targets else first
        assert tuple(first.shape) == (min(batch_size, len(ref_x)), case["sequence_length"], 3)


def test_timeseries_targets_shorter_than_data_and_multi_dim_targets():
    data = np.random.default_rng(0).normal(size=(50, 2))
    targets = np.arange(30 * 2).reshape(30, 2)
    ds = timeseries_dataset_from_array(data, targets, sequence_length=5, batch_size=8)
    xs, ys = collect(ds)
    ref_x, ref_y = reference_windows(data, targets, sequence_length=5)
    assert len(xs) == 30
    np.testing.assert_allclose(np.array(xs), np.array(ref_x), rtol=kerasish.testing.float32_tol())
    np.testing.assert_array_equal(np.array(ys), np.array(ref_y))
    x, _ = next(iter(ds))
    assert x.dtype == torch.float32  # float64 data read as float32, as the data adapter does


def test_timeseries_keras_docstring_examples():
    # Example 1: indices 0..98, length 10, rate 2, stride 3.
    ds = timeseries_dataset_from_array(np.arange(99), None, sequence_length=10, sampling_rate=2, sequence_stride=3)
    seqs = torch.cat(list(ds)).tolist()
    assert seqs[0] == [0, 2, 4, 6, 8, 10, 12, 14, 16, 18]
    assert seqs[1] == [3, 5, 7, 9, 11, 13, 15, 17, 19, 21]
    assert seqs[2] == [6, 8, 10, 12, 14, 16, 18, 20, 22, 24]
    assert seqs[-1] == [78, 80, 82, 84, 86, 88, 90, 92, 94, 96]
    # Example 2: the past 10 steps predict the next one.
    data = np.random.default_rng(1).normal(size=(200,)).astype("float32")
    inputs, targets = next(iter(timeseries_dataset_from_array(data[:-10], data[10:], sequence_length=10)))
    np.testing.assert_array_equal(inputs[0].numpy(), data[:10])
    assert float(targets[0]) == data[10]
    # Example 3: many-to-many, non-overlapping windows of 20.
    X = np.arange(100)
    Y = X * 2
    inputs = timeseries_dataset_from_array(X, None, sequence_length=20, sequence_stride=20)
    outputs = timeseries_dataset_from_array(Y, None, sequence_length=20, sequence_stride=20)
    for a, b in zip(inputs, outputs):
        np.testing.assert_array_equal(a[0].numpy(), X[:20])
        np.testing.assert_array_equal(b[1].numpy(), Y[20:40])


def test_timeseries_shuffle_is_keras_order_then_reshuffled_and_seeded():
    data = np.arange(200)
    kw = dict(sequence_length=4, sequence_stride=2, batch_size=16, shuffle=True, seed=7)
    ds = timeseries_dataset_from_array(data, data, **kw)
    ref_x, ref_y = reference_windows(data, data, **{k: v for k, v in kw.items() if k != "batch_size"})
    epoch1 = collect(ds)
    np.testing.assert_array_equal(np.array(epoch1[0]), np.array(ref_x))  # Keras's RandomState order
    np.testing.assert_array_equal(np.array(epoch1[1]), np.array(ref_y))
    epoch2 = collect(ds)
    assert sorted(map(tuple, epoch2[0])) == sorted(map(tuple, epoch1[0]))  # the same windows...
    assert [tuple(x) for x in epoch2[0]] != [tuple(x) for x in epoch1[0]]  # ...in a new order
    for x, y in zip(*epoch2):
        assert x[0] == y  # targets still follow their windows
    again = timeseries_dataset_from_array(data, data, **kw)
    for a, b in zip((collect(again), collect(again)), (epoch1, epoch2)):
        np.testing.assert_array_equal(np.array(a[0]), np.array(b[0]))
    unseeded = timeseries_dataset_from_array(data, None, sequence_length=4, shuffle=True)
    assert sorted(map(tuple, collect(unseeded)[0])) == sorted(map(tuple, reference_windows(data, None, 4)[0]))


@pytest.mark.parametrize("kw,match", [
    (dict(start_index=-1), "start_index` must be 0 or greater"),
    (dict(start_index=100), "start_index` must be lower than the length"),
    (dict(start_index=10, end_index=5), "end_index` must be higher than `start_index"),
    (dict(end_index=100), "end_index` must be lower than the length"),
    (dict(end_index=-3), "end_index` must be higher than 0"),
    (dict(sampling_rate=0), "sampling_rate` must be higher than 0"),
    (dict(sampling_rate=100), "sampling_rate` must be lower than the length"),
    (dict(sequence_stride=0), "sequence_stride` must be higher than 0"),
    (dict(sequence_stride=100), "sequence_stride` must be lower than the length"),
    (dict(format="torch"), "format"),
    (dict(sequence_length=0), "sequence_length"),
    (dict(batch_size=0), "batch_size"),
])
def test_timeseries_bad_arguments(kw, match):
    kw = {"sequence_length": 5, **kw}
    with pytest.raises(ValueError, match=match):
        timeseries_dataset_from_array(np.arange(100), np.arange(100), **kw)


def test_timeseries_targets_too_short_for_start_index():
    with pytest.raises(ValueError, match="targets"):
        timeseries_dataset_from_array(np.arange(100), np.arange(20), sequence_length=5, start_index=10)


def test_timeseries_dataset_trains_a_model():
    from kerasish.layers import Dense, Flatten

    rng = np.random.default_rng(0)
    series = rng.normal(size=(300, 2))  # float64, as a user's array often is
    train = timeseries_dataset_from_array(series[:-8], series[8:, 0], sequence_length=8, batch_size=32, shuffle=True, seed=1)
    val = timeseries_dataset_from_array(series[:-8], series[8:, 0], sequence_length=8, batch_size=32, start_index=200)
    model = kerasish.Sequential([kerasish.Input((8, 2)), Flatten(), Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    hist = model.fit(train, validation_data=val, epochs=2, verbose=0)
    assert len(hist.history["loss"]) == 2 and np.isfinite(hist.history["val_loss"]).all()
    windows = timeseries_dataset_from_array(series, None, sequence_length=8, batch_size=50)
    assert np.asarray(model.predict(windows, verbose=0)).shape == (293, 1)


# --------------------------------------------------------------------------
# IMDB and Reuters: files in the original format
# --------------------------------------------------------------------------
def ragged(rng, n, vocab, lengths=(1, 30)):
    out = np.empty(n, dtype=object)
    for i in range(n):
        out[i] = [int(w) for w in rng.integers(1, vocab, size=int(rng.integers(*lengths)))]
    return out


class Py2Pickler(pickle._Pickler):
    """Protocol 2 with every str/bytes as a Python 2 byte string and numpy's
    old module name: how the Keras IMDB / Reuters files were written."""

    dispatch = pickle._Pickler.dispatch.copy()

    def _save_binstring(self, obj):
        obj = obj.encode("ascii") if isinstance(obj, str) else obj
        self.write(pickle.SHORT_BINSTRING + bytes([len(obj)]) + obj)
        self.memoize(obj)

    dispatch[bytes] = _save_binstring
    dispatch[str] = _save_binstring


def save_npz(path, py2=False, **arrays):
    """An .npz as Keras's files are: object arrays pickled inside .npy members
    (``py2``: as written from Python 2; else numpy's protocol 4)."""
    with zipfile.ZipFile(path, "w") as z:
        for name, arr in arrays.items():
            buf = io.BytesIO()
            if arr.dtype == object:
                np.lib.format.write_array_header_1_0(buf, np.lib.format.header_data_from_array_1_0(arr))
                if py2:
                    data = io.BytesIO()
                    Py2Pickler(data, protocol=2).dump(arr)
                    buf.write(data.getvalue().replace(b"numpy._core.multiarray\n", b"numpy.core.multiarray\n"))
                else:
                    pickle.dump(arr, buf, protocol=4)
            else:
                np.lib.format.write_array(buf, arr, allow_pickle=False)
            z.writestr(name + ".npy", buf.getvalue())


def digest(path, algorithm):
    return hashlib.new(algorithm, open(path, "rb").read()).hexdigest()


@pytest.fixture
def home(tmp_path, monkeypatch):
    h = tmp_path / "home"
    monkeypatch.setenv("KERASISH_HOME", str(h))

    def no_network(url, timeout=None):
        raise AssertionError(f"unexpected download of {url}")

    monkeypatch.setattr(file_utils, "urlopen", no_network)
    return h


def mirror(monkeypatch, key, src, algorithm="sha256"):
    """Serve ``src`` as the file ``key`` through a file:// URL with its checksum."""
    monkeypatch.setitem(_download.ORIGINS, key, src.as_uri())
    monkeypatch.setitem(_download.CHECKSUMS, key, (algorithm, digest(src, algorithm)))
    from urllib.request import urlopen

    monkeypatch.setattr(file_utils, "urlopen", urlopen)


@pytest.fixture
def imdb_file(tmp_path):
    rng = np.random.default_rng(3)
    src = tmp_path / "mirror" / "imdb.npz"
    src.parent.mkdir()
    save_npz(src, py2=True, x_train=ragged(rng, 60, 50), y_train=rng.integers(0, 2, 60),
             x_test=ragged(rng, 40, 50), y_test=rng.integers(0, 2, 40))
    return src


@pytest.fixture
def reuters_file(tmp_path):
    rng = np.random.default_rng(4)
    src = tmp_path / "mirror" / "reuters.npz"
    src.parent.mkdir()
    save_npz(src, x=ragged(rng, 90, 70), y=rng.integers(0, 46, 90))
    return src


def assert_same_split(ours, theirs):
    for a, b in zip(ours[0] + ours[1], theirs[0] + theirs[1]):
        assert a.dtype == b.dtype and a.shape == b.shape
        assert [list(s) for s in a] == [list(s) for s in b] if a.dtype == object else np.array_equal(a, b)


IMDB_ARGS = [
    {},
    dict(num_words=20),
    dict(num_words=25, skip_top=5),
    dict(maxlen=15),
    dict(seed=1, start_char=None),
    dict(start_char=None, index_from=0),
    dict(oov_char=None, num_words=30, skip_top=4),
    dict(index_from=5, start_char=2, oov_char=4, num_words=40),
]


@pytest.mark.parametrize("kw", IMDB_ARGS, ids=str)
def test_imdb_load_data_matches_keras(home, imdb_file, monkeypatch, kw):
    mirror(monkeypatch, "imdb.npz", imdb_file)
    monkeypatch.setattr(keras_imdb, "get_file", lambda **k: str(imdb_file))
    ours, theirs = imdb.load_data(**kw), keras_imdb.load_data(**kw)
    assert len(ours[0][0]) + len(ours[1][0]) > 0
    assert_same_split(ours, theirs)


def test_imdb_is_downloaded_once_and_cached(home, imdb_file, monkeypatch):
    mirror(monkeypatch, "imdb.npz", imdb_file)
    (x_train, y_train), (x_test, y_test) = imdb.load_data()
    assert (home / "datasets" / "imdb.npz").read_bytes() == imdb_file.read_bytes()
    assert x_train.dtype == object and len(x_train) == 60 and len(x_test) == 40
    # start_char, then ids shifted by index_from; the largest id is oov_char (Keras's num_words=None rule).
    assert all(s[0] == 1 and all(w >= 4 or w == 2 for w in s[1:]) for s in x_train)
    monkeypatch.setattr(file_utils, "urlopen", lambda *a, **k: pytest.fail("downloaded twice"))
    imdb.load_data(num_words=10)


def test_imdb_maxlen_leaving_nothing_fails_as_keras(home, imdb_file, monkeypatch):
    mirror(monkeypatch, "imdb.npz", imdb_file)
    with pytest.raises(ValueError, match="Increase maxlen"):
        imdb.load_data(maxlen=2)


@pytest.mark.parametrize("kw", [{}, dict(test_split=0.5, num_words=30), dict(maxlen=12, skip_top=3),
                                dict(test_split=0.0, seed=2), dict(start_char=None, index_from=0, oov_char=None)], ids=str)
def test_reuters_load_data_matches_keras(home, reuters_file, monkeypatch, kw):
    mirror(monkeypatch, "reuters.npz", reuters_file)
    monkeypatch.setattr(keras_reuters, "get_file", lambda *a, **k: str(reuters_file))
    assert_same_split(reuters.load_data(**kw), keras_reuters.load_data(**kw))


def test_reuters_label_names_and_bad_split():
    assert reuters.get_label_names() == keras_reuters.get_label_names()
    with pytest.raises(ValueError, match="test_split"):
        reuters.load_data(test_split=1.5)


@pytest.mark.parametrize("module,key", [(imdb, "imdb_word_index.json"), (reuters, "reuters_word_index.json")])
def test_get_word_index_through_the_cache(home, tmp_path, monkeypatch, module, key):
    src = tmp_path / key
    src.write_text(json.dumps({"the": 1, "and": 2, "film": 3, "café": 4}), encoding="utf-8")
    mirror(monkeypatch, key, src, algorithm="md5")
    assert module.get_word_index() == {"the": 1, "and": 2, "film": 3, "café": 4}
    assert (home / "datasets" / key).exists()
    bad = tmp_path / "bad.json"
    bad.write_text('["not", "a", "dict"]')
    mirror(monkeypatch, key, bad, algorithm="md5")
    with pytest.raises(ValueError, match="word index"):
        module.get_word_index(path="other.json")


def test_tables_hold_keras_urls_and_checksums():
    bucket = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
    for key in ("imdb.npz", "imdb_word_index.json", "reuters.npz", "reuters_word_index.json"):
        assert _download.ORIGINS[key] == bucket + key
    assert _download.CHECKSUMS["imdb.npz"] == ("sha256", "69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f")
    assert _download.CHECKSUMS["reuters_word_index.json"] == ("md5", "4d44cc38712099c9e383dc6e5f11a921")


class _Exploit:
    def __reduce__(self):
        return (os.system, ("touch pwned",))


def test_hostile_object_array_is_refused_without_running(home, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    arr = np.empty(2, dtype=object)
    arr[0], arr[1] = [1, 2], _Exploit()
    src = tmp_path / "evil.npz"
    save_npz(src, x_train=arr, y_train=np.zeros(2, "int64"), x_test=arr, y_test=np.zeros(2, "int64"))
    mirror(monkeypatch, "imdb.npz", src)
    with pytest.raises(ValueError, match="posix.system|os.system|Refusing"):
        imdb.load_data()
    assert not (tmp_path / "pwned").exists()


def test_npz_reader_checks_and_keeps_plain_arrays(tmp_path):
    arr = np.empty(3, dtype=object)
    arr[0], arr[1], arr[2] = [1, 2], [3, 4], [5]
    path = tmp_path / "a.npz"
    save_npz(path, x=arr, y=np.arange(3, dtype="uint8"), m=np.ones((2, 2), "float32"))
    out = safe_pickle.load_npz(str(path))
    assert out["x"].dtype == object and out["x"].tolist() == [[1, 2], [3, 4], [5]]
    assert out["y"].dtype == np.uint8 and out["m"].shape == (2, 2)
    with pytest.raises(ValueError, match="max_elements"):
        safe_pickle.load_npz(str(path), max_elements=4)
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="junk.npz"):
        safe_pickle.load_npz(str(tmp_path / "junk.npz"))
    # Object arrays stay refused by the CIFAR reader (restricted_load's default).
    with pytest.raises(pickle.UnpicklingError, match="O8"):
        safe_pickle.restricted_loads(pickle.dumps(arr, protocol=2))


def test_missing_arrays_name_the_file(home, tmp_path, monkeypatch):
    src = tmp_path / "partial.npz"
    save_npz(src, x=np.zeros(2, "int64"))
    mirror(monkeypatch, "imdb.npz", src)
    with pytest.raises(ValueError, match="x_train"):
        imdb.load_data()
