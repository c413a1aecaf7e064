"""predict / evaluate write large convolution outputs into buffers reused from
batch to batch (engine/workspace.py, layers/convolutional/conv_kernels.py).

The buffers must change no value, and no tensor a user can see may live in
one. The size threshold is lowered here so that small models take the path.
"""

import threading

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import kerasish
from kerasish import Input, Model, Sequential
from kerasish.engine import workspace as workspace_mod
from kerasish.layers import (Add, BatchNormalization, Conv2D, Dense, Dropout, Flatten, GlobalAveragePooling2D, Layer, MaxPool2D,
                             Reshape)
from kerasish.layers.convolutional import conv_kernels

needs_onednn = pytest.mark.skipif(conv_kernels._conv_add_inplace is None or not torch.backends.mkldnn.is_available(),
                                  reason="needs torch's oneDNN")


@pytest.fixture
def every_conv_output_is_large(monkeypatch):
    monkeypatch.setattr(conv_kernels, "LARGE_OUTPUT_BYTES", 0)


def reusable_layers(model):
    return [step.layer.name for step in model._steps if step.reusable]


def kept_buffers(model):
    ws = workspace_mod._idle.get(model)
    return {} if ws is None else dict(ws._buffers)


@needs_onednn
@pytest.mark.parametrize("cin,cout,k,stride,dilation,groups,pad,bias", [
    (3, 8, 3, 1, 1, 1, 1, True),
    (8, 16, 3, 2, 1, 1, 1, True),
    (8, 8, 5, 1, 2, 1, 4, False),
    (8, 16, 1, 1, 1, 1, 0, True),
    (8, 16, 3, 1, 1, 4, 1, True),
    (16, 16, 3, 1, 1, 16, 1, True),
    (4, 6, (3, 1), (1, 2), 1, 1, (1, 0), True),
])
def test_conv_into_a_buffer_equals_conv2d_bit_for_bit(cin, cout, k, stride, dilation, groups, pad, bias):
    torch.manual_seed(0)
    conv = torch.nn.Conv2d(cin, cout, k, stride=stride, dilation=dilation, groups=groups, padding=pad, bias=bias)
    conv = conv.to(memory_format=torch.channels_last)
    x = torch.randn(3, cin, 13, 11).contiguous(memory_format=torch.channels_last)
    x[0, 0, 2, 4] = float("nan")
    x[1, 0, 5, 6] = float("inf")
    with torch.inference_mode():
        expected = F.conv2d(x, conv.weight, conv.bias, conv.stride, conv.padding, conv.dilation, conv.groups)
        buf = torch.full(conv_kernels.output_shape(x, conv), 7.0).contiguous(memory_format=torch.channels_last)  # stale contents
        got = conv_kernels.conv2d_into(buf, x, conv)
    assert got.data_ptr() == buf.data_ptr()
    assert got.shape == expected.shape
    assert torch.equal(got.isnan(), expected.isnan()) and expected.isnan().any()
    ok = ~expected.isnan()
    assert torch.equal(got[ok], expected[ok])


def fruit_like(filters=(8, 8)):
    x0 = Input((20, 20, 3))
    x = x0
    for f in filters:
        x = Conv2D(f, 3, padding="same", activation="relu")(x)
    x = MaxPool2D()(x)
    x = Flatten()(x)
    return Model(x0, Dense(5, activation="softmax")(x))


def per_batch_calls(model, x, batch):
    with torch.no_grad():
        return np.concatenate([model(torch.from_numpy(x[i:i + batch])).numpy() for i in range(0, len(x), batch)])


@needs_onednn
def test_predict_with_reused_buffers_equals_plain_calls(every_conv_output_is_large):
    kerasish.utils.set_random_seed(1)
    model = fruit_like()
    assert reusable_layers(model) == [l.name for l in model.layers if isinstance(l, Conv2D)]
    x = np.random.rand(37, 20, 20, 3).astype("float32")  # a smaller last batch
    expected = per_batch_calls(model, x, 8)
    got = model.predict(x, batch_size=8, verbose=0)
    np.testing.assert_array_equal(got, expected)  # earlier batches' outputs were not overwritten
    buffers = kept_buffers(model)
    assert len(buffers) == 2 and all(b.shape[0] == 8 for b in buffers.values())
    # the next predict writes into the same memory, and gives the same values
    again = model.predict(x, batch_size=8, verbose=0)
    np.testing.assert_array_equal(again, expected)
    assert {k: b.data_ptr() for k, b in kept_buffers(model).items()} == {k: b.data_ptr() for k, b in buffers.items()}


@needs_onednn
def test_evaluate_with_reused_buffers_gives_the_plain_loss(every_conv_output_is_large):
    kerasish.utils.set_random_seed(2)
    model = fruit_like()
    model.compile(loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    x = np.random.rand(20, 20, 20, 3).astype("float32")
    y = np.random.randint(0, 5, 20)
    loss, acc = model.evaluate(x, y, batch_size=6, verbose=0)
    probs = per_batch_calls(model, x, 6)
    expected = -np.mean(np.log(probs[np.arange(20), y]))
    assert loss == pytest.approx(expected, rel=1e-5)
    assert acc == pytest.approx(np.mean(probs.argmax(1) == y))
    assert kept_buffers(model)


def test_no_buffer_for_an_output_a_user_can_see():
    # a model output, a view of it (Flatten, Reshape), a pass-through (Dropout),
    # a custom layer, another model: none may be fed from a reused buffer
    class Keep(Layer):
        def call(self, x):
            return x

    x0 = Input((6, 6, 3))
    a = Conv2D(4, 3, padding="same", name="to_output")(x0)
    b = Conv2D(4, 3, padding="same", name="to_flatten")(x0)
    c = Conv2D(4, 3, padding="same", name="to_dropout")(x0)
    d = Conv2D(4, 3, padding="same", name="to_custom")(x0)
    e = Conv2D(4, 3, padding="same", name="to_reshape")(x0)
    f = Conv2D(4, 3, padding="same", name="to_conv_and_pool")(x0)
    g = MaxPool2D()(Conv2D(4, 3, padding="same", name="conv_after")(f))
    h = GlobalAveragePooling2D()(BatchNormalization()(MaxPool2D()(f)))
    model = Model(x0, [a, Flatten()(b), Dropout(0.5)(c), Keep()(d), Reshape((36, 4))(e), g, h])
    assert reusable_layers(model) == ["to_conv_and_pool", "conv_after"]


def test_graph_with_nothing_to_reuse_makes_no_workspace():
    model = Sequential([Input((4,)), Dense(3), Dense(2)])
    assert workspace_mod.Workspace.checkout(model) is None


@needs_onednn
def test_a_hooked_model_gets_no_buffers(every_conv_output_is_large):
    model = fruit_like()
    seen = []
    handle = model.get_layer(index=2).torch_module.register_forward_pre_hook(lambda m, a: seen.append(a[0]))
    x = np.random.rand(4, 20, 20, 3).astype("float32")
    model.predict(x, batch_size=2, verbose=0)
    assert len(seen) == 2 and seen[0].data_ptr() != seen[1].data_ptr()  # each batch's own tensor
    assert not kept_buffers(model)  # the hooked conv and the conv it reads took torch's allocation
    handle.remove()
    model.predict(x, batch_size=2, verbose=0)
    assert len(kept_buffers(model)) == 2


@needs_onednn
def test_mixed_precision_predict_takes_the_plain_path(every_conv_output_is_large):
    model = fruit_like()
    x = torch.rand(2, 8, 20, 20).contiguous(memory_format=torch.channels_last)
    conv = model.get_layer(index=2).torch_module
    with torch.inference_mode():
        assert conv_kernels.into_applies(x, conv)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            assert not conv_kernels.into_applies(x, conv)
    with torch.enable_grad():
        assert not conv_kernels.into_applies(x, conv)


def test_predict_from_two_threads_at_once(every_conv_output_is_large):
    kerasish.utils.set_random_seed(3)
    model = fruit_like(filters=(8, 8, 8))
    xs = [np.random.rand(24, 20, 20, 3).astype("float32") for _ in range(2)]
    expected = [per_batch_calls(model, x, 4) for x in xs]
    results, errors = [None, None], []

    def run(i):
        try:
            for _ in range(3):
                results[i] = model.predict(xs[i], batch_size=4, verbose=0)
                np.testing.assert_array_equal(results[i], expected[i])
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors


@needs_onednn
def test_the_real_threshold_spares_small_outputs():
    model = fruit_like()
    x = np.random.rand(4, 20, 20, 3).astype("float32")
    model.predict(x, batch_size=2, verbose=0)
    assert not kept_buffers(model)  # 2 x 8 x 20 x 20 floats: far below 32 MiB


def test_outputs_and_views_of_conv_outputs_survive_later_batches(every_conv_output_is_large):
    kerasish.utils.set_random_seed(4)
    x0 = Input((10, 10, 3))
    a = Conv2D(4, 3, padding="same")(x0)
    b = Conv2D(4, 3, padding="same", activation="relu")(a)
    model = Model(x0, [a, Flatten()(b), Dropout(0.3)(Conv2D(2, 1)(b))])
    x = np.random.rand(9, 10, 10, 3).astype("float32")
    got = model.predict(x, batch_size=2, verbose=0)
    with torch.no_grad():
        calls = [model(torch.from_numpy(x[i:i + 2])) for i in range(0, 9, 2)]
    for j, out in enumerate(got):
        np.testing.assert_array_equal(out, np.concatenate([c[j].numpy() for c in calls]))


@needs_onednn
def test_buffers_above_the_keep_limit_are_dropped_after_the_loop(every_conv_output_is_large, monkeypatch):
    model = fruit_like()
    x = np.random.rand(6, 20, 20, 3).astype("float32")
    expected = per_batch_calls(model, x, 3)
    monkeypatch.setattr(workspace_mod, "KEEP_BYTES", 2 * 3 * 8 * 20 * 20 * 4 - 1)  # one byte short of the two buffers
    np.testing.assert_array_equal(model.predict(x, batch_size=3, verbose=0), expected)
    assert not kept_buffers(model)
    monkeypatch.setattr(workspace_mod, "KEEP_BYTES", 2 * 3 * 8 * 20 * 20 * 4)
    np.testing.assert_array_equal(model.predict(x, batch_size=3, verbose=0), expected)
    assert len(kept_buffers(model)) == 2


def test_predict_evaluate_and_validation_share_buffers(every_conv_output_is_large):
    # predict runs under inference_mode, evaluate under no_grad: a buffer made by
    # one must be writable by the other
    kerasish.utils.set_random_seed(5)
    model = fruit_like()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    x = np.random.rand(8, 20, 20, 3).astype("float32")
    y = np.random.randint(0, 5, 8)
    expected = per_batch_calls(model, x, 4)
    np.testing.assert_array_equal(model.predict(x, batch_size=4, verbose=0), expected)
    loss = model.evaluate(x, y, batch_size=4, verbose=0)
    assert loss == pytest.approx(-np.mean(np.log(expected[np.arange(8), y])), rel=1e-5)
    with torch.inference_mode():
        model.evaluate(x, y, batch_size=4, verbose=0)
    model.evaluate(x, y, batch_size=4, verbose=0)
    model.fit(x, y, batch_size=4, epochs=1, validation_data=(x, y), verbose=0)
    np.testing.assert_array_equal(model.predict(x, batch_size=4, verbose=0), per_batch_calls(model, x, 4))


def test_a_hook_added_during_predict_sees_each_batch_own_tensor(every_conv_output_is_large):
    # a callback hooks the module that reads a buffered conv output after the
    # loop has started: from then on that output must not come from a buffer
    kerasish.utils.set_random_seed(6)
    model = fruit_like()
    pool = next(l for l in model.layers if isinstance(l, MaxPool2D))
    seen = []

    class HookLater(kerasish.callbacks.Callback):
        def on_predict_batch_begin(self, batch, logs=None):
            if batch == 0:
                pool.torch_module.register_forward_hook(lambda m, args, out: seen.append(args[0]))

    x = np.random.rand(9, 20, 20, 3).astype("float32")
    model.predict(x, batch_size=3, verbose=0, callbacks=[HookLater()])
    assert len(seen) == 3
    assert len({t.data_ptr() for t in seen}) == 3
    conv = model.layers[2]  # the conv the pool reads
    with torch.no_grad():
        for i, t in enumerate(seen):
            h = torch.from_numpy(x[3 * i:3 * i + 3]).permute(0, 3, 1, 2)
            ref = conv.native_call(model.layers[1].native_call(h))
            assert torch.equal(t, ref)
