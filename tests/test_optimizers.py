"""kerasish.optimizers against keras.optimizers (torch backend).

Parity: the same weights (including a 4-D conv kernel, whose torch layout
differs from Keras's) and the same gradient sequence (a fixed quadratic loss)
go through both libraries' optimizers; weights and slot variables must agree.
Also: schedules, configs, get/serialize, optimizer state in Keras 3's files
both ways, the step-time interface the trainer uses, and bad arguments.
"""

import io
import json
import os
import warnings
import zipfile

os.environ.setdefault("KERAS_BACKEND", "torch")

import h5py
import numpy as np
import pytest
import torch

import kerasish
import kerasish.optimizers as ko
from kerasish.optimizers import schedules as ks


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------
def _our_variables(seed=0):
    """kerasish Variables: conv kernel (4-D, torch layout differs), conv bias, dense kernel, dense bias."""
    torch.manual_seed(seed)
    conv = kerasish.layers.Conv2D(4, 3)
    conv(np.zeros((1, 6, 6, 2), "float32"))
    dense = kerasish.layers.Dense(5)
    dense(np.zeros((1, 3), "float32"))
    return conv.weights + dense.weights


def _quadratic(values, targets, coefs):
    return sum((c * (v - t) ** 2).sum() for v, t, c in zip(values, targets, coefs))


def _run_parity(keras, make_keras, make_ours, steps=8, scale=1.0, check_slots=True, start=0, skip_last_every=0):
    """``steps`` updates of both optimizers from the same start. ``start``: initial
    ``iterations``; ``skip_last_every``: the last variable gets no gradient every n-th step."""
    ours = _our_variables()
    rng = np.random.default_rng(1)
    targets = [rng.normal(size=v.shape).astype("float32") for v in ours]
    coefs = [np.float32(scale * (i + 1)) for i in range(len(ours))]
    kvars = [keras.Variable(v.numpy(), name=v.name) for v in ours]
    kopt, oopt = make_keras(), make_ours()
    oopt.build(ours)
    kopt.build(kvars)
    if start:
        kopt.iterations.assign(start)
        oopt.iterations = start
    t_targets = [torch.tensor(t) for t in targets]
    for i in range(steps):
        skip = bool(skip_last_every) and i % skip_last_every == 1
        grads = [torch.tensor(2 * c * (np.asarray(v.numpy()) - t)) for v, t, c in zip(kvars, targets, coefs)]
        if skip:
            grads[-1] = None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            kopt.apply_gradients(zip(grads, kvars))
            _quadratic([v.value for v in ours], t_targets, coefs).backward()
            if skip:
                ours[-1].tensor.grad = None
            oopt.step()
        oopt.zero_grad()
    for v, k in zip(ours, kvars):
        np.testing.assert_allclose(v.numpy(), np.asarray(k.numpy()), rtol=1e-6, atol=1e-6, err_msg=v.path)
    assert oopt.iterations == steps + start == int(kopt.iterations.numpy())
    if check_slots:
        _assert_same_state(oopt, kopt)
    return ours, kvars, oopt, kopt


def _assert_same_state(oopt, kopt, rtol=1e-5, atol=1e-6):
    ov, kv = oopt.variables, kopt.variables
    assert [v.shape for v in ov] == [tuple(v.shape) for v in kv]
    for a, b in zip(ov, kv):
        np.testing.assert_allclose(a.numpy(), np.asarray(b.numpy()), rtol=rtol, atol=atol, err_msg=b.path)


OPTIMIZER_CASES = [
    ("SGD", {}),
    ("SGD", {"learning_rate": 0.05, "momentum": 0.9}),
    ("SGD", {"learning_rate": 0.05, "momentum": 0.9, "nesterov": True}),
    ("Adam", {"learning_rate": 0.01}),
    ("Adam", {"learning_rate": 0.01, "beta_1": 0.5, "beta_2": 0.9, "epsilon": 1e-3, "amsgrad": True}),
    ("AdamW", {"learning_rate": 0.01}),
    ("RMSprop", {"learning_rate": 0.01}),
    ("RMSprop", {"learning_rate": 0.01, "rho": 0.8, "momentum": 0.5, "centered": True}),
    ("Adagrad", {"learning_rate": 0.05}),
    ("Adagrad", {"learning_rate": 0.05, "initial_accumulator_value": 0.0, "epsilon": 1e-3}),
    ("Adadelta", {"learning_rate": 1.0}),
    ("Adamax", {"learning_rate": 0.01}),
    ("Nadam", {"learning_rate": 0.01}),
    ("Lion", {"learning_rate": 0.01}),
]

VARIANTS = [
    {"clipnorm": 0.5},
    {"clipvalue": 0.3},
    {"global_clipnorm": 1.0},
    {"weight_decay": 0.05},
    {"loss_scale_factor": 4.0},
]


@pytest.mark.parametrize("name,kwargs", OPTIMIZER_CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(OPTIMIZER_CASES)])
def test_update_parity(keras, name, kwargs):
    _run_parity(keras, lambda: getattr(keras.optimizers, name)(**kwargs), lambda: getattr(ko, name)(**kwargs))


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: next(iter(v)))
@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop", "Adagrad", "Adadelta", "Adamax", "Nadam", "Lion", "AdamW"])
def test_clipping_and_weight_decay_parity(keras, name, variant):
    kwargs = {"learning_rate": 1.0 if name == "Adadelta" else 0.01, **variant}
    if name == "SGD":
        kwargs["momentum"] = 0.9
    _run_parity(keras, lambda: getattr(keras.optimizers, name)(**kwargs), lambda: getattr(ko, name)(**kwargs), steps=6, scale=3.0)


@pytest.mark.parametrize("name", ["Adam", "Adamax", "Nadam", "SGD"])
def test_parity_from_a_later_step_and_with_missing_gradients(keras, name):
    """Bias corrections follow ``iterations`` (set by hand, or moving on while a
    variable has no gradient), as in Keras."""
    kw = {"learning_rate": 0.01, "momentum": 0.9} if name == "SGD" else {"learning_rate": 0.01}
    make_keras, make_ours = lambda: getattr(keras.optimizers, name)(**kw), lambda: getattr(ko, name)(**kw)
    _run_parity(keras, make_keras, make_ours, steps=4, start=3)
    _run_parity(keras, make_keras, make_ours, steps=6, skip_last_every=2)


def test_clipping_is_active(keras):
    """The clipping variants change the result (so the parity above tests something)."""
    plain, _, _, _ = _run_parity(keras, lambda: keras.optimizers.SGD(0.01), lambda: ko.SGD(0.01), steps=2, scale=3.0)
    for variant in VARIANTS[:3]:
        clipped, _, _, _ = _run_parity(
            keras, lambda: keras.optimizers.SGD(0.01, **variant), lambda: ko.SGD(0.01, **variant), steps=2, scale=3.0
        )
        assert not np.allclose(plain[0].numpy(), clipped[0].numpy()), variant


@pytest.mark.parametrize("implementation", ["foreach", "fused"])
def test_adam_torch_implementations(keras, implementation):
    class OurAdam(ko.Adam):
        pass

    OurAdam.implementation = implementation
    kw = {"learning_rate": 0.02, "weight_decay": 0.1, "amsgrad": True}
    _, _, oopt, _ = _run_parity(keras, lambda: keras.optimizers.Adam(**kw), lambda: OurAdam(**kw))
    assert bool(oopt.torch_optimizer.param_groups[0]["fused"]) == (implementation == "fused")
    assert isinstance(oopt.torch_optimizer, torch.optim.AdamW)


def _steps_of(opt_kwargs, direct, steps=5, exclude=False):
    """Weights and Adam slots after ``steps`` updates of a fixed gradient
    sequence, with the fused update called directly or through torch's step()."""
    ours = _our_variables()
    opt = ko.AdamW(**opt_kwargs) if "weight_decay" in opt_kwargs else ko.Adam(**opt_kwargs)
    if exclude:
        opt.exclude_from_weight_decay(var_names=["bias"])
    opt.build(ours)
    if not direct:
        opt._step_directly = lambda: False
    rng = np.random.default_rng(3)
    for _ in range(steps):
        for v in ours:
            v.tensor.grad = torch.tensor(rng.normal(size=tuple(v.tensor.shape)).astype("float32"))
        opt.step()
        opt.zero_grad()
    state = opt.torch_optimizer.state
    return [v.tensor.detach().clone() for v in ours] + [t.clone() for v in ours for t in state[v.tensor].values()]


@pytest.mark.parametrize("kwargs, exclude", [({"learning_rate": 0.01}, False),
                                             ({"learning_rate": 0.02, "weight_decay": 0.1, "amsgrad": True}, True)])
def test_adam_direct_fused_update_is_torchs_step_bit_for_bit(kwargs, exclude):
    # the fused update called without torch.optim's step() wrapper (one
    # parameter group, or two with weights excluded from decay; amsgrad)
    direct, wrapped = _steps_of(kwargs, True, exclude=exclude), _steps_of(kwargs, False, exclude=exclude)
    assert len(direct) == len(wrapped) > 4
    for a, b in zip(direct, wrapped):
        assert torch.equal(a, b)


def test_adam_steps_through_torch_where_step_would_do_more(monkeypatch):
    ours = _our_variables()
    opt = ko.Adam(0.01)
    opt.build(ours)
    calls = []
    real_step = torch.optim.AdamW.step
    monkeypatch.setattr(torch.optim.AdamW, "step", lambda self, *a, **k: calls.append(1) or real_step(self, *a, **k))

    def one_step():
        for v in ours:
            v.tensor.grad = torch.ones_like(v.tensor)
        opt.step()
        opt.zero_grad()
        assert all(v.tensor.grad is None for v in ours)

    one_step()
    assert calls == []  # the direct update
    seen = []
    handle = opt.torch_optimizer.register_step_pre_hook(lambda o, args, kwargs: seen.append(1))
    one_step()
    assert calls == [1] and seen == [1]  # a hook on torch's step: step() runs, the hook fires
    handle.remove()
    ours[-1].tensor.grad = None  # a weight without a gradient: torch's step() too
    for v in ours[:-1]:
        v.tensor.grad = torch.ones_like(v.tensor)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        opt.step()
    assert calls == [1, 1]


def test_exclude_from_weight_decay_parity(keras):
    def make_keras():
        opt = keras.optimizers.AdamW(0.01, weight_decay=0.5)
        opt.exclude_from_weight_decay(var_names=["bias"])
        return opt

    def make_ours():
        opt = ko.AdamW(0.01, weight_decay=0.5)
        opt.exclude_from_weight_decay(var_names=["bias"])
        return opt

    _, _, oopt, _ = _run_parity(keras, make_keras, make_ours)
    groups = oopt.torch_optimizer.param_groups
    assert sorted(g["keras_weight_decay"] for g in groups) == [0.0, 0.5]


@pytest.mark.parametrize(
    "name,schedule",
    [
        ("SGD", ("ExponentialDecay", (0.1, 2, 0.5), {})),
        ("Adam", ("CosineDecay", (0.01, 5), {"warmup_target": 0.05, "warmup_steps": 3})),
        ("RMSprop", ("PiecewiseConstantDecay", ([2, 4], [0.01, 0.005, 0.001]), {})),
    ],
)
def test_schedule_parity_in_optimizer(keras, name, schedule):
    cls_name, args, kw = schedule
    extra = {"momentum": 0.9} if name == "SGD" else {}
    _run_parity(
        keras,
        lambda: getattr(keras.optimizers, name)(getattr(keras.optimizers.schedules, cls_name)(*args, **kw), weight_decay=0.1, **extra),
        lambda: getattr(ko, name)(getattr(ks, cls_name)(*args, **kw), weight_decay=0.1, **extra),
    )


def test_apply_gradients_in_keras_layout(keras):
    """Keras's apply_gradients API: gradients shaped like variable.shape (Keras layout)."""
    ours = _our_variables()
    kvars = [keras.Variable(v.numpy(), name=v.name) for v in ours]
    kopt, oopt = keras.optimizers.Adam(0.01), ko.Adam(0.01)
    rng = np.random.default_rng(3)
    for _ in range(3):
        grads = [rng.normal(size=v.shape).astype("float32") for v in ours]
        kopt.apply_gradients(zip([torch.tensor(g) for g in grads], kvars))
        oopt.apply_gradients(zip(grads, ours))
    for v, k in zip(ours, kvars):
        np.testing.assert_allclose(v.numpy(), np.asarray(k.numpy()), rtol=1e-6, atol=1e-6)
    assert all(v.tensor.grad is None for v in ours)  # .grad is left as it was


# ---------------------------------------------------------------------------
# Keras's variables, and state in Keras 3's files both ways
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("name,kwargs", OPTIMIZER_CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(OPTIMIZER_CASES)])
def test_variables_match_keras(keras, name, kwargs):
    ours = _our_variables()
    kvars = [keras.Variable(v.numpy(), name=v.name) for v in ours]
    oopt, kopt = getattr(ko, name)(**kwargs), getattr(keras.optimizers, name)(**kwargs)
    oopt.build(ours)
    kopt.build(kvars)
    assert [v.shape for v in oopt.variables] == [tuple(v.shape) for v in kopt.variables]
    assert [v.dtype for v in oopt.variables] == [str(v.dtype) for v in kopt.variables]
    for a, b in zip(oopt.variables, kopt.variables):
        b = b.path.split("/")[-1]
        assert b.endswith(a.name) or (a.name == "u_product" and b.startswith("variable")), (a.name, b)
    _assert_same_state(oopt, kopt)  # initial values (Adagrad's accumulator starts at 0.1)


def _keras_model(keras):
    return keras.Sequential(
        [keras.Input((6, 6, 2)), keras.layers.Conv2D(3, 3), keras.layers.Flatten(), keras.layers.Dense(2)]
    )


def _data():
    rng = np.random.default_rng(0)
    return rng.normal(size=(16, 6, 6, 2)).astype("float32"), rng.normal(size=(16, 2)).astype("float32")


def _h5_optimizer_vars(path):
    with zipfile.ZipFile(path) as z:
        with h5py.File(io.BytesIO(z.read("model.weights.h5")), "r") as f:
            return {k: np.asarray(v) for k, v in f["optimizer/vars"].items()}


def _train_ours(model, opt, x, y, steps):
    for _ in range(steps):
        loss = ((model(torch.tensor(x)) - torch.tensor(y)) ** 2).mean()
        loss.backward()
        opt.step()
        opt.zero_grad()


@pytest.mark.parametrize("make", ["adam", "sgd_momentum"])
def test_state_from_keras_file(keras, tmp_path, make):
    """Keras 3 trains and saves a .keras file; kerasish restores the optimizer
    state from it and both continue training identically."""
    kw = {"learning_rate": 0.01} if make == "adam" else {"learning_rate": 0.05, "momentum": 0.9}
    kcls = keras.optimizers.Adam if make == "adam" else keras.optimizers.SGD
    x, y = _data()
    km = _keras_model(keras)
    km.compile(optimizer=kcls(**kw), loss="mse")
    km.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    path = str(tmp_path / "k.keras")
    km.save(path)

    om = kerasish.models.load_model(path, compile=False)
    with zipfile.ZipFile(path) as z:
        config = json.loads(z.read("config.json"))["compile_config"]["optimizer"]
    opt = ko.deserialize(config)  # Keras's (torch backend) serialized form
    assert type(opt).__name__ == kcls.__name__
    opt.build(om.trainable_weights)
    with zipfile.ZipFile(path) as z:
        with h5py.File(io.BytesIO(z.read("model.weights.h5")), "r") as f:
            opt.load_own_variables(f["optimizer/vars"])
    assert opt.iterations == 4
    _assert_same_state(opt, km.optimizer, rtol=1e-6, atol=1e-7)
    for _ in range(3):
        km.train_on_batch(x[:8], y[:8])
    _train_ours(om, opt, x[:8], y[:8], 3)
    for a, b in zip(om.get_weights(), km.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    _assert_same_state(opt, km.optimizer, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("make", ["adam", "sgd_momentum"])
def test_state_to_keras_file(keras, tmp_path, make):
    """kerasish trains and saves; Keras 3 restores the optimizer state (both from
    the .keras file's h5 and through keras's own ``load_weights``)."""
    kw = {"learning_rate": 0.01} if make == "adam" else {"learning_rate": 0.05, "momentum": 0.9}
    kcls = keras.optimizers.Adam if make == "adam" else keras.optimizers.SGD
    x, y = _data()
    km0 = _keras_model(keras)
    path0 = str(tmp_path / "arch.keras")
    km0.save(path0)
    om = kerasish.models.load_model(path0, compile=False)
    opt = getattr(ko, kcls.__name__)(**kw)
    opt.build(om.trainable_weights)
    _train_ours(om, opt, x[:8], y[:8], 5)
    om.optimizer = opt
    path = str(tmp_path / "o.keras")
    om.save(path)
    assert sorted(_h5_optimizer_vars(path), key=int) == [str(i) for i in range(len(opt.variables))]

    km = keras.models.load_model(path, compile=False)
    km.compile(optimizer=kcls(**kw), loss="mse")
    km.optimizer.build(km.trainable_variables)
    km.optimizer.load_own_variables(_h5_optimizer_vars(path))
    assert int(km.optimizer.iterations.numpy()) == 5
    _assert_same_state(opt, km.optimizer, rtol=1e-6, atol=1e-7)

    wpath = str(tmp_path / "o.weights.h5")
    om.save_weights(wpath)
    km2 = _keras_model(keras)
    km2.compile(optimizer=kcls(**kw), loss="mse")
    km2.optimizer.build(km2.trainable_variables)
    km2.load_weights(wpath)
    _assert_same_state(opt, km2.optimizer, rtol=1e-6, atol=1e-7)

    # and back: the weights file restores a fresh kerasish optimizer
    opt2 = getattr(ko, kcls.__name__)(**kw)
    opt2.build(om.trainable_weights)
    with h5py.File(wpath, "r") as f:
        opt2.load_own_variables(f["optimizer/vars"])
    assert opt2.iterations == 5
    for a, b in zip(opt2.variables, opt.variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_load_before_build_and_mismatch():
    ours = _our_variables()
    opt = ko.Adam(0.01)
    opt.build(ours)
    for v in ours:
        v.tensor.grad = torch.ones_like(v.tensor)
    opt.step()
    store = {}
    opt.save_own_variables(store)
    assert store["0"].dtype == np.int32 and store["1"].dtype == np.float32 and len(store) == 2 + 2 * len(ours)

    fresh = ko.Adam(0.5)
    fresh.load_own_variables(store)  # not built yet: kept until build
    assert fresh.iterations == 1
    fresh.build(ours)
    assert fresh.learning_rate == pytest.approx(0.01)
    for a, b in zip(fresh.variables, opt.variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy())

    sgd = ko.SGD(momentum=0.9)
    sgd.build(ours)
    with pytest.warns(UserWarning, match="Skipping variable loading"):
        sgd.load_own_variables(store)
    assert sgd.iterations == 0


def test_nadam_u_product_saved_last(keras):
    _, _, oopt, kopt = _run_parity(keras, lambda: keras.optimizers.Nadam(0.01), lambda: ko.Nadam(0.01), steps=4)
    assert oopt.variables[-1].shape == ()
    np.testing.assert_allclose(oopt.variables[-1].numpy(), np.asarray(kopt.variables[-1].numpy()), rtol=1e-6)


# ---------------------------------------------------------------------------
# the interface the trainer uses
# ---------------------------------------------------------------------------
def test_step_interface_and_learning_rate():
    ours = _our_variables()
    opt = ko.SGD(0.1)
    with pytest.raises(ValueError, match="build"):
        opt.step()
    opt.zero_grad()  # no-op before build
    opt.build(ours)
    assert isinstance(opt.torch_optimizer, torch.optim.Optimizer)
    assert opt.learning_rate == pytest.approx(0.1)
    opt.learning_rate = 0.25
    assert all(g["lr"] == 0.25 for g in opt.torch_optimizer.param_groups)
    before = ours[0].numpy()
    for v in ours:
        v.tensor.grad = torch.ones_like(v.tensor)
    opt.step()
    np.testing.assert_allclose(ours[0].numpy(), before - 0.25, rtol=1e-6)
    assert opt.iterations == 1
    opt.zero_grad()
    assert all(v.tensor.grad is None for v in ours)
    with pytest.raises(ValueError, match="No gradients"):
        opt.step()

    opt.iterations = 10
    assert opt.iterations == 10
    opt.learning_rate = ks.ExponentialDecay(1.0, 10, 0.5)
    assert opt.learning_rate == pytest.approx(0.5)  # schedule read at iterations
    assert len(opt.variables) == 1  # Keras drops the learning-rate variable with a schedule
    with pytest.raises(TypeError, match="not settable"):
        opt.learning_rate = 0.1


def test_rebuild_after_unfreezing_keeps_state():
    ours = _our_variables()
    opt = ko.Adam(0.01)
    opt.build(ours[:2])
    for v in ours:
        v.tensor.grad = torch.ones_like(v.tensor)
    opt.step()
    m0 = opt.variables[2].numpy()
    opt.build(ours)  # more trainable weights now
    assert len(opt.variables) == 2 + 2 * len(ours)
    np.testing.assert_array_equal(opt.variables[2].numpy(), m0)
    assert np.all(opt.variables[-2].numpy() == 0)
    opt.step()
    assert opt.iterations == 2


def test_missing_gradients_warn_and_skip():
    ours = _our_variables()
    opt = ko.SGD(0.1)
    opt.build(ours)
    frozen = ours[1].numpy()
    for v in ours:
        v.tensor.grad = torch.ones_like(v.tensor)
    ours[1].tensor.grad = None
    with pytest.warns(UserWarning, match="Gradients do not exist"):
        opt.step()
    np.testing.assert_array_equal(ours[1].numpy(), frozen)


def test_grad_scaler():
    ours = _our_variables()
    ref = _our_variables()
    scaler = torch.amp.GradScaler("cpu", init_scale=1024.0)
    opt, ref_opt = ko.Adam(0.01, clipnorm=1.0), ko.Adam(0.01, clipnorm=1.0)
    opt.build(ours)
    ref_opt.build(ref)
    targets = [torch.randn(v.shape, generator=torch.Generator().manual_seed(i)) for i, v in enumerate(ours)]
    for _ in range(3):
        scaler.scale(_quadratic([v.value for v in ours], targets, [1.0] * 4)).backward()
        opt.step(grad_scaler=scaler)
        opt.zero_grad()
        _quadratic([v.value for v in ref], targets, [1.0] * 4).backward()
        ref_opt.step()
        ref_opt.zero_grad()
    for a, b in zip(ours, ref):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6, atol=1e-7)
    # an inf gradient: the update is skipped, the scale shrinks
    before = [v.numpy() for v in ours]
    scale = scaler.get_scale()
    for v in ours:
        v.tensor.grad = torch.full_like(v.tensor, float("inf"))
    opt.step(grad_scaler=scaler)
    assert scaler.get_scale() < scale
    for v, b in zip(ours, before):
        np.testing.assert_array_equal(v.numpy(), b)


def test_constraint_applied_after_update():
    ours = _our_variables()
    ours[1].constraint = lambda w: torch.clamp(w, min=0.0)
    opt = ko.SGD(1.0)
    opt.build(ours)
    for v in ours:
        v.tensor.grad = torch.ones_like(v.tensor)
    opt.step()
    assert ours[1].numpy().min() >= 0.0


def test_scale_loss():
    assert ko.SGD(loss_scale_factor=8.0).scale_loss(2.0) == 16.0
    assert ko.SGD().scale_loss(2.0) == 2.0


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "Nadam", "Lion"])
@pytest.mark.parametrize("variant", [{}, {"clipnorm": 1.0}, {"global_clipnorm": 1.0}, {"clipvalue": 0.1}])
def test_step_does_not_sync_on_cuda(name, variant):
    """No host-device sync in step() (schedule, clipping, weight decay, loss scale factor)."""
    layer = kerasish.layers.Dense(8)
    layer(np.zeros((1, 4), "float32"))
    layer.to("cuda")
    opt = getattr(ko, name)(ks.CosineDecay(0.01, 100), weight_decay=0.01, loss_scale_factor=2.0, **variant)
    opt.build(layer.trainable_weights)
    x = torch.randn(3, 4, device="cuda")
    for _ in range(3):
        layer(x).square().mean().backward()
        torch.cuda.synchronize()
        torch.cuda.set_sync_debug_mode("error")
        try:
            opt.step()
            opt.zero_grad()
        finally:
            torch.cuda.set_sync_debug_mode(0)
    assert opt.iterations == 3
    # With a GradScaler (torch's GradScaler.step itself reads found_inf for non-fused optimizers).
    scaler = torch.amp.GradScaler("cuda")
    before = layer.weights[0].numpy()
    scaler.scale(layer(x).square().mean()).backward()
    opt.step(grad_scaler=scaler)
    assert not np.array_equal(before, layer.weights[0].numpy())
    assert opt.iterations == 4


# ---------------------------------------------------------------------------
# config, get, serialize
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("name,kwargs", OPTIMIZER_CASES + [("Adam", {"clipnorm": 1.0, "weight_decay": 0.1})])
def test_config_matches_keras_and_round_trips(keras, name, kwargs):
    ours, ref = getattr(ko, name)(**kwargs), getattr(keras.optimizers, name)(**kwargs)
    a, b = ours.get_config(), ref.get_config()
    a.pop("name"), b.pop("name")
    assert a == b
    again = type(ours).from_config(ours.get_config())
    assert again.get_config() == ours.get_config()
    s = ko.serialize(ours)
    assert s["module"] == "keras.optimizers" and s["class_name"] == name and s["registered_name"] is None
    assert type(ko.deserialize(s)) is type(ours)
    # Keras reads ours and we read Keras's
    assert type(keras.optimizers.deserialize(s)).__name__ == name
    assert ko.deserialize(keras.optimizers.serialize(ref)).get_config()["learning_rate"] == b["learning_rate"]


def test_schedule_in_config_matches_keras(keras):
    ours = ko.Adam(ks.ExponentialDecay(0.1, 10, 0.9, staircase=True))
    ref = keras.optimizers.Adam(keras.optimizers.schedules.ExponentialDecay(0.1, 10, 0.9, staircase=True))
    assert ours.get_config()["learning_rate"] == ref.get_config()["learning_rate"]
    back = ko.Adam.from_config(ours.get_config())
    assert isinstance(back._learning_rate, ks.ExponentialDecay)
    assert back.learning_rate == pytest.approx(0.1)
    from_keras = ko.deserialize(keras.optimizers.serialize(ref))
    assert from_keras.get_config()["learning_rate"] == ref.get_config()["learning_rate"]


def test_get():
    assert ko.get(None) is None
    for name in ["sgd", "adam", "adamw", "rmsprop", "adagrad", "adadelta", "adamax", "nadam", "lion", "Adam", "RMSprop"]:
        assert type(ko.get(name)).__name__.lower() == name.lower()
    opt = ko.SGD(0.3)
    assert ko.get(opt) is opt
    assert isinstance(ko.get(ko.Nadam), ko.Nadam)
    assert ko.get({"class_name": "SGD", "config": {"learning_rate": 0.5}}).learning_rate == 0.5
    full = {"module": "keras.optimizers", "class_name": "Adam", "config": {"learning_rate": 0.2}, "registered_name": None}
    assert ko.get(full).learning_rate == pytest.approx(0.2)
    with pytest.raises(ValueError, match=r"Unknown optimizer: 'adamz'.*adam.*sgd"):
        ko.get("adamz")
    with pytest.raises(ValueError, match="Could not interpret optimizer identifier"):
        ko.get(42)


def test_custom_registered_optimizer_round_trip():
    from kerasish.saving import register_keras_serializable

    @register_keras_serializable(package="test_opt")
    class HalfSGD(ko.SGD):
        pass

    s = ko.serialize(HalfSGD(0.2))
    assert s["registered_name"] == "test_opt>HalfSGD"
    assert type(ko.deserialize(s)) is HalfSGD


# ---------------------------------------------------------------------------
# schedules
# ---------------------------------------------------------------------------
SCHEDULES = [
    ("ExponentialDecay", (0.1, 7, 0.8), {}),
    ("ExponentialDecay", (0.1, 7, 0.8), {"staircase": True}),
    ("PiecewiseConstantDecay", ([5, 10], [1.0, 0.5, 0.1]), {}),
    ("PolynomialDecay", (0.1, 10), {}),
    ("PolynomialDecay", (0.1, 10, 0.01), {"power": 0.5, "cycle": True}),
    ("InverseTimeDecay", (0.1, 3, 0.5), {}),
    ("InverseTimeDecay", (0.1, 3, 0.5), {"staircase": True}),
    ("CosineDecay", (0.1, 10), {"alpha": 0.1}),
    ("CosineDecay", (0.0, 10), {"warmup_target": 0.2, "warmup_steps": 5}),
    ("CosineDecayRestarts", (0.1, 4), {}),
    ("CosineDecayRestarts", (0.1, 4), {"t_mul": 1.0, "m_mul": 0.5, "alpha": 0.1}),
]


@pytest.mark.parametrize("name,args,kwargs", SCHEDULES, ids=[f"{s[0]}-{i}" for i, s in enumerate(SCHEDULES)])
def test_schedule_values_and_config(keras, name, args, kwargs):
    ours, ref = getattr(ks, name)(*args, **kwargs), getattr(keras.optimizers.schedules, name)(*args, **kwargs)
    got = np.array([ours(i) for i in range(40)])
    assert all(isinstance(ours(i), float) for i in (0, 3))
    expected = np.array([float(ref(i)) for i in range(40)])
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-8)
    assert ours.get_config() == ref.get_config()
    assert ks.serialize(ours) == keras.optimizers.schedules.serialize(ref)
    back = ks.deserialize(keras.optimizers.schedules.serialize(ref))
    assert type(back) is type(ours) and back.get_config() == ours.get_config()
    assert type(ours).from_config(ours.get_config()).get_config() == ours.get_config()


def test_schedule_errors():
    with pytest.raises(ValueError, match="decay_steps"):
        ks.ExponentialDecay(0.1, 0, 0.5)
    with pytest.raises(ValueError, match="boundaries"):
        ks.PiecewiseConstantDecay([1, 2], [0.1, 0.2])
    with pytest.raises(ValueError, match="Unknown learning rate schedule"):
        ks.deserialize({"class_name": "NoSuchDecay", "config": {}})
    with pytest.raises(NotImplementedError):
        ks.LearningRateSchedule()(0)


# ---------------------------------------------------------------------------
# bad arguments
# ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "make,match",
    [
        (lambda: ko.SGD(learning_rate=-0.1), "learning_rate"),
        (lambda: ko.SGD(learning_rate="fast"), "learning_rate"),
        (lambda: ko.Adam(beta_1=1.0), "beta_1"),
        (lambda: ko.Adam(beta_1=-0.1), "beta_1"),
        (lambda: ko.Nadam(beta_2=1.5), "beta_2"),
        (lambda: ko.Adamax(beta_1=1.0), "beta_1"),
        (lambda: ko.Lion(beta_1=0.0), "beta_1"),
        (lambda: ko.Adam(clipnorm=0.0), "clipnorm"),
        (lambda: ko.Adam(clipnorm=-1.0), "clipnorm"),
        (lambda: ko.Adam(global_clipnorm=0), "global_clipnorm"),
        (lambda: ko.Adam(clipvalue=-1), "clipvalue"),
        (lambda: ko.Adam(clipnorm=1.0, global_clipnorm=1.0), "Only one of"),
        (lambda: ko.Adam(weight_decay=-0.1), "weight_decay"),
        (lambda: ko.AdamW(weight_decay=None), "weight_decay"),
        (lambda: ko.SGD(momentum=1.5), "momentum"),
        (lambda: ko.RMSprop(rho=1.0), "rho"),
        (lambda: ko.Adam(use_ema=True), "use_ema"),
        (lambda: ko.Adam(gradient_accumulation_steps=4), "gradient_accumulation_steps"),
        (lambda: ko.Adam(foo=1), "not recognized"),
        (lambda: ko.get("nope"), "Known optimizers"),
    ],
)
def test_bad_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_decay_argument_warns():
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        ko.SGD(decay=0.1)
    assert any("decay" in str(x.message) for x in w)
