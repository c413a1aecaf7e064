"""keras.utils.PyDataset / Sequence in fit / evaluate / predict: workers as
threads and processes, read-ahead bound, order, epoch hooks, errors, and a
trained-model parity check with Keras 3."""

import math
import threading
import time
import warnings

import numpy as np
import pytest
import torch

import kerasish
from kerasish import layers as L
from kerasish.trainers.data_adapter import PyDatasetData, make_data
from kerasish.trainers.py_dataset import iterate_batches
from kerasish.utils import PyDataset, Sequence
from conftest import assert_close_f32


def arrays(n=20, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 3)).astype("float32")
    y = (x @ np.array([[1.0], [-2.0], [0.5]], "float32") + 0.25).astype("float32")
    return x, y


class ArrayBatches(PyDataset):
    """Batches of in-memory arrays; records which indices were read and
    counts the epoch hooks."""

    def __init__(self, x, y=None, batch_size=4, delay=0.0, fail_at=None, **kwargs):
        super().__init__(**kwargs)
        self.x, self.y, self.batch_size = x, y, batch_size
        self.delay, self.fail_at = delay, fail_at
        self.read = []
        self.begins = self.ends = 0
        self.offset = 0.0  # changed by on_epoch_end: process workers must see it the next epoch

    def __len__(self):
        return math.ceil(len(self.x) / self.batch_size)

    def __getitem__(self, idx):
        self.read.append(idx)
        if idx == self.fail_at:
            raise ValueError(f"bad batch {idx}")
        if self.delay:
            time.sleep(self.delay * (len(self) - idx))  # later batches finish first
        sl = slice(idx * self.batch_size, (idx + 1) * self.batch_size)
        x = self.x[sl] + self.offset
        return x if self.y is None else (x, self.y[sl])

    def on_epoch_begin(self):
        self.begins += 1

    def on_epoch_end(self):
        self.ends += 1
        self.offset += 1.0


def dense_model():
    kerasish.utils.set_random_seed(0)
    model = kerasish.Sequential([L.Input((3,)), L.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    return model


def epoch_values(data, generator=None):
    return [x.clone() for x, _, _ in data.epoch(generator)]


# --------------------------------------------------------------------------
# the class itself
# --------------------------------------------------------------------------
def test_settings_num_batches_and_plain_iteration():
    x, y = arrays(10)
    ds = ArrayBatches(x, y, batch_size=4, workers=3, use_multiprocessing=False, max_queue_size=5)
    assert (ds.workers, ds.use_multiprocessing, ds.max_queue_size) == (3, False, 5)
    assert ds.num_batches == len(ds) == 3
    batches = list(ds)  # sequential, in index order
    assert ds.read == [0, 1, 2] and len(batches) == 3
    np.testing.assert_array_equal(batches[2][0], x[8:])
    assert Sequence is PyDataset
    ds.workers = 2
    assert ds.workers == 2


@pytest.mark.parametrize("kwargs, arg", [({"workers": -1}, "workers"), ({"workers": 1.5}, "workers"),
                                         ({"max_queue_size": 0}, "max_queue_size"),
                                         ({"use_multiprocessing": "yes"}, "use_multiprocessing")])
def test_bad_settings_name_the_argument(kwargs, arg):
    x, y = arrays(4)
    with pytest.raises((ValueError, TypeError), match=f"ArrayBatches.*`{arg}`"):
        ArrayBatches(x, y, **kwargs)


def test_missing_len_and_getitem_are_explained():
    class NoLen(PyDataset):
        pass

    with pytest.raises(NotImplementedError, match="num_batches"):
        NoLen().num_batches
    with pytest.raises(NotImplementedError, match="__getitem__"):
        NoLen()[0]


def test_keras2_sequence_without_super_init_warns_and_trains():
    """A Keras 2 script: subclass keras.utils.Sequence, no super().__init__(),
    reshuffle in on_epoch_end."""
    x, y = arrays(12)

    class Keras2Seq(Sequence):
        def __init__(self, x, y, batch_size):
            self.x, self.y, self.batch_size = x, y, batch_size
            self.indexes = np.arange(len(x))
            self.shuffles = 0

        def __len__(self):
            return int(np.ceil(len(self.x) / float(self.batch_size)))

        def __getitem__(self, idx):
            ids = self.indexes[idx * self.batch_size:(idx + 1) * self.batch_size]
            return self.x[ids], self.y[ids]

        def on_epoch_end(self):
            self.shuffles += 1
            np.random.default_rng(self.shuffles).shuffle(self.indexes)

    seq = Keras2Seq(x, y, 4)
    model = dense_model()
    with pytest.warns(UserWarning, match="super\\(\\).__init__"):
        history = model.fit(seq, epochs=3, verbose=0)
    assert seq.shuffles == 3 and len(history.history["loss"]) == 3
    assert (seq.workers, seq.use_multiprocessing, seq.max_queue_size) == (1, False, 10)


# --------------------------------------------------------------------------
# fit / evaluate / predict
# --------------------------------------------------------------------------
@pytest.mark.parametrize("workers", [1, 2])
def test_fit_evaluate_predict_with_threads(workers):
    x, y = arrays(22)
    model = dense_model()
    train = ArrayBatches(x, y, batch_size=4, workers=workers)
    history = model.fit(train, epochs=3, verbose=0)
    assert len(history.history["loss"]) == 3
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert train.begins == train.ends == 3
    assert sorted(train.read) == sorted(list(range(6)) * 3)  # every batch once per epoch

    test = ArrayBatches(x, y, batch_size=5, workers=workers)
    loss = model.evaluate(test, verbose=0)
    assert test.ends == 1
    # (the offset only changes after the pass: evaluate saw the plain arrays)
    assert loss == pytest.approx(model.evaluate(x, y, batch_size=5, verbose=0), rel=1e-6)

    pred = ArrayBatches(x, None, batch_size=3, workers=workers, delay=0.002)
    out = model.predict(pred, verbose=0)
    assert pred.ends == 1 and out.shape == (22, 1)
    np.testing.assert_allclose(out, model.predict(x, verbose=0), rtol=1e-6, atol=1e-7)


def test_validation_data_pydataset_hooks_per_epoch():
    x, y = arrays(16)
    model = dense_model()
    train, val = ArrayBatches(x, y, workers=2), ArrayBatches(x[:8], y[:8], workers=2)
    history = model.fit(train, validation_data=val, epochs=2, verbose=0)
    assert len(history.history["val_loss"]) == 2
    assert train.ends == 2 and val.ends == 2 and val.begins == 2


def test_fit_shuffles_batch_order_evaluate_keeps_it():
    x, y = arrays(40)
    model = dense_model()
    ds = ArrayBatches(x, y, batch_size=4)
    model.fit(ds, epochs=3, verbose=0)
    orders = [ds.read[i * 10:(i + 1) * 10] for i in range(3)]
    assert all(sorted(o) == list(range(10)) for o in orders)
    assert any(o != list(range(10)) for o in orders)  # Keras shuffles the batches in fit
    ds.read.clear()
    model.fit(ds, epochs=1, shuffle=False, verbose=0)
    assert ds.read == list(range(10))
    ds.read.clear()
    model.evaluate(ds, verbose=0)
    assert ds.read == list(range(10))


def test_y_or_sample_weight_with_a_pydataset_is_refused():
    x, y = arrays(8)
    model = dense_model()
    with pytest.raises(ValueError, match="`y` must not be given"):
        model.fit(ArrayBatches(x, y), y, verbose=0)


def test_sample_weight_and_dict_batches():
    x, y = arrays(8)

    class Weighted(PyDataset):
        def __len__(self):
            return 2

        def __getitem__(self, i):
            sl = slice(4 * i, 4 * i + 4)
            return [x[sl], y[sl], np.zeros(4, "float32")]  # a list works as a tuple

    model = dense_model()
    before = [w.copy() for w in model.get_weights()]
    model.fit(Weighted(), epochs=1, shuffle=False, verbose=0)
    for a, b in zip(model.get_weights(), before):  # zero weights: no update
        np.testing.assert_array_equal(a, b)

    inp = L.Input((3,), name="features")
    named = kerasish.Model(inp, L.Dense(1)(inp))

    class Named(PyDataset):
        def __len__(self):
            return 2

        def __getitem__(self, i):
            return {"features": x[4 * i:4 * i + 4]}

    np.testing.assert_allclose(named.predict(Named(), verbose=0), named.predict(x, verbose=0), rtol=1e-6)


def test_a_bad_batch_is_named():
    class Bad(PyDataset):
        def __len__(self):
            return 2

        def __getitem__(self, i):
            return "not a batch"

    with pytest.raises(ValueError, match=r"Bad.__getitem__\(0\) returned a str"):
        dense_model().predict(Bad(), verbose=0)


# --------------------------------------------------------------------------
# the read-ahead: order, bound, errors
# --------------------------------------------------------------------------
def test_threads_keep_order_and_read_at_most_max_queue_size_ahead():
    x, _ = arrays(40)
    ds = ArrayBatches(x, None, batch_size=2, workers=4, max_queue_size=3)
    data = PyDatasetData(ds)
    for k, (xb, _, _) in enumerate(data.epoch()):
        np.testing.assert_array_equal(xb.numpy(), x[2 * k:2 * k + 2])
        assert max(ds.read) <= k + 3, (k, max(ds.read))  # never more than 3 batches ahead
    assert sorted(ds.read) == list(range(20))


def test_slow_early_batches_still_arrive_in_order():
    got = list(iterate_batches(ArrayBatches(np.arange(12.0)[:, None], delay=0.003, batch_size=2), range(6), workers=3,
                               max_queue_size=6))
    assert [int(b[0, 0]) for b in got] == [0, 2, 4, 6, 8, 10]


def test_threads_really_run_in_parallel():
    barrier = threading.Barrier(2, timeout=5)

    class NeedsTwo(PyDataset):
        def __len__(self):
            return 2

        def __getitem__(self, i):
            barrier.wait()  # deadlocks (BrokenBarrierError) unless two batches are computed at once
            return np.full((1, 3), i, "float32")

    out = list(iterate_batches(NeedsTwo(), range(2), workers=2))
    assert [int(b[0, 0]) for b in out] == [0, 1]


@pytest.mark.parametrize("workers, multi", [(1, False), (2, False), (2, True)])
def test_getitem_error_is_raised_in_the_main_process_naming_the_index(workers, multi):
    x, y = arrays(20)
    ds = ArrayBatches(x, y, batch_size=4, fail_at=3, workers=workers, use_multiprocessing=multi)
    model = dense_model()
    with pytest.raises(ValueError, match="bad batch 3") as e:
        model.fit(ds, epochs=1, shuffle=False, verbose=0)
    notes = " ".join(getattr(e.value, "__notes__", []))
    assert "ArrayBatches.__getitem__(3)" in notes
    assert ds.ends == 0  # the epoch did not end


def test_closing_early_stops_the_pool():
    x, _ = arrays(40)
    ds = ArrayBatches(x, None, batch_size=2, workers=2, max_queue_size=2)
    it = PyDatasetData(ds).epoch()
    next(it)
    it.close()  # e.g. the training loop stopped mid-epoch
    n = len(ds.read)
    time.sleep(0.05)
    assert len(ds.read) == n <= 4


# --------------------------------------------------------------------------
# steps, endless datasets
# --------------------------------------------------------------------------
def test_steps_continue_across_epochs():
    x, _ = arrays(10)
    ds = ArrayBatches(x, None, batch_size=2)
    data = make_data(ds, steps=3)
    assert data.num_batches == 3
    for _ in range(3):
        assert len(epoch_values(data)) == 3
    assert ds.read == [0, 1, 2, 3, 4, 0, 1, 2, 3]  # a new pass starts when one ends
    assert ds.ends == 3


def test_endless_dataset_needs_steps():
    class Endless(PyDataset):
        @property
        def num_batches(self):
            return None

        def __getitem__(self, i):
            return np.full((2, 3), i, "float32"), np.zeros((2, 1), "float32")

    with pytest.raises(ValueError, match="Endless.*endless.*steps_per_epoch"):
        make_data(Endless())
    model = dense_model()
    history = model.fit(Endless(workers=2), steps_per_epoch=3, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2
    data = make_data(Endless(), steps=2)
    assert [float(x[0, 0]) for x, _, _ in data.epoch()] == [0.0, 1.0]
    assert [float(x[0, 0]) for x, _, _ in data.epoch()] == [2.0, 3.0]


# --------------------------------------------------------------------------
# processes
# --------------------------------------------------------------------------
def test_processes_fit_predict_and_see_on_epoch_end_changes():
    x, y = arrays(24)
    ds = ArrayBatches(x, None, batch_size=4, workers=2, use_multiprocessing=True, max_queue_size=4)
    data = PyDatasetData(ds)
    first = torch.cat(epoch_values(data))
    second = torch.cat(epoch_values(data))  # on_epoch_end raised the offset in this process
    np.testing.assert_allclose(first.numpy(), x)
    np.testing.assert_allclose(second.numpy(), x + 1.0)
    assert ds.read == []  # the reads happened in the worker processes
    assert ds.ends == 2

    model = dense_model()
    train = ArrayBatches(x, y, batch_size=4, workers=2, use_multiprocessing=True)
    history = model.fit(train, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2 and train.ends == 2
    pred = ArrayBatches(x, None, batch_size=5, workers=2, use_multiprocessing=True)
    np.testing.assert_allclose(model.predict(pred, verbose=0), model.predict(x, verbose=0), rtol=1e-6, atol=1e-7)


# --------------------------------------------------------------------------
# parity with Keras 3
# --------------------------------------------------------------------------
def _keras_batches(keras, x, y, batch_size, workers):
    class KerasBatches(keras.utils.PyDataset):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)

        def __len__(self):
            return math.ceil(len(x) / batch_size)

        def __getitem__(self, i):
            return x[i * batch_size:(i + 1) * batch_size], y[i * batch_size:(i + 1) * batch_size]

    return KerasBatches(workers=workers)


class PlainBatches(PyDataset):
    def __init__(self, x, y, batch_size, **kwargs):
        super().__init__(**kwargs)
        self.x, self.y, self.batch_size = x, y, batch_size

    def __len__(self):
        return math.ceil(len(self.x) / self.batch_size)

    def __getitem__(self, i):
        sl = slice(i * self.batch_size, (i + 1) * self.batch_size)
        return self.x[sl], self.y[sl]


@pytest.mark.parametrize("workers", [1, 2])
def test_trained_model_matches_keras(keras, workers):
    # Keras reads with one worker here: its thread enqueuer (workers > 1)
    # trains the first epoch on batches left in its queue by the build
    # pass, out of index order; ours keeps the order for any worker count.
    x, y = arrays(30, seed=3)
    km = keras.Sequential([keras.layers.Input((3,)), keras.layers.Dense(4, activation="tanh"), keras.layers.Dense(1)])
    om = kerasish.Sequential([L.Input((3,)), L.Dense(4, activation="tanh"), L.Dense(1)])
    om.set_weights(km.get_weights())
    for m, lib in ((km, keras), (om, kerasish)):
        m.compile(optimizer=lib.optimizers.SGD(learning_rate=0.05, momentum=0.9), loss="mse")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        kh = km.fit(_keras_batches(keras, x, y, 7, 1), epochs=3, shuffle=False, verbose=0)
    oh = om.fit(PlainBatches(x, y, 7, workers=workers), epochs=3, shuffle=False, verbose=0)
    for a, b in zip(om.get_weights(), km.get_weights()):
        assert_close_f32(a, b, terms=7 * 4, depth=15)
    assert_close_f32(oh.history["loss"], kh.history["loss"], terms=7 * 4, depth=15)
    ke = km.evaluate(_keras_batches(keras, x, y, 7, 1), verbose=0)
    oe = om.evaluate(PlainBatches(x, y, 7, workers=workers), verbose=0)
    assert_close_f32(oe, ke, terms=30 * 4, depth=15)
