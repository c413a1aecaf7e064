"""Resource limits on data and no silent empty training (issue 17, items 5 and 6).

Every hostile input is generated here: a few hundred bytes of pickle that
describe 10**18 elements through memo sharing, a 2.4 MB PNG declaring
50000x50000 pixels. Each must be refused fast and before it is built. And
training on nothing must say so: a warning when the input runs out, an error
when there was no data at all, and no metrics of zero samples in the logs.
"""

import io
import pickle
import struct
import time
import tracemalloc
import warnings
import zlib

import numpy as np
import pytest
import torch
from PIL import Image

import kerasish
from kerasish import layers as L
from kerasish.datasets import safe_pickle
from kerasish.utils import image_utils
from kerasish.utils.image_dataset import image_dataset_from_directory
from kerasish.utils.image_utils import load_img


# --------------------------------------------------------------------------
# hostile files, built here
# --------------------------------------------------------------------------
def list_bomb(levels=18, fan=10):
    """Protocol-2 pickle: memo 0 is [], level k a list of `fan` references to
    level k-1 (BINGET): fan**levels elements in ~25 bytes per level."""
    out = bytearray(b"\x80\x02]q\x00")
    for k in range(1, levels + 1):
        out += b"](" + (b"h" + bytes([k - 1])) * fan + b"eq" + bytes([k])
    return bytes(out + b".")


def tuple_hash_bomb(levels=60):
    """A tuple tree shared 2**60 ways used as a dict key: hashing it never ends."""
    out = bytearray(b"\x80\x02)q\x00")
    for k in range(1, levels + 1):
        out += b"h" + bytes([k - 1]) + b"h" + bytes([k - 1]) + b"\x86q" + bytes([k])
    return bytes(out + b"}h" + bytes([levels]) + b"Ns.")


def png_bomb(width=50000, height=50000, rows_per_chunk=1000):
    """A valid 8-bit grey PNG of zeros, `width` x `height`, in a few MB: one
    deflate chunk of zero rows, fully flushed (so it stands alone), repeated."""
    row = width + 1  # filter byte + samples
    raw = zlib.compressobj(9, zlib.DEFLATED, -15)
    chunk = raw.compress(bytes(row * rows_per_chunk)) + raw.flush(zlib.Z_FULL_FLUSH)
    n = height // rows_per_chunk
    total = row * rows_per_chunk * n
    end = zlib.compressobj(9, zlib.DEFLATED, -15).flush(zlib.Z_FINISH)
    adler = ((total % 65521) << 16) | 1  # adler32 of `total` zero bytes
    idat = b"\x78\xda" + chunk * n + end + struct.pack(">I", adler)

    def part(tag, body):
        return struct.pack(">I", len(body)) + tag + body + struct.pack(">I", zlib.crc32(tag + body))

    ihdr = struct.pack(">IIBBBBB", width, rows_per_chunk * n, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + part(b"IHDR", ihdr) + part(b"IDAT", idat) + part(b"IEND", b"")


def test_png_bomb_helper_is_a_real_png():
    small = Image.open(io.BytesIO(png_bomb(300, 200, 100)))
    small.load()
    assert small.size == (300, 200) and small.getextrema() == (0, 0)


# --------------------------------------------------------------------------
# the restricted unpickler
# --------------------------------------------------------------------------
def test_memo_sharing_bomb_is_refused_fast():
    payload = list_bomb()
    assert len(payload) < 500  # 10**18 elements described in under 500 bytes
    start = time.perf_counter()
    with pytest.raises(safe_pickle.PickleLimitError, match="max_elements") as info:
        safe_pickle.restricted_loads(payload)
    assert time.perf_counter() - start < 2.0
    assert isinstance(info.value, ValueError) and isinstance(info.value, pickle.UnpicklingError)


def test_shared_tuple_as_dict_key_is_refused_before_hashing():
    start = time.perf_counter()
    with pytest.raises(pickle.UnpicklingError, match="tuple as a dict key"):
        safe_pickle.restricted_loads(tuple_hash_bomb())
    assert time.perf_counter() - start < 2.0


def test_declared_huge_string_is_refused_before_allocation():
    payload = b"\x80\x02\x8e" + (3 << 30).to_bytes(8, "little") + b"xx."  # BINBYTES8 of 3 GiB
    tracemalloc.start()
    try:
        with pytest.raises(safe_pickle.PickleLimitError, match="max_bytes"):
            safe_pickle.restricted_loads(payload)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 << 20


def test_cycles_and_malformed_streams_are_unpickling_errors():
    cycle = pickle.dumps((lambda a: (a.append(a), a)[1])([]), protocol=2)
    with pytest.raises(pickle.UnpicklingError, match="cycle"):
        safe_pickle.restricted_loads(cycle)
    with pytest.raises(pickle.UnpicklingError):
        safe_pickle.restricted_loads(b"\x80\x02\xff.")  # unknown opcode
    with pytest.raises(pickle.UnpicklingError):
        safe_pickle.restricted_loads(b"\x80\x02s.")  # SETITEM on an empty stack


def test_limits_are_configurable_and_defaults_fit_cifar():
    rng = np.random.default_rng(0)
    batch = {b"batch_label": b"training batch 1 of 5", b"labels": rng.integers(0, 10, 10000).tolist(),
             b"data": rng.integers(0, 256, (10000, 3072), dtype=np.uint8),
             b"filenames": [b"img_%05d.png" % i for i in range(10000)]}
    back = safe_pickle.restricted_loads(pickle.dumps(batch, protocol=2))  # a full CIFAR batch, default limits
    np.testing.assert_array_equal(back[b"data"], batch[b"data"])
    assert back[b"labels"] == batch[b"labels"]
    payload = pickle.dumps(batch, protocol=2)
    with pytest.raises(safe_pickle.PickleLimitError, match="max_bytes=1000000"):
        safe_pickle.restricted_loads(payload, max_bytes=1_000_000)
    with pytest.raises(safe_pickle.PickleLimitError, match="max_elements=5000"):
        safe_pickle.restricted_loads(payload, max_elements=5000)
    # Shared references stay shared, as pickle.load keeps them.
    inner = [1, 2]
    shared = safe_pickle.restricted_loads(pickle.dumps([inner, inner], protocol=2))
    assert shared == [[1, 2], [1, 2]] and shared[0] is shared[1]


def test_module_defaults_apply(monkeypatch):
    monkeypatch.setattr(safe_pickle, "MAX_ELEMENTS", 100)
    with pytest.raises(safe_pickle.PickleLimitError, match="max_elements=100"):
        safe_pickle.restricted_loads(pickle.dumps(list(range(200)), protocol=2))


def test_cifar_reader_names_the_file_on_a_bomb(tmp_path):
    from kerasish.datasets import _download

    with pytest.raises(ValueError, match="data_batch_1.*max_elements"):
        _download.load_cifar_batch(io.BytesIO(list_bomb()), "data_batch_1", "labels")


# --------------------------------------------------------------------------
# the image pixel limit
# --------------------------------------------------------------------------
def _save(path, shape=(8, 8, 3)):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full(shape, 200, np.uint8)).save(path)


def test_pixel_bomb_is_skipped_fast_and_the_rest_is_read(tmp_path):
    _save(tmp_path / "a" / "good1.png")
    _save(tmp_path / "a" / "good2.png")
    bomb = tmp_path / "a" / "bomb.png"
    bomb.write_bytes(png_bomb())
    assert bomb.stat().st_size < 4 << 20
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ds = image_dataset_from_directory(tmp_path, image_size=(4, 4), batch_size=8, shuffle=False, num_workers=0, verbose=False)
        batches = list(ds)
    assert time.perf_counter() - start < 5.0
    assert sum(int(b[0].shape[0]) for b in batches) == 2
    messages = [str(w.message) for w in caught if "skipping file" in str(w.message)]
    assert len(messages) == 1 and str(bomb) in messages[0] and "2500000000" in messages[0]


def test_pixel_limit_is_ours_below_pil_and_configurable(tmp_path, monkeypatch):
    _save(tmp_path / "a" / "small.png", (10, 10, 3))
    _save(tmp_path / "a" / "big.png", (60, 100, 3))  # 6000 pixels
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ds = image_dataset_from_directory(tmp_path, image_size=(4, 4), batch_size=8, num_workers=0, verbose=False,
                                          max_image_pixels=5000)
        (images, labels), = list(ds)
    assert images.shape[0] == 1
    (message,) = [str(w.message) for w in caught if "skipping file" in str(w.message)]
    assert "big.png" in message and "100x60" in message and "max_image_pixels=5000" in message
    # The module setting, read when the dataset is made (the workers may be other processes).
    monkeypatch.setattr(image_utils, "MAX_IMAGE_PIXELS", 5000)
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        ds = image_dataset_from_directory(tmp_path, image_size=(4, 4), batch_size=8, num_workers=0, verbose=False)
    monkeypatch.setattr(image_utils, "MAX_IMAGE_PIXELS", None)
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        assert sum(int(b[0].shape[0]) for b in ds) == 1
    with pytest.raises(ValueError, match="max_image_pixels"):
        image_dataset_from_directory(tmp_path, num_workers=0, verbose=False, max_image_pixels=0)


def test_load_img_refuses_a_bomb_before_decoding(tmp_path):
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(png_bomb())
    start = time.perf_counter()
    with pytest.raises(ValueError, match="bomb.png"):
        load_img(bomb)
    assert time.perf_counter() - start < 2.0
    _save(tmp_path / "big.png", (60, 100, 3))
    with pytest.raises(ValueError, match="big.png.*100x60.*max_image_pixels=5000"):
        load_img(tmp_path / "big.png", max_image_pixels=5000)
    assert load_img(tmp_path / "big.png").size == (100, 60)


# --------------------------------------------------------------------------
# no silent empty training
# --------------------------------------------------------------------------
def _model():
    kerasish.utils.set_random_seed(0)
    model = kerasish.Sequential([kerasish.Input((3,)), L.Dense(2, activation="softmax")])
    model.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def _gen(n):
    for _ in range(n):
        yield np.ones((4, 3), "float32"), np.zeros((4,), "int64")


def _ran_out(caught):
    return [str(w.message) for w in caught if "Your input ran out of data" in str(w.message)]


def test_exhausted_generator_warns_stops_and_logs_no_zero_metrics():
    model = _model()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = model.fit(_gen(3), steps_per_epoch=2, epochs=5, verbose=0)
    # Epoch 1: 2 batches; epoch 2: 1 (ran out: warned); epoch 3: none (warned, training stops).
    assert history.epoch == [0, 1, 2]
    assert len(history.history["loss"]) == 2 and len(history.history["accuracy"]) == 2
    assert all(v > 0 for v in history.history["loss"])
    warned = _ran_out(caught)
    assert len(warned) == 2 and "1 of 2 batches" in warned[0] and "0 of 2 batches" in warned[1]


def test_empty_epoch_logs_reach_callbacks_without_metrics():
    seen = []

    class Record(kerasish.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen.append(dict(logs or {}))

    model = _model()
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        model.fit(_gen(1), steps_per_epoch=1, epochs=3, verbose=0, callbacks=[Record()])
    assert len(seen) == 2 and set(seen[0]) == {"loss", "accuracy"} and seen[1] == {}


@pytest.mark.parametrize("make", [
    lambda: _gen(0),
    lambda: torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.ones(0, 3), torch.zeros(0, dtype=torch.long)), batch_size=4),
    lambda: iter([]),
], ids=["empty generator", "empty DataLoader", "empty iterator"])
def test_fit_evaluate_predict_on_no_data_raise(make):
    model = _model()
    weights = [w.copy() for w in model.get_weights()]
    with pytest.raises(ValueError, match="fit\\(\\) got no data"):
        model.fit(make(), epochs=2, verbose=0)
    for got, want in zip(model.get_weights(), weights):
        np.testing.assert_array_equal(got, want)
    with pytest.raises(ValueError, match="evaluate\\(\\) got no data"):
        model.evaluate(make(), verbose=0)
    with pytest.raises(ValueError, match="predict\\(\\) got no data"):
        model.predict(make(), verbose=0)


def test_fit_on_a_folder_where_nothing_decodes_raises(tmp_path):
    for name in ("a/x.png", "a/y.jpg", "b/z.png"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"not an image at all")
    ds = image_dataset_from_directory(tmp_path, image_size=(2, 2), batch_size=2, num_workers=0, verbose=False)
    model = kerasish.Sequential([kerasish.Input((2, 2, 3)), L.Flatten(), L.Dense(2, activation="softmax")])
    model.compile("sgd", "sparse_categorical_crossentropy")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(ValueError, match="none of the 3 image files"):
            model.fit(ds, epochs=2, verbose=0)
    assert len([w for w in caught if "skipping file" in str(w.message)]) == 3


def test_exhausted_validation_generator_warns_and_reports_no_val_metrics():
    model = _model()
    x, y = np.ones((8, 3), "float32"), np.zeros((8,), "int64")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = model.fit(x, y, batch_size=4, epochs=2, verbose=0, validation_data=_gen(1))
    assert len(history.history["loss"]) == 2 and len(history.history["val_loss"]) == 1
    assert any("validation" in m for m in _ran_out(caught))


def test_finite_generator_without_steps_is_one_quiet_epoch_then_stops():
    model = _model()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = model.fit(_gen(2), epochs=3, verbose=0)
    assert len(history.history["loss"]) == 1 and history.epoch == [0, 1]
    assert len(_ran_out(caught)) == 1  # only the empty second epoch


def test_keras_also_refuses_no_data_and_warns_when_the_input_runs_out(keras):
    """Keras 3 (torch backend): an empty generator raises ValueError in fit and
    evaluate, and an exhausted one warns 'Your input ran out of data'."""
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, activation="softmax")])
    model.compile("sgd", "sparse_categorical_crossentropy")
    with pytest.raises(ValueError):
        model.fit(_gen(0), epochs=2, verbose=0)
    with pytest.raises(ValueError):
        model.evaluate(_gen(0), verbose=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(_gen(3), steps_per_epoch=2, epochs=4, verbose=0)
    assert _ran_out(caught)
