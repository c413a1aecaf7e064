"""text_dataset_from_directory: file order and split against Keras's own
(TensorFlow-free) indexing code, texts against Keras's grain reader, labels,
shuffling, bad arguments and training through a map."""

import os

import numpy as np
import pytest
import torch

from kerasish.utils.dataset import Dataset, TensorSpec
from kerasish.utils.text_dataset import text_dataset_from_directory

CLASSES = ["neg", "neu", "pos"]


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("texts")
    rng = np.random.default_rng(0)
    words = ["good", "bad", "film", "plot", "héros", "ça", "naïve", "末"]
    for c in CLASSES:
        os.makedirs(root / c / "more")
        for i in range(7):
            text = " ".join(rng.choice(words, size=int(rng.integers(1, 12)))) + f" {c}{i}"
            (root / c / f"{i}.txt").write_text(text, encoding="utf-8")
        (root / c / "more" / "deep.txt").write_text(f"deep {c}", encoding="utf-8")
        (root / c / "skip.md").write_text("not a text file")
    os.makedirs(root / ".hidden")
    (root / ".hidden" / "h.txt").write_text("hidden")
    return root


def _collect(ds):
    texts, labels = [], []
    for batch in ds:
        t, y = batch if isinstance(batch, tuple) else (batch, None)
        texts += t if isinstance(t, list) else [t]
        labels.append(y)
    return texts, (None if labels[0] is None else torch.cat([y.reshape(-1, *y.shape[1:]) if y.dim() else y[None] for y in labels]))


def _read(p, n=None):
    from keras.src.utils.text_dataset_utils import _path_to_string_content_grain

    return _path_to_string_content_grain(p, n)


def test_counts_order_texts_and_labels_match_keras(folder, capsys):
    from keras.src.utils import dataset_utils as kdu

    ds = text_dataset_from_directory(folder, shuffle=False, batch_size=5)
    assert "Found 24 files belonging to 3 classes." in capsys.readouterr().out
    assert isinstance(ds, Dataset) and ds.class_names == CLASSES and len(ds) == 5
    paths, labels, names = kdu.index_directory(str(folder), "inferred", formats=(".txt",), shuffle=False, verbose=False)
    texts, y = _collect(ds)
    assert ds.file_paths == paths and names == CLASSES
    assert texts == [_read(p) for p in paths] and all(type(t) is str for t in texts)
    assert y.dtype == torch.int64 and y.tolist() == list(labels)
    assert ds.element_spec == (TensorSpec((None,), "string"), TensorSpec((None,), torch.int64))


@pytest.mark.parametrize("seed", [1, 77])
def test_split_matches_keras(folder, capsys, seed):
    from keras.src.utils import dataset_utils as kdu

    paths, labels, _ = kdu.index_directory(str(folder), "inferred", formats=(".txt",), shuffle=True, seed=seed, verbose=False)
    kt, _ = kdu.get_training_or_validation_split(paths, labels, 0.25, "training")
    kv, kvl = kdu.get_training_or_validation_split(paths, labels, 0.25, "validation")
    train, val = text_dataset_from_directory(folder, validation_split=0.25, subset="both", seed=seed, batch_size=4)
    out = capsys.readouterr().out
    assert "Using 18 files for training." in out and "Using 6 files for validation." in out
    assert train.file_paths == kt and val.file_paths == kv
    # validation is not reshuffled: Keras's order, texts following their labels
    texts, y = _collect(val)
    assert texts == [_read(p) for p in kv] and y.tolist() == list(kvl)
    tt, _ = _collect(train)
    assert sorted(tt) == sorted(_read(p) for p in kt)
    tr = text_dataset_from_directory(folder, validation_split=0.25, subset="training", seed=seed, verbose=False)
    assert tr.file_paths == kt


def test_label_modes_max_length_and_unbatched(folder):
    kw = dict(shuffle=False, verbose=False, batch_size=8)
    _, yc = _collect(text_dataset_from_directory(folder, label_mode="categorical", **kw))
    assert yc.dtype == torch.float32 and yc.shape == (24, 3) and yc.sum(1).tolist() == [1.0] * 24
    assert yc.argmax(1).tolist() == [0] * 8 + [1] * 8 + [2] * 8
    texts, y = _collect(text_dataset_from_directory(folder, label_mode=None, **kw))
    assert y is None and len(texts) == 25  # label_mode=None: labels=None, as Keras
    from keras.src.utils import dataset_utils as kdu

    # without labels the class structure is ignored: every .txt, hidden folders too, as Keras
    unlabeled = text_dataset_from_directory(folder, labels=None, **kw)
    all_paths = kdu.index_directory(str(folder), None, formats=(".txt",), shuffle=False, verbose=False)[0]
    assert unlabeled.file_paths == all_paths and len(all_paths) == 25
    assert _collect(unlabeled)[0] == [_read(p) for p in all_paths]
    ds = text_dataset_from_directory(folder, max_length=3, **kw)
    paths = ds.file_paths
    short, _ = _collect(ds)
    assert short == [_read(p, 3) for p in paths] and all(len(t) <= 3 for t in short)
    single = text_dataset_from_directory(folder, batch_size=None, shuffle=False, verbose=False)
    t, lab = next(iter(single))
    assert isinstance(t, str) and lab.dim() == 0 and len(single) == 24
    lab = [1, 0] * 12 + [1]
    ds = text_dataset_from_directory(folder, labels=lab, **kw)
    assert ds.class_names == ["0", "1"] and _collect(ds)[1].tolist() == lab


def test_binary_labels(tmp_path):
    for c in ("a", "b"):
        os.makedirs(tmp_path / c)
        for i in range(3):
            (tmp_path / c / f"{i}.txt").write_text(f"{c} {i}")
    texts, y = _collect(text_dataset_from_directory(tmp_path, label_mode="binary", shuffle=False, verbose=False))
    assert y.dtype == torch.float32 and y.shape == (6, 1) and y[:, 0].tolist() == [0.0] * 3 + [1.0] * 3
    assert texts[0] == "a 0"


def test_reshuffled_each_epoch_and_seeded(folder):
    kw = dict(batch_size=4, seed=5, verbose=False)
    ds = text_dataset_from_directory(folder, **kw)
    e1, e2 = _collect(ds), _collect(ds)
    assert sorted(e1[0]) == sorted(e2[0]) and e1[0] != e2[0]
    label_of = dict(zip(e1[0], e1[1].tolist()))
    assert all(label_of[t] == v for t, v in zip(e2[0], e2[1].tolist()))  # labels follow their texts
    again = text_dataset_from_directory(folder, **kw)
    assert _collect(again)[0] == e1[0] and _collect(again)[0] == e2[0]


def test_bad_arguments(folder, tmp_path):
    def f(d=folder, **kw):
        return text_dataset_from_directory(d, verbose=False, **kw)

    with pytest.raises(ValueError, match="labels=.oops"):
        f(labels="oops")
    with pytest.raises(ValueError, match="label_mode=.sparse"):
        f(label_mode="sparse")
    with pytest.raises(ValueError, match="format=.torch"):
        f(format="torch")
    with pytest.raises(ValueError, match="exactly 2 class_names"):
        f(label_mode="binary")
    with pytest.raises(ValueError, match="`validation_split` must be set"):
        f(subset="training")
    with pytest.raises(ValueError, match="must provide a `seed`"):
        f(validation_split=0.2, subset="training")
    with pytest.raises(ValueError, match="batch_size=0"):
        f(batch_size=0)
    with pytest.raises(ValueError, match="max_length=-1"):
        f(max_length=-1)
    with pytest.raises(ValueError, match="class_names"):
        f(class_names=["neg", "other"])
    os.makedirs(tmp_path / "empty" / "a")
    with pytest.raises(ValueError, match="No text files found"):
        f(tmp_path / "empty")


def test_vectorized_in_a_map_and_fit(folder):
    import kerasish as keras
    from kerasish.layers import Dense

    vocab = ["good", "bad", "film", "plot", "neg", "neu", "pos"]

    def vectorize(texts, labels):
        counts = torch.tensor([[sum(w.startswith(v) for w in t.split()) for v in vocab] for t in texts], dtype=torch.float32)
        return counts, labels

    train, val = text_dataset_from_directory(folder, batch_size=4, validation_split=0.25, subset="both", seed=3, verbose=False)
    model = keras.Sequential([keras.Input((len(vocab),)), Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    hist = model.fit(train.map(vectorize), validation_data=val.map(vectorize), epochs=2, verbose=0)
    assert len(hist.history["loss"]) == 2 and np.isfinite(hist.history["val_loss"]).all()
    assert np.asarray(model.predict(val.map(vectorize), verbose=0)).shape == (6, 3)
