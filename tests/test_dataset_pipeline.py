"""kerasish.utils.Dataset: tf.data's methods on torch tensors, checked for
tf.data's documented semantics (no TensorFlow to compare with: values are
computed by hand / numpy), and datasets in fit / evaluate / predict, image
folders with map in the worker processes, sharding through map / prefetch."""

import os
import warnings

import numpy as np
import pytest
import torch
from PIL import Image

from kerasish.utils.dataset import AUTOTUNE, INFINITE, UNKNOWN, Dataset, TensorSpec
from kerasish.utils.dataset_utils import split_dataset
from kerasish.utils.image_dataset import image_dataset_from_directory
from kerasish.utils.timeseries_dataset import timeseries_dataset_from_array


def _ints(ds):
    return [int(v) for v in ds]


# ----------------------------------------------------------------------------- sources

def test_from_tensor_slices_structures_and_dtypes():
    x = np.arange(12, dtype="float64").reshape(6, 2)
    y = torch.arange(6)
    ds = Dataset.from_tensor_slices((x, y))
    first = next(iter(ds))
    assert isinstance(first, tuple) and first[0].dtype == torch.float32 and first[1].dtype == torch.int64
    assert first[0].tolist() == [0.0, 1.0] and len(ds) == 6
    d = Dataset.from_tensor_slices({"a": x, "b": ["p", "q", "r", "s", "t", "u"], "c": (y, y * 2)})
    e = list(d)[3]
    assert e["b"] == "s" and e["a"].tolist() == [6.0, 7.0] and e["c"][1].item() == 6
    b = next(iter(d.batch(4)))
    assert b["b"] == ["p", "q", "r", "s"] and b["a"].shape == (4, 2) and b["c"][0].tolist() == [0, 1, 2, 3]
    strs = Dataset.from_tensor_slices(np.array(["ab", "cd"]))
    assert list(strs) == ["ab", "cd"] and all(type(s) is str for s in strs)
    assert Dataset.from_tensor_slices([1, 2, 3]).element_spec == TensorSpec((), torch.int64)
    assert _ints(Dataset.range(3)) == [0, 1, 2] and _ints(Dataset.range(5, 0, -2)) == [5, 3, 1]
    assert next(iter(Dataset.range(2))).dtype == torch.int64
    assert [t.tolist() for t in Dataset.from_tensors(np.ones(3))] == [[1.0, 1.0, 1.0]]


def test_from_tensor_slices_bad_input():
    with pytest.raises(ValueError, match=r"same size along axis 0.*tensors\[0\]: 5.*tensors\[1\]: 4"):
        Dataset.from_tensor_slices((np.zeros(5), np.zeros(4)))
    with pytest.raises(ValueError, match=r"scalar"):
        Dataset.from_tensor_slices((np.zeros(5), 3.0))
    with pytest.raises(TypeError, match="tensors"):
        Dataset.from_tensor_slices(np.array([object(), object()]))


def test_from_generator_reruns_the_generator():
    calls = []

    def gen(n):
        calls.append(n)
        for i in range(n):
            yield np.full(2, i), [i, i]

    ds = Dataset.from_generator(gen, args=(3,))
    assert [tuple(x.tolist()) for x, _ in ds] == [(0, 0), (1, 1), (2, 2)]
    assert isinstance(next(iter(ds))[1], tuple)  # lists become tuples, as tf.data
    assert calls == [3, 3]


# ----------------------------------------------------------------------------- batching

def test_batch_unbatch_rebatch_values_and_cardinality():
    x = np.arange(10)
    ds = Dataset.from_tensor_slices(x)
    assert [b.tolist() for b in ds.batch(4)] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert [b.tolist() for b in ds.batch(4, drop_remainder=True)] == [[0, 1, 2, 3], [4, 5, 6, 7]]
    assert ds.batch(4).cardinality() == 3 and ds.batch(4, drop_remainder=True).cardinality() == 2
    assert ds.batch(4).element_spec == TensorSpec((None,), torch.int64)
    assert ds.batch(4, drop_remainder=True).element_spec == TensorSpec((4,), torch.int64)
    assert _ints(ds.batch(3).unbatch()) == list(range(10))
    assert [b.tolist() for b in ds.batch(4).rebatch(3)] == [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]
    assert ds.batch(4).unbatch().cardinality() == UNKNOWN
    # the element path (a map first) batches exactly as the gather path
    assert [b.tolist() for b in ds.map(lambda v: v).batch(4)] == [b.tolist() for b in ds.batch(4)]
    with pytest.raises(ValueError, match=r"batch.*batch_size.*0"):
        ds.batch(0)
    ragged = Dataset.from_generator(lambda: iter([np.zeros(2), np.zeros(3)]))
    with pytest.raises(ValueError, match=r"different shapes.*\(2,\).*\(3,\)"):
        list(ragged.batch(2))
    with pytest.raises(ValueError, match="scalar"):
        list(ds.unbatch())


def test_padded_batch():
    seqs = [[1], [2, 3], [4, 5, 6], [7, 8]]
    ds = Dataset.from_generator(lambda: ((np.array(q), len(q), "s") for q in seqs))
    (x, n, t), (x2, n2, _) = list(ds.padded_batch(3))
    assert x.tolist() == [[1, 0, 0], [2, 3, 0], [4, 5, 6]] and n.tolist() == [1, 2, 3] and t == ["s"] * 3
    assert x2.tolist() == [[7, 8]] and n2.tolist() == [2]
    fixed = next(iter(ds.padded_batch(2, padded_shapes=([5], [], None), padding_values=(-1, 0, ""))))
    assert fixed[0].tolist() == [[1, -1, -1, -1, -1], [2, 3, -1, -1, -1]]
    d = Dataset.from_generator(lambda: ({"a": np.ones((k, 2))} for k in (1, 3)))
    assert next(iter(d.padded_batch(2, padded_shapes={"a": (-1, 2)})))["a"].shape == (2, 3, 2)
    assert ds.padded_batch(2, drop_remainder=True).cardinality() == UNKNOWN
    assert len(list(ds.padded_batch(3, drop_remainder=True))) == 1
    with pytest.raises(ValueError, match=r"padded_batch: component 0 has size 3 on axis 0, more than padded_shapes' 2"):
        list(ds.padded_batch(4, padded_shapes=([2], [], None)))
    with pytest.raises(ValueError, match=r"padded_batch.*batch_size=0"):
        ds.padded_batch(0)


def test_batched_strings_and_nested_batches():
    ds = Dataset.from_tensor_slices((["a", "b", "c", "d"], np.arange(4)))
    (s, t), = list(ds.batch(2).batch(2))
    assert s == [["a", "b"], ["c", "d"]] and t.tolist() == [[0, 1], [2, 3]]
    row = list(ds.batch(3).unbatch())[2]
    assert row[0] == "c" and int(row[1]) == 2


# ----------------------------------------------------------------------------- shuffle

def test_shuffle_is_a_buffer_shuffle_seeded_and_reshuffled():
    n, buf = 200, 10
    ds = Dataset.range(n).shuffle(buf, seed=3)
    first, second = _ints(ds), _ints(ds)
    assert sorted(first) == list(range(n)) and sorted(second) == list(range(n))
    assert first != second  # reshuffle_each_iteration
    # a buffer of b elements: the k-th output comes from the first k + b inputs
    for order in (first, second):
        assert all(v < k + buf for k, v in enumerate(order))
    # ...and it does mix: far from the identity
    assert sum(v != k for k, v in enumerate(first)) > n // 2
    again = Dataset.range(n).shuffle(buf, seed=3)
    assert _ints(again) == first and _ints(again) == second  # same seed, same sequence of epochs
    fixed = Dataset.range(n).shuffle(buf, seed=3, reshuffle_each_iteration=False)
    assert _ints(fixed) == _ints(fixed)
    assert _ints(Dataset.range(20).shuffle(1, seed=0)) == list(range(20))  # a buffer of 1 keeps the order
    torch.manual_seed(5)
    a = _ints(Dataset.range(50).shuffle(50))
    torch.manual_seed(5)
    assert _ints(Dataset.range(50).shuffle(50)) == a  # unseeded: reproducible from torch's global seed
    with pytest.raises(ValueError, match="buffer_size"):
        Dataset.range(3).shuffle(0)


def test_full_buffer_shuffle_is_uniform():
    # where does element 0 land with a full buffer? uniform over the 8 positions
    counts = np.zeros(8)
    for seed in range(800):
        counts[_ints(Dataset.range(8).shuffle(8, seed=seed)).index(0)] += 1
    assert counts.min() > 60 and counts.max() < 140  # expected 100 each


def test_shuffled_batches_gather_the_same_as_elements():
    x = np.random.default_rng(0).normal(size=(37, 3)).astype("float32")
    y = np.arange(37)
    fast = Dataset.from_tensor_slices((x, y)).shuffle(16, seed=4).batch(5)
    slow = Dataset.from_tensor_slices((x, y)).map(lambda a, b: (a, b)).shuffle(16, seed=4).batch(5)
    for _ in range(2):
        for (a, b), (c, d) in zip(fast, slow, strict=True):
            assert torch.equal(a, c) and torch.equal(b, d)
            np.testing.assert_array_equal(a.numpy(), x[b.numpy()])  # rows and labels stay together


# ----------------------------------------------------------------------------- take / skip / repeat / ...

def test_take_skip_repeat_cardinality():
    ds = Dataset.range(10)
    assert _ints(ds.take(3)) == [0, 1, 2] and _ints(ds.take(-1)) == list(range(10)) and ds.take(20).cardinality() == 10
    assert _ints(ds.skip(7)) == [7, 8, 9] and _ints(ds.skip(-1)) == [] and ds.skip(12).cardinality() == 0
    assert _ints(ds.take(2).repeat(3)) == [0, 1] * 3 and ds.repeat(3).cardinality() == 30
    inf = ds.repeat()
    assert inf.cardinality() == INFINITE and inf.cardinality().numpy() == -1
    assert _ints(inf.take(25)) == list(range(10)) * 2 + list(range(5)) and inf.take(25).cardinality() == 25
    with pytest.raises(TypeError, match="infinite"):
        len(inf)
    with pytest.raises(TypeError, match="unknown"):
        len(ds.filter(lambda v: v > 2))
    assert list(Dataset.range(0).repeat()) == []
    with pytest.raises(ValueError, match=r"take.*count=-2"):
        ds.take(-2)
    with pytest.raises(ValueError, match=r"skip.*count=-5"):
        ds.skip(-5)
    with pytest.raises(TypeError, match="take"):
        ds.take(1.5)
    # repeat of a shuffle: each repetition is a new order
    rep = _ints(Dataset.range(30).shuffle(30, seed=1).repeat(2))
    assert sorted(rep[:30]) == sorted(rep[30:]) and rep[:30] != rep[30:]


def test_filter_concatenate_zip_enumerate_shard():
    ds = Dataset.range(10)
    assert _ints(ds.filter(lambda v: v % 3 == 0)) == [0, 3, 6, 9]
    assert _ints(ds.take(2).concatenate(Dataset.range(5, 7))) == [0, 1, 5, 6]
    assert ds.concatenate(ds).cardinality() == 20
    z = Dataset.zip((ds, ds.map(lambda v: v * 2), Dataset.range(4)))
    assert [tuple(int(t) for t in e) for e in z] == [(i, 2 * i, i) for i in range(4)] and z.cardinality() == 4
    zd = Dataset.zip({"a": ds, "b": ds.skip(5)})
    assert [(int(e["a"]), int(e["b"])) for e in zd] == [(i, i + 5) for i in range(5)]
    assert [int(e[1]) for e in Dataset.zip(ds, ds)][:2] == [0, 1]
    assert [(int(i), int(v)) for i, v in ds.skip(4).take(2).enumerate(start=1)] == [(1, 4), (2, 5)]
    assert _ints(ds.shard(3, 1)) == [1, 4, 7] and ds.shard(3, 1).cardinality() == 3
    with pytest.raises(ValueError, match=r"`datasets`.*datasets\[1\].*int"):
        Dataset.zip((ds, 5))
    with pytest.raises(ValueError, match=r"datasets\['b'\]"):
        Dataset.zip({"a": ds, "b": [1, 2]})
    pairs = Dataset.from_tensor_slices((np.zeros(2), np.zeros(2)))
    with pytest.raises(ValueError, match="concatenate.*`dataset`"):
        list(pairs.concatenate(ds))


def test_map_unpacks_tuples_and_normalizes_results():
    ds = Dataset.from_tensor_slices((np.arange(4), np.arange(4) * 10))
    out = list(ds.map(lambda a, b: [a + b, np.float64(1.5)]))
    assert isinstance(out[0], tuple) and out[2][0].item() == 22 and out[2][1].dtype == torch.float32
    d = Dataset.from_tensor_slices({"x": np.arange(3)}).map(lambda e: {"x": e["x"] + 1, "s": "k"})
    assert [(int(e["x"]), e["s"]) for e in d] == [(1, "k"), (2, "k"), (3, "k")]
    assert ds.map(lambda a, b: a, num_parallel_calls=AUTOTUNE, deterministic=True).cardinality() == 4


def test_map_error_names_element_and_function():
    def explode(v):
        if int(v) == 3:
            raise KeyError("no three")
        return v

    with pytest.raises(ValueError, match=r"explode raised KeyError on element 3") as info:
        list(Dataset.range(6).map(explode))
    assert isinstance(info.value.__cause__, KeyError)
    with pytest.raises(ValueError, match=r"predicate .*lambda.* raised ZeroDivisionError on element 0"):
        list(Dataset.range(2).filter(lambda v: 1 / 0))
    with pytest.raises(TypeError, match="map_func"):
        Dataset.range(2).map(3)


def test_as_numpy_iterator_and_element_spec_consume_no_epoch():
    ds = Dataset.from_tensor_slices((np.ones((4, 2), "float32"), ["a", "b", "c", "d"])).batch(3)
    a = list(ds.as_numpy_iterator())
    assert isinstance(a[0][0], np.ndarray) and a[0][1].tolist() == [b"a", b"b", b"c"]
    assert ds.element_spec == (TensorSpec((None, 2), torch.float32), TensorSpec((None,), "string"))
    sh = Dataset.range(20).shuffle(20, seed=2)
    ref = Dataset.range(20).shuffle(20, seed=2)
    _ = sh.element_spec
    assert _ints(sh) == _ints(ref)  # looking at the spec did not use up a shuffle pass


# ----------------------------------------------------------------------------- cache

def test_cache_in_memory_runs_the_input_once():
    calls = []
    ds = Dataset.range(5).map(lambda v: calls.append(int(v)) or v * 2).cache()
    assert _ints(ds) == [0, 2, 4, 6, 8] and _ints(ds) == [0, 2, 4, 6, 8]
    assert calls == [0, 1, 2, 3, 4]
    partial = Dataset.range(5).map(lambda v: calls.append(int(v)) or v).cache()
    calls.clear()
    assert _ints(partial.take(2)) == [0, 1] and _ints(partial) == list(range(5))  # an unfinished pass is not kept
    assert calls == [0, 1, 0, 1, 2, 3, 4]


def test_cache_file_atomic_and_reloaded_without_pickle(tmp_path):
    path = str(tmp_path / "train.cache")
    calls = []
    x = np.random.default_rng(0).normal(size=(7, 3)).astype("float32")
    src = Dataset.from_tensor_slices({"x": x, "t": ["a", "b", "c", "d", "e", "f", "g"], "b": x[:, 0] > 0})
    ds = src.map(lambda e: calls.append(1) or e).batch(3).cache(path)
    it = iter(ds)
    next(it)
    it.close()  # an unfinished pass leaves no file behind
    assert not os.path.exists(path) and os.listdir(tmp_path) == []
    first = list(ds)
    assert os.path.exists(path) and os.listdir(tmp_path) == ["train.cache"]
    with open(path, "rb") as f:
        assert f.read(9) == b"KERASISH-"
    calls.clear()
    again = Dataset.range(1).map(lambda v: calls.append(1) or v).cache(path)  # an existing file is read, not the input
    for a, b in zip(first, again, strict=True):
        assert torch.equal(a["x"], b["x"]) and a["t"] == b["t"] and torch.equal(a["b"], b["b"]) and b["b"].dtype == torch.bool
    assert calls == []
    (tmp_path / "bogus").write_bytes(b"\x80\x04not a cache")
    with pytest.raises(ValueError, match="not a kerasish dataset cache"):
        list(Dataset.range(2).cache(str(tmp_path / "bogus")))


# ----------------------------------------------------------------------------- training

def _model(in_shape, n_out=2):
    import kerasish as keras
    from kerasish.layers import Dense, Flatten

    model = keras.Sequential([keras.Input(in_shape), Flatten(), Dense(n_out, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def test_fit_evaluate_predict_on_a_pipeline():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(100, 4)).astype("float32")
    y = (x[:, 0] > 0).astype("int64")
    train = Dataset.from_tensor_slices((x, y)).shuffle(64, seed=1).batch(16).map(lambda a, b: (a * 2.0, b)).prefetch(AUTOTUNE)
    val = Dataset.from_tensor_slices((x[:40], y[:40])).batch(16)
    model = _model((4,))
    hist = model.fit(train, validation_data=val, epochs=3, verbose=0)
    assert len(hist.history["loss"]) == 3 and np.isfinite(hist.history["val_loss"]).all()
    assert hist.history["loss"][-1] < hist.history["loss"][0]
    assert len(model.evaluate(val, verbose=0)) == 2
    assert np.asarray(model.predict(Dataset.from_tensor_slices(x).batch(32), verbose=0)).shape == (100, 2)
    # an endless dataset with steps_per_epoch
    hist = model.fit(train.repeat(), steps_per_epoch=3, epochs=2, verbose=0)
    assert len(hist.history["loss"]) == 2


def test_timeseries_and_split_are_datasets():
    ts = timeseries_dataset_from_array(np.arange(30), None, sequence_length=4, batch_size=8)
    assert isinstance(ts, Dataset) and ts.cardinality() == 4 and ts.element_spec == TensorSpec((None, 4), torch.int64)
    rows = [r.tolist() for r in ts.unbatch().take(3)]
    assert rows == [[0, 1, 2, 3], [1, 2, 3, 4], [2, 3, 4, 5]]
    assert [b.shape[0] for b in ts.rebatch(10)] == [10, 10, 7]
    x, y = np.arange(20, dtype="float64").reshape(10, 2), np.arange(10)
    left, right = split_dataset((x, y), left_size=0.6, shuffle=True, seed=3)
    assert isinstance(left, Dataset) and isinstance(left, torch.utils.data.Subset)
    batches = list(left.batch(4))
    assert [b[0].shape[0] for b in batches] == [4, 2] and batches[0][0].dtype == torch.float32
    np.testing.assert_array_equal(torch.cat([b[1] for b in batches]).numpy(), np.asarray(left.indices))
    np.testing.assert_array_equal(torch.cat([b[0] for b in batches]).numpy(), x[left.indices])
    single_l, _ = split_dataset(x, left_size=3)
    assert next(iter(single_l)).tolist() == [0.0, 1.0]  # one array: elements are rows, not 1-tuples
    l2, r2 = split_dataset(Dataset.range(10), left_size=0.3)
    assert [int(v) for v in l2] == [0, 1, 2] and len(r2) == 7


# ----------------------------------------------------------------------------- image folders

@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("ds_imgs")
    rng = np.random.default_rng(1)
    for c in ("a", "b"):
        os.makedirs(root / c)
        for i in range(6):
            Image.fromarray((rng.random((10, 12, 3)) * 255).astype("uint8")).save(root / c / f"{i}.png")
    return root


def _tag_pid(x, y):
    return x, y, torch.full((x.shape[0],), os.getpid())


def test_image_folder_map_runs_in_the_workers(folder):
    kw = dict(image_size=(8, 8), batch_size=4, shuffle=False, verbose=False)
    base = image_dataset_from_directory(folder, num_workers=2, **kw)
    mapped = base.map(_tag_pid).prefetch(AUTOTUNE)
    assert mapped.class_names == ["a", "b"] and len(mapped) == 3
    out = list(mapped)
    pids = {int(p[0]) for _, _, p in out}
    assert os.getpid() not in pids and len(pids) >= 1
    ref = list(image_dataset_from_directory(folder, num_workers=0, **kw))
    for (x, y, _), (rx, ry) in zip(out, ref, strict=True):
        assert torch.equal(x, rx) and torch.equal(y, ry)
    assert list(base)[0][0].shape == (4, 8, 8, 3)  # the source is unchanged
    inproc = image_dataset_from_directory(folder, num_workers=0, **kw).map(lambda x, y: (x / 255.0, y))
    assert torch.allclose(next(iter(inproc))[0], ref[0][0] / 255.0)
    assert mapped.element_spec[0] == TensorSpec((None, 8, 8, 3), torch.float32)
    assert mapped.take(1).element_spec[2] == TensorSpec((None,), torch.int64)  # the map's output, read in this process


def _explode(x, y):
    raise RuntimeError("augment failed")


def test_image_folder_map_error_names_element(folder):
    ds = image_dataset_from_directory(folder, image_size=(8, 8), batch_size=4, verbose=False, num_workers=1).map(_explode)
    with pytest.raises(ValueError, match=r"element 0 .*_explode raised RuntimeError on the batch of files .*: augment failed"):
        list(ds)


def test_image_folder_sharded_through_map_and_prefetch(folder):
    ds = image_dataset_from_directory(folder, image_size=(8, 8), batch_size=4, seed=3, verbose=False, num_workers=0)
    piped = ds.map(lambda x, y: (x + 1000.0, y)).prefetch(AUTOTUNE)
    pieces = [list(piped._kerasish_shard(r, 2, 3)) for r in range(2)]
    whole = list(piped)
    assert [len(p) for p in pieces] == [3, 3]
    full = list(ds._kerasish_shard(0, 1, 3))  # one process: the global batches, unmapped
    for b, (p0, p1) in enumerate(zip(*pieces)):
        assert p0[0].shape[0] == 2 and p1[0].shape[0] == 2
        assert float(p0[0].min()) >= 1000.0  # the map ran on the pieces
        assert torch.equal(torch.cat([p0[0], p1[0]]), full[b][0] + 1000.0)
    assert sum(x.shape[0] for x, _ in whole) == 12


def _flip_patterns(folder, persistent):
    from kerasish.layers import RandomFlip

    flip = RandomFlip("horizontal", seed=1)
    kw = dict(image_size=(8, 8), batch_size=2, shuffle=False, verbose=False)
    plain = [x for x, _ in image_dataset_from_directory(folder, num_workers=0, **kw)]
    ds = image_dataset_from_directory(folder, num_workers=2, persistent_workers=persistent, **kw).map(lambda x, y: (flip(x), y))
    return [[tuple(bool(torch.equal(a, b.flip(1))) for a, b in zip(xa, xp)) for (xa, _), xp in zip(ds, plain, strict=True)]
            for _ in range(2)]


@pytest.mark.parametrize("persistent", [True, False])
def test_seeded_augmentation_in_workers_is_decorrelated_and_reproducible(folder, persistent):
    # forked workers hold copies of the seeded layer: they must not all draw the same numbers
    epochs = _flip_patterns(folder, persistent)
    pairs = [(e[i], e[i + 1]) for e in epochs for i in range(0, len(e), 2)]  # batches of worker 0 and worker 1
    assert any(a != b for a, b in pairs)
    assert epochs[0] != epochs[1]  # a new draw each epoch, persistent workers or not
    assert _flip_patterns(folder, persistent) == epochs  # same seed, same augmentation


def test_image_folder_augment_and_fit(folder):
    from kerasish.layers import RandomFlip, Rescaling

    flip = RandomFlip("horizontal", seed=1)
    ds = image_dataset_from_directory(folder, image_size=(8, 8), batch_size=4, seed=1, verbose=False, num_workers=1)
    train = ds.map(lambda x, y: (flip(x), y)).prefetch(AUTOTUNE)
    plain = image_dataset_from_directory(folder, image_size=(8, 8), batch_size=12, shuffle=False, verbose=False, num_workers=0)
    aug = image_dataset_from_directory(folder, image_size=(8, 8), batch_size=12, shuffle=False, verbose=False,
                                       num_workers=0).map(lambda x, y: (flip(x), y))
    (x0, _), (x1, _) = next(iter(plain)), next(iter(aug))
    flipped = [torch.equal(a, b.flip(1)) for a, b in zip(x1, x0)]
    same = [torch.equal(a, b) for a, b in zip(x1, x0)]
    assert all(f or s for f, s in zip(flipped, same)) and any(flipped)  # each image kept or mirrored
    import kerasish as keras
    from kerasish.layers import Dense, Flatten

    model = keras.Sequential([keras.Input((8, 8, 3)), Rescaling(1 / 255), Flatten(), Dense(2, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        hist = model.fit(train, epochs=2, verbose=0)
    assert len(hist.history["loss"]) == 2 and np.isfinite(hist.history["loss"]).all()
    assert np.asarray(model.predict(plain.map(lambda x, y: x), verbose=0)).shape == (12, 2)
