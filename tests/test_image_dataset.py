"""image_dataset_from_directory: indexing, split and messages against Keras's
own (TensorFlow-free) indexing code, pixel values against Keras's
backend-agnostic loader (PIL + keras.ops.image.resize on torch), labels,
bad files, bad arguments and training with fit."""

import os
import warnings

import numpy as np
import pytest
import torch
from PIL import Image

from kerasish.utils import image_dataset_from_directory
from kerasish.utils.image_dataset import ALLOWLIST_FORMATS

from conftest import assert_close_f32

CLASSES = ["cats", "dogs", "zebra"]
EXTS = ["jpg", "png", "bmp", "gif", "jpeg"]  # WebP has its own test below


def _write_folder(root):
    rng = np.random.default_rng(0)
    for c in CLASSES:
        os.makedirs(root / c / "nested", exist_ok=True)
    for i, ext in enumerate(EXTS):
        for c in CLASSES:
            a = (rng.random((20 + i, 30 + 2 * i, 3)) * 255).astype("uint8")
            Image.fromarray(a).save(root / c / f"img{i}.{ext}")
    Image.fromarray((rng.random((10, 12, 3)) * 255).astype("uint8")).save(root / "dogs" / "nested" / "deep.png")
    (root / "cats" / "bad.jpg").write_bytes(rng.bytes(500))
    data = (root / "dogs" / "img1.png").read_bytes()
    (root / "dogs" / "trunc.png").write_bytes(data[: len(data) // 2])
    (root / "cats" / "notes.txt").write_text("not an image")
    os.makedirs(root / ".hidden")
    return root


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return _write_folder(tmp_path_factory.mktemp("imgs"))


@pytest.fixture(scope="module")
def two_class(tmp_path_factory):
    root = tmp_path_factory.mktemp("two")
    rng = np.random.default_rng(1)
    for c in ("a", "b"):
        os.makedirs(root / c)
        for i in range(5):
            Image.fromarray((rng.random((12, 14, 3)) * 255).astype("uint8")).save(root / c / f"{i}.png")
    return root


def _collect(ds):
    xs, ys = [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for batch in ds:
            x, y = batch if isinstance(batch, tuple) else (batch, None)
            xs.append(x)
            ys.append(y)
    return torch.cat(xs), (None if ys[0] is None else torch.cat(ys))


def test_counts_messages_and_classes(folder, capsys):
    ds = image_dataset_from_directory(folder, image_size=(8, 8), batch_size=4, seed=3, num_workers=0)
    out = capsys.readouterr().out
    # 5 extensions x 3 classes + nested deep.png + bad.jpg + trunc.png; .txt ignored
    assert "Found 18 files belonging to 3 classes." in out
    assert ds.class_names == CLASSES
    assert len(ds.file_paths) == 18 and len(ds) == 5
    assert not any(p.endswith(".txt") for p in ds.file_paths)
    assert any(p.endswith(os.path.join("dogs", "nested", "deep.png")) for p in ds.file_paths)
    ds = image_dataset_from_directory(folder, class_names=["zebra", "cats"], image_size=(8, 8), shuffle=False, num_workers=0)
    assert ds.class_names == ["zebra", "cats"] and len(ds.file_paths) == 11
    assert "Found 11 files belonging to 2 classes." in capsys.readouterr().out
    image_dataset_from_directory(folder, labels=None, image_size=(8, 8), verbose=False, num_workers=0)
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("shuffle,seed", [(True, 7), (True, 1234), (False, None)])
def test_file_order_and_split_match_keras(folder, capsys, shuffle, seed):
    from keras.src.utils import dataset_utils as kdu

    paths, labels, names = kdu.index_directory(str(folder), "inferred", formats=ALLOWLIST_FORMATS, shuffle=shuffle,
                                               seed=seed if seed is not None else 0, verbose=False)
    if not shuffle:
        ds = image_dataset_from_directory(folder, shuffle=False, image_size=(8, 8), num_workers=0)
        assert ds.file_paths == paths and ds.class_names == names
        return
    train, val = image_dataset_from_directory(folder, validation_split=0.3, subset="both", seed=seed, image_size=(8, 8), num_workers=0)
    out = capsys.readouterr().out
    kt, kl = kdu.get_training_or_validation_split(paths, labels, 0.3, "training")
    kv, kvl = kdu.get_training_or_validation_split(paths, labels, 0.3, "validation")
    assert train.file_paths == kt and val.file_paths == kv
    assert "Using 13 files for training." in out and "Using 5 files for validation." in out
    tr = image_dataset_from_directory(folder, validation_split=0.3, subset="training", seed=seed, image_size=(8, 8), num_workers=0)
    va = image_dataset_from_directory(folder, validation_split=0.3, subset="validation", seed=seed, image_size=(8, 8), num_workers=0)
    assert tr.file_paths == kt and va.file_paths == kv
    assert not set(tr.file_paths) & set(va.file_paths)
    # labels follow the files: the validation half of "both" is not reshuffled, as in Keras
    _, y = _collect(val)
    good = [i for i, p in enumerate(kv) if not p.endswith(("bad.jpg", "trunc.png"))]
    np.testing.assert_array_equal(y.numpy(), np.asarray(kvl)[good])


def test_labels_per_mode(folder, two_class):
    kw = dict(image_size=(8, 8), shuffle=False, num_workers=0, verbose=False, batch_size=5)
    ds = image_dataset_from_directory(folder, **kw)
    x, y = _collect(ds)
    assert x.dtype == torch.float32 and x.shape == (16, 8, 8, 3) and y.dtype == torch.int64
    good = [p for p in ds.file_paths if not p.endswith(("bad.jpg", "trunc.png"))]
    expected = [CLASSES.index(os.path.relpath(p, folder).split(os.sep)[0]) for p in good]
    np.testing.assert_array_equal(y.numpy(), expected)
    _, yc = _collect(image_dataset_from_directory(folder, label_mode="categorical", **kw))
    assert yc.dtype == torch.float32 and yc.shape == (16, 3)
    np.testing.assert_array_equal(yc.argmax(1).numpy(), expected)
    np.testing.assert_array_equal(yc.sum(1).numpy(), 1)
    _, yb = _collect(image_dataset_from_directory(two_class, label_mode="binary", **kw))
    assert yb.dtype == torch.float32 and yb.shape == (10, 1)
    np.testing.assert_array_equal(yb[:, 0].numpy(), [0] * 5 + [1] * 5)
    for ds in (image_dataset_from_directory(two_class, label_mode=None, **kw), image_dataset_from_directory(two_class, labels=None, **kw)):
        batch = next(iter(ds))
        assert isinstance(batch, torch.Tensor) and batch.shape == (5, 8, 8, 3)
    # explicit labels, in sorted path order
    lab = [3, 1, 3, 1, 3, 1, 3, 1, 3, 1]
    ds = image_dataset_from_directory(two_class, labels=lab, **kw)
    assert ds.class_names == ["1", "3"]
    np.testing.assert_array_equal(_collect(ds)[1].numpy(), lab)


def _keras_reference(path, size, channels, **kw):
    from keras.src.utils.image_dataset_utils import _load_image_grain

    return np.asarray(_load_image_grain(str(path), size, channels, kw.pop("interpolation", "bilinear"), "channels_last", **kw))


@pytest.mark.parametrize("opts", [{}, {"crop_to_aspect_ratio": True}, {"pad_to_aspect_ratio": True}, {"interpolation": "nearest"}, {"interpolation": "bicubic"}])
def test_pixels_match_keras_loader(two_class, opts):
    size = (9, 17)
    ds = image_dataset_from_directory(two_class, image_size=size, shuffle=False, num_workers=0, verbose=False, batch_size=10, **opts)
    x, _ = _collect(ds)
    for i, p in enumerate(ds.file_paths):
        ref = _keras_reference(p, size, 3, **dict(opts))
        if opts.get("interpolation") == "bicubic":
            ref = np.clip(ref, 0, 255)
        # interpolation weights from float32 coordinates: errors relative to the pixel range
        assert_close_f32(x[i], ref, terms=64, err_msg=f"{p} {opts}")


def test_formats_color_modes_and_channels_first(folder):
    kw = dict(image_size=(12, 10), shuffle=False, num_workers=0, verbose=False, batch_size=32)
    ds = image_dataset_from_directory(folder, **kw)
    x, _ = _collect(ds)
    assert x.shape[0] == 16  # the corrupt two skipped
    # every format decodes to what PIL + Keras's resize give (JPEG decoders may differ by rounding)
    i = 0
    for p in ds.file_paths:
        if p.endswith(("bad.jpg", "trunc.png")):
            continue
        ref = _keras_reference(p, (12, 10), 3)
        err = np.abs(x[i].numpy() - ref)
        assert err.mean() < (2.0 if p.endswith((".jpg", ".jpeg")) else 1e-3), (p, err.mean())
        i += 1
    g, _ = _collect(image_dataset_from_directory(folder, color_mode="grayscale", **kw))
    a, _ = _collect(image_dataset_from_directory(folder, color_mode="rgba", **kw))
    assert g.shape == (16, 12, 10, 1) and a.shape == (16, 12, 10, 4)
    np.testing.assert_allclose(a[..., 3].numpy(), 255, atol=1e-3)
    cf, _ = _collect(image_dataset_from_directory(folder, data_format="channels_first", **kw))
    assert cf.shape == (16, 3, 12, 10)
    np.testing.assert_allclose(cf.permute(0, 2, 3, 1).numpy(), _collect(image_dataset_from_directory(folder, **kw))[0].numpy())


def test_corrupt_files_warn_and_are_skipped(folder):
    ds = image_dataset_from_directory(folder, image_size=(8, 8), batch_size=18, shuffle=False, verbose=False, num_workers=2)
    with pytest.warns(UserWarning) as rec:
        batches = list(ds)
    msgs = " ".join(str(w.message) for w in rec)
    assert "bad.jpg" in msgs and "trunc.png" in msgs
    assert len(batches) == 1 and batches[0][0].shape[0] == 16


def test_reshuffle_each_epoch_and_seeded(two_class):
    kw = dict(image_size=(4, 4), batch_size=3, seed=5, num_workers=0, verbose=False)
    ds = image_dataset_from_directory(two_class, **kw)
    e1, e2 = _collect(ds), _collect(ds)
    assert len(ds) == 4
    assert not torch.equal(e1[0], e2[0])  # a new order each epoch
    assert sorted(e1[0].sum((1, 2, 3)).tolist()) == pytest.approx(sorted(e2[0].sum((1, 2, 3)).tolist()))
    again = image_dataset_from_directory(two_class, **kw)
    torch.testing.assert_close(_collect(again)[0], e1[0])  # same seed, same batches
    fixed = image_dataset_from_directory(two_class, **{**kw, "seed": None}, shuffle=False)
    torch.testing.assert_close(_collect(fixed)[0], _collect(fixed)[0])
    single = image_dataset_from_directory(two_class, image_size=(4, 4), batch_size=None, shuffle=False, num_workers=0, verbose=False)
    x, y = next(iter(single))
    assert x.shape == (4, 4, 3) and y.dim() == 0 and len(single) == 10


def test_fit_evaluate_predict(two_class):
    import kerasish as keras
    from kerasish.layers import Dense, Flatten, Rescaling

    train, val = image_dataset_from_directory(two_class, image_size=(8, 8), batch_size=4, validation_split=0.2, subset="both",
                                              seed=1, verbose=False, num_workers=1)
    model = keras.Sequential([Rescaling(1 / 255, input_shape=(8, 8, 3)), Flatten(), Dense(2, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    hist = model.fit(train, validation_data=val, epochs=2, verbose=0)
    assert len(hist.history["loss"]) == 2 and np.isfinite(hist.history["val_loss"]).all()
    assert len(model.evaluate(val, verbose=0)) == 2
    assert tuple(np.asarray(model.predict(val, verbose=0)).shape) == (2, 2)


def test_bad_inputs(folder, two_class, tmp_path):
    def f(d=folder, **kw):
        return image_dataset_from_directory(d, verbose=False, **{"num_workers": 0, **kw})
    with pytest.raises(ValueError, match="nope"):
        f(tmp_path / "nope")
    os.makedirs(tmp_path / "empty")
    with pytest.raises(ValueError, match="No images found in directory .*empty"):
        f(tmp_path / "empty")
    with pytest.raises(ValueError, match="len\\(labels\\) is 3 while we found 10"):
        f(two_class, labels=[0, 1, 0])
    with pytest.raises(ValueError, match="labels=.oops"):
        f(labels="oops")
    with pytest.raises(ValueError, match="exactly 2 class_names"):
        f(label_mode="binary")
    with pytest.raises(ValueError, match="label_mode=.sparse"):
        f(label_mode="sparse")
    with pytest.raises(ValueError, match="`validation_split` must be set"):
        f(validation_split=0.2)
    with pytest.raises(ValueError, match="`validation_split` must be set"):
        f(subset="training")
    with pytest.raises(ValueError, match="must provide a `seed`"):
        f(validation_split=0.2, subset="training")
    with pytest.raises(ValueError, match="between 0 and 1, received: 1.5"):
        f(validation_split=1.5, subset="training", seed=1)
    with pytest.raises(ValueError, match="subset.*'train'"):
        f(validation_split=0.2, subset="train", seed=1)
    with pytest.raises(ValueError, match="color_mode='bgr'"):
        f(color_mode="bgr")
    with pytest.raises(ValueError, match="interpolation='cubic'"):
        f(interpolation="cubic")
    with pytest.raises(ValueError, match="lanczos3"):
        f(interpolation="lanczos3")
    with pytest.raises(ValueError, match="image_size"):
        f(image_size=(1, 2, 3))
    with pytest.raises(ValueError, match="class_names"):
        f(class_names=["cats", "lions"])
    with pytest.raises(ValueError, match="Only one of"):
        f(crop_to_aspect_ratio=True, pad_to_aspect_ratio=True)
    with pytest.raises(ValueError, match="num_workers=-1"):
        f(num_workers=-1)


def test_webp_read_by_default_and_keras_list_available(tmp_path):
    from kerasish.utils.image_dataset import KERAS_ALLOWLIST_FORMATS

    rng = np.random.default_rng(5)
    for c in ("a", "b"):
        os.makedirs(tmp_path / c)
        for i in range(2):
            Image.fromarray((rng.random((9, 11, 3)) * 255).astype("uint8")).save(tmp_path / c / f"{i}.webp", lossless=True)
    ds = image_dataset_from_directory(tmp_path, image_size=(9, 11), shuffle=False, num_workers=0, verbose=False)
    x, y = _collect(ds)
    assert x.shape == (4, 9, 11, 3) and y.tolist() == [0, 0, 1, 1]
    ref = np.asarray(Image.open(ds.file_paths[0]).convert("RGB"), dtype="float32")
    np.testing.assert_allclose(x[0].numpy(), ref, atol=1e-3)
    with pytest.raises(ValueError, match="No images found|empty|no image|0 files"):
        image_dataset_from_directory(tmp_path, formats=KERAS_ALLOWLIST_FORMATS, num_workers=0, verbose=False)


@pytest.mark.parametrize("torchvision_decodes", [True, False])
@pytest.mark.parametrize("channels", [1, 3, 4])
def test_16_bit_png_scaled_to_8_bits_with_or_without_torchvision(tmp_path, monkeypatch, torchvision_decodes, channels):
    # torchvision >= 0.20 decodes 16-bit PNG; older ones do not, and PIL's own
    # conversion would clip at 255. Both paths give tf.io.decode_image's values.
    import torchvision.io

    from kerasish.utils import image_dataset as mod

    values = np.array([[0, 257, 1000], [30000, 65535, 12345]], dtype=np.uint16)
    path = tmp_path / "deep.png"
    Image.fromarray(values).save(path)  # a uint16 array: mode I;16, a 16-bit grey PNG
    if not torchvision_decodes:
        def refuse(*args, **kwargs):
            raise RuntimeError("16-bit PNG is not supported by this torchvision")

        monkeypatch.setattr(torchvision.io, "decode_image", refuse)
    img = mod._decode(str(path), channels)
    expected = torch.from_numpy((values.astype(np.int64) // 257).astype(np.uint8))
    assert img.dtype == torch.uint8 and img.shape == (channels, 2, 3)
    for c in range(min(channels, 3)):
        assert torch.equal(img[c], expected)
    if channels == 4:
        assert torch.all(img[3] == 255)
