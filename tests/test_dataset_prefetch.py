"""``Dataset.prefetch``: a background thread fills a bounded queue; order and
content unchanged, errors re-raised with their element index, the thread
stopped when the consumer stops, a new thread per pass, no leaked threads.

tf.data (Keras's oracle for datasets) needs TensorFlow, which is not
installed, so these tests check behaviour against the un-prefetched pipeline."""

import gc
import threading
import time

import numpy as np
import pytest
import torch
from PIL import Image

from kerasish.utils.dataset import AUTOTUNE, Dataset
from kerasish.utils.image_dataset import ImageDirectoryDataset, image_dataset_from_directory


def _threads_settle(baseline, timeout=5.0):
    """The live thread count once it is back to ``baseline`` (or after ``timeout``)."""
    end = time.monotonic() + timeout
    while threading.active_count() > baseline and time.monotonic() < end:
        time.sleep(0.01)
    return threading.active_count()


def _as_lists(ds):
    return [tuple(v.tolist() for v in e) if isinstance(e, tuple) else e.tolist() for e in ds]


@pytest.mark.parametrize("buffer_size", [AUTOTUNE, None, 0, 1, 5, 100])
def test_order_and_content_unchanged(buffer_size):
    x = np.arange(40, dtype="float32").reshape(20, 2)
    y = np.arange(20) % 3

    def pipe():
        return Dataset.from_tensor_slices((x, y)).shuffle(8, seed=4).map(lambda a, b: (a * 2.0, b + 1)).batch(3)

    plain, fetched = pipe(), pipe().prefetch(buffer_size)
    for _ in range(2):  # the second pass is a new shuffle order on both
        want, got = _as_lists(plain), _as_lists(fetched)
        assert got == want and len(got) == 7
    assert fetched.cardinality() == 7 and fetched.element_spec == plain.element_spec


def test_strings_dicts_and_batch_after_prefetch():
    ds = Dataset.from_tensor_slices({"t": ["a", "b", "c", "d", "e"], "v": np.arange(5)})
    got = [(e["t"], e["v"].tolist()) for e in ds.prefetch(2).batch(2)]
    assert got == [(["a", "b"], [0, 1]), (["c", "d"], [2, 3]), (["e"], [4])]
    # prefetch().prefetch() and a map between: still in order
    assert [int(v) for v in Dataset.range(50).prefetch().map(lambda v: v + 1).prefetch(3)] == list(range(1, 51))


def test_produces_in_a_background_thread_up_to_buffer_size_ahead():
    produced = []
    where = set()

    def record(v):
        produced.append(int(v))
        where.add(threading.get_ident())
        return v

    for buffer_size in (1, 3):
        produced.clear()
        where.clear()
        it = iter(Dataset.range(100).map(record).prefetch(buffer_size))
        assert int(next(it)) == 0
        # the consumer holds element 0; the thread fills the queue (buffer_size)
        # and computes one more, which waits for room: then it stops
        end = time.monotonic() + 5
        while len(produced) < buffer_size + 2 and time.monotonic() < end:
            time.sleep(0.01)
        time.sleep(0.2)
        assert len(produced) == buffer_size + 2, (buffer_size, produced)
        assert where and threading.get_ident() not in where
        assert [int(next(it)) for _ in range(3)] == [1, 2, 3]
        del it


def test_buffer_size_zero_runs_on_demand_in_this_thread():
    where = []
    ds = Dataset.range(4).map(lambda v: (where.append(threading.get_ident()), v)[1]).prefetch(0)
    baseline = threading.active_count()
    it = iter(ds)
    next(it)
    assert threading.active_count() == baseline and where == [threading.get_ident()]


def test_overlaps_with_the_consumer():
    # Each element takes 50 ms to produce and 50 ms to consume (sleep releases
    # the GIL, as torch ops do): prefetched, a pass takes ~n*50 ms, not ~n*100.
    def slow(v):
        time.sleep(0.05)
        return v

    n = 12
    for buffer_size, limit in ((AUTOTUNE, 0.85), (0, None)):
        t = time.perf_counter()
        for _ in Dataset.range(n).map(slow).prefetch(buffer_size):
            time.sleep(0.05)
        took = time.perf_counter() - t
        if limit is None:
            assert took >= n * 0.1 * 0.95
        else:
            assert took < n * 0.1 * limit, took


def test_an_error_is_raised_in_the_consumer_with_its_element_index():
    def gen():
        yield 1.0
        yield 2.0
        raise KeyError("missing-key")

    baseline = threading.active_count()
    got = []
    with pytest.raises(KeyError, match="missing-key") as info:
        for v in Dataset.from_generator(gen).prefetch(4):
            got.append(float(v))
    assert got == [1.0, 2.0]
    assert any("Dataset.prefetch" in n and "element 2" in n for n in info.value.__notes__)
    assert _threads_settle(baseline) == baseline

    def bad(v):
        if int(v) == 3:
            raise RuntimeError("boom")
        return v

    with pytest.raises(ValueError, match=r"Dataset.map: the function .*bad.* raised RuntimeError on element 3: boom") as info:
        list(Dataset.range(6).map(bad).prefetch())
    assert any("element 3" in n for n in info.value.__notes__)
    assert _threads_settle(baseline) == baseline


def test_the_thread_stops_when_the_consumer_stops_early():
    closed = []

    def endless():
        try:
            i = 0
            while True:
                yield i
                i += 1
        finally:
            closed.append(True)  # the input is closed, in the producer thread

    baseline = threading.active_count()
    ds = Dataset.from_generator(endless).map(lambda v: v * 2).prefetch(4)
    for v in ds:  # break
        if int(v) == 10:
            break
    assert _threads_settle(baseline) == baseline and closed == [True]
    assert [int(v) for v in ds.take(3)] == [0, 2, 4]  # take after prefetch
    assert _threads_settle(baseline) == baseline and closed == [True, True]
    it = iter(ds)  # a half-read iterator that is garbage collected
    next(it)
    assert threading.active_count() == baseline + 1
    del it
    gc.collect()
    assert _threads_settle(baseline) == baseline and closed == [True, True, True]
    # an endless repeat of a prefetched pass, stopped by take
    assert [int(v) for v in Dataset.range(2).prefetch().repeat().take(5)] == [0, 1, 0, 1, 0]
    assert _threads_settle(baseline) == baseline


def test_each_pass_is_a_new_thread_and_repeat_works():
    idents = []

    def record(v):
        idents.append(threading.get_ident())
        return v

    baseline = threading.active_count()
    ds = Dataset.range(5).map(record).prefetch()
    assert [int(v) for v in ds] == list(range(5))
    assert [int(v) for v in ds] == list(range(5))
    assert len(set(idents[:5])) == 1 and len(set(idents[5:])) == 1
    assert [int(v) for v in ds.repeat(3)] == list(range(5)) * 3
    assert _threads_settle(baseline) == baseline


def test_element_spec_starts_no_thread():
    where = []
    ds = Dataset.range(3).map(lambda v: (where.append(threading.get_ident()), v)[1]).prefetch()
    assert ds.element_spec.dtype == torch.int64
    assert where == [threading.get_ident()]


def test_fit_on_a_prefetched_pipeline_leaves_no_thread():
    import kerasish as keras
    from kerasish.layers import Dense

    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 4)).astype("float32")
    y = (x[:, 0] > 0).astype("int64")
    baseline = threading.active_count()
    model = keras.Sequential([keras.Input((4,)), Dense(2, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    train = Dataset.from_tensor_slices((x, y)).batch(16).map(lambda a, b: (a * 2.0, b)).prefetch(AUTOTUNE)
    model.fit(train, epochs=2, verbose=0)
    model.fit(train.repeat(), steps_per_epoch=3, epochs=2, verbose=0)
    gc.collect()
    assert _threads_settle(baseline) == baseline


def test_bad_buffer_size():
    with pytest.raises(ValueError, match=r"Dataset.prefetch: `buffer_size` must be >= -1.*buffer_size=-3"):
        Dataset.range(3).prefetch(-3)
    with pytest.raises(TypeError, match=r"Dataset.prefetch: `buffer_size` must be an int, got str"):
        Dataset.range(3).prefetch("2")


def test_image_folders_keep_their_worker_prefetch(tmp_path):
    for i in range(4):
        d = tmp_path / f"c{i % 2}"
        d.mkdir(exist_ok=True)
        Image.fromarray(np.full((8, 8, 3), i * 40, dtype="uint8")).save(d / f"{i}.png")
    ds = image_dataset_from_directory(tmp_path, image_size=(4, 4), batch_size=2, shuffle=False, num_workers=0, verbose=False)
    baseline = threading.active_count()
    piped = ds.map(lambda x, y: (x + 1.0, y)).prefetch(AUTOTUNE)
    assert isinstance(piped, ImageDirectoryDataset)
    got = [x for x, _ in piped]
    assert threading.active_count() == baseline
    want = [x + 1.0 for x, _ in ds]
    assert all(torch.equal(a, b) for a, b in zip(got, want)) and len(got) == 2
