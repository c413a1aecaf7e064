"""The private torch APIs kerasish uses (kerasish/backend_compat.py): each
fast path against its public fallback, forced through the gate.

The fallbacks are what an older torch, or one without the private entry
point, runs; they must give the same values (bit for bit where the fast path
claims it). One subprocess test removes the private APIs from torch before
importing kerasish, as a torch older than the fast paths would be.
"""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch.optim import optimizer as torch_optim_base

import kerasish
from kerasish import Input, Model, backend_compat
from kerasish import optimizers as ko
from kerasish.engine import hooks
from kerasish.engine.variable import KerasLayoutTensor
from kerasish.layers import Conv2D, Dense, Flatten, MaxPool2D, MaxPooling2D
from kerasish.layers.pooling import base_pooling, max_pool_kernels


def test_torch_version_is_parsed():
    assert backend_compat._version("2.14.1+cpu") == (2, 14)
    assert backend_compat._version("2.3.0a0+git1234") == (2, 3)
    assert backend_compat.TORCH_VERSION == backend_compat._version(torch.__version__)


# --- the fused AdamW kernel and the optimizer step hooks ------------------------

def _adam_run(monkeypatch, opt_kwargs, steps=5):
    """Weights and torch's Adam slots after ``steps`` updates of fixed gradients; how often
    ``torch.optim.AdamW.step()`` ran; whether the torch optimizer is the fused one."""
    torch.manual_seed(0)
    conv, dense = Conv2D(4, 3), Dense(5)
    conv(np.zeros((1, 6, 6, 2), "float32"))
    dense(np.zeros((1, 3), "float32"))
    variables = conv.weights + dense.weights
    opt = ko.AdamW(**opt_kwargs) if "weight_decay" in opt_kwargs else ko.Adam(**opt_kwargs)
    opt.build(variables)
    calls = []
    real_step = torch.optim.AdamW.step
    monkeypatch.setattr(torch.optim.AdamW, "step", lambda self, *a, **k: calls.append(1) or real_step(self, *a, **k))
    rng = np.random.default_rng(3)
    for _ in range(steps):
        for v in variables:
            v.tensor.grad = torch.tensor(rng.normal(size=tuple(v.tensor.shape)).astype("float32"))
        opt.step()
        opt.zero_grad()
    monkeypatch.setattr(torch.optim.AdamW, "step", real_step)
    state = opt.torch_optimizer.state
    values = [v.tensor.detach().clone() for v in variables] + [t.clone() for v in variables for t in state[v.tensor].values()]
    return values, len(calls), bool(opt.torch_optimizer.param_groups[0]["fused"])


@pytest.mark.skipif("cpu" not in backend_compat.fused_kernel_devices(), reason="no fused AdamW kernel on this torch's CPU")
@pytest.mark.parametrize("gate", ["HAS_FUSED_ADAMW", "OPTIMIZER_HOOKS_READABLE"])
@pytest.mark.parametrize("kwargs", [{"learning_rate": 0.01}, {"learning_rate": 0.02, "weight_decay": 0.1, "amsgrad": True}])
def test_fused_adam_fallback_is_torchs_step_bit_for_bit(monkeypatch, gate, kwargs):
    # private: torch._fused_adamw_ called directly (and torch's step-hook dicts
    # read to know it may be); fallback: torch.optim.AdamW(fused=True).step()
    direct, direct_calls, fused = _adam_run(monkeypatch, kwargs)
    assert fused and direct_calls == 0  # the direct kernel call ran
    monkeypatch.setattr(backend_compat, gate, False)
    wrapped, wrapped_calls, fused = _adam_run(monkeypatch, kwargs)
    assert fused and wrapped_calls == 5  # step() ran instead
    assert len(direct) == len(wrapped) > 8
    for a, b in zip(direct, wrapped):
        assert torch.equal(a, b)


def test_optimizer_hooks_are_seen_and_unreadable_state_counts_as_hooked(monkeypatch):
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(2))], lr=0.1)
    assert not backend_compat.optimizer_has_step_hooks(opt)
    handle = opt.register_step_post_hook(lambda o, a, k: None)
    assert backend_compat.optimizer_has_step_hooks(opt)
    handle.remove()
    handle = torch_optim_base.register_optimizer_step_pre_hook(lambda o, a, k: None)
    try:
        assert backend_compat.optimizer_has_step_hooks(opt)
    finally:
        handle.remove()
    assert not backend_compat.optimizer_has_step_hooks(opt)
    monkeypatch.setattr(backend_compat, "OPTIMIZER_HOOKS_READABLE", False)
    assert backend_compat.optimizer_has_step_hooks(opt)  # the safe answer: step() runs


def test_fused_device_fallback_gives_adams_update(monkeypatch):
    # private: torch.utils._foreach_utils._get_fused_kernels_supported_devices;
    # without it only CUDA counts as fused, so a CPU model gets the foreach kernel:
    # the same update up to float32 rounding
    fused_values, _, fused = _adam_run(monkeypatch, {"learning_rate": 0.01})
    monkeypatch.delattr(torch.utils._foreach_utils, "_get_fused_kernels_supported_devices")
    assert backend_compat.fused_kernel_devices() == frozenset({"cuda"})
    foreach_values, calls, fused_after = _adam_run(monkeypatch, {"learning_rate": 0.01})
    assert not fused_after and calls == 5
    for a, b in zip(fused_values, foreach_values):
        np.testing.assert_allclose(b.numpy(), a.numpy(), rtol=1e-5, atol=1e-6 * float(a.abs().max()) + 1e-12)


# --- module forward hooks --------------------------------------------------------

def test_forward_hooks_are_seen_and_unreadable_state_counts_as_hooked(monkeypatch):
    module = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.ReLU())
    assert not hooks.has_forward_hooks(module)
    handle = module[1].register_forward_pre_hook(lambda m, a: None)
    assert hooks.has_forward_hooks(module)  # a submodule's hook
    handle.remove()
    handle = torch.nn.modules.module.register_module_forward_hook(lambda m, i, o: None)
    try:
        assert hooks.has_forward_hooks(module[0])  # a global hook
    finally:
        handle.remove()
    assert not hooks.has_forward_hooks(module)
    monkeypatch.setattr(backend_compat, "FORWARD_HOOKS_READABLE", False)
    assert hooks.has_forward_hooks(module)  # the safe answer: the module runs itself


def test_max_pool_with_unreadable_hooks_runs_the_module_same_values(monkeypatch):
    calls = []
    real = base_pooling.halving_max_pool
    monkeypatch.setattr(base_pooling, "halving_max_pool", lambda x: calls.append(1) or real(x))
    layer = MaxPooling2D()
    x = torch.randn(2, 8, 8, 3)
    x[0, 1, 1, 0] = float("nan")
    with torch.no_grad():
        fast = layer(x)
    assert calls == [1]
    monkeypatch.setattr(backend_compat, "FORWARD_HOOKS_READABLE", False)
    with torch.no_grad():
        plain = layer(x)
    assert calls == [1]  # nn.MaxPool2d ran
    assert torch.equal(fast.isnan(), plain.isnan()) and fast.isnan().any()
    assert torch.equal(fast.nan_to_num(0.0), plain.nan_to_num(0.0))


# --- the opaque max-pool op (torch.library.custom_op, torch >= 2.4) -----------------

@pytest.mark.skipif(not backend_compat.HAS_CUSTOM_OP, reason="torch.library.custom_op is torch >= 2.4's")
def test_opaque_max_pool_op_equals_max_pool2d_bit_for_bit():
    torch.manual_seed(0)
    x = torch.randn(2, 3, 9, 8, requires_grad=True)
    y = max_pool_kernels.opaque_max_pool(x, (3, 2), (2, 2), (1, 0))
    expected = F.max_pool2d(x, (3, 2), (2, 2), (1, 0))
    assert torch.equal(y, expected)
    g = torch.randn_like(y)
    (got_grad,) = torch.autograd.grad(y, x, g)
    (expected_grad,) = torch.autograd.grad(expected, x, g)
    assert torch.equal(got_grad, expected_grad)


def test_without_the_opaque_op_max_pool_is_never_routed_to_it(monkeypatch):
    monkeypatch.setattr(max_pool_kernels, "_max_pool2d", None)
    x = torch.randn(1, 2, 4, 4, requires_grad=True)
    assert not max_pool_kernels.opaque_applies(x)


def test_is_exporting_fallback_counts_compiling_as_exporting(monkeypatch):
    assert backend_compat.is_exporting() is False
    monkeypatch.delattr(torch.compiler, "is_exporting", raising=False)
    monkeypatch.setattr(torch.compiler, "is_compiling", lambda: True)
    assert backend_compat.is_exporting() is True


# --- Tensor subclasses that do not propagate ------------------------------------------

def _layout_tensor_results():
    torch.manual_seed(0)
    layer = Dense(3)
    layer(np.zeros((1, 4), "float32"))
    v = layer.kernel.value
    assert isinstance(v, KerasLayoutTensor)
    x = torch.randn(2, 4)
    outs = {
        "matmul": x @ v, "add": torch.add(v, 1.0), "sum": v.sum(), "mul": v * 2,
        "max": torch.max(v, dim=0), "split": torch.split(v, 2), "shape": v.shape,
    }
    loss = (x @ v).square().sum()
    loss.backward()
    outs["grad"] = v.grad
    return outs


def _flat(value):
    if isinstance(value, (tuple, list)):
        return [t for item in value for t in _flat(item)]
    return [value]


def test_layout_tensor_public_fallback_gives_the_same_plain_results(monkeypatch):
    # private: torch._C._disabled_torch_function_impl; fallback: torch.Tensor's
    # own __torch_function__ with the results turned back into plain tensors
    private = _layout_tensor_results()
    monkeypatch.setattr(KerasLayoutTensor, "__torch_function__", classmethod(backend_compat._plain_torch_function))
    public = _layout_tensor_results()
    assert private.keys() == public.keys()
    for key in private:
        a, b = _flat(private[key]), _flat(public[key])
        assert type(private[key]) is type(public[key]), key
        for s, t in zip(a, b):
            assert type(s) is type(t), key
            if isinstance(s, torch.Tensor):
                assert type(t) is torch.Tensor and torch.equal(s, t), key
            else:
                assert s == t, key


def test_plain_torch_function_keeps_an_in_place_ops_self():
    class Sub(torch.Tensor):
        __torch_function__ = classmethod(backend_compat._plain_torch_function)

    t = torch.zeros(3).as_subclass(Sub)
    assert t.add_(1) is t and type(t.add_(1)) is Sub
    assert type(t + 1) is torch.Tensor and torch.equal(t + 1, torch.full((3,), 3.0))


# --- an older torch, simulated -------------------------------------------------------------

_OLD_TORCH_SCRIPT = r"""
import json, sys
import numpy as np
import torch
if sys.argv[1] == "old":
    import torch._dynamo, torch.distributed.tensor  # torch's own modules that need custom_op, loaded while it is there
    # private entry points any torch may drop (the CPU's fused AdamW kernel is torch >= 2.4's)
    del torch.utils._foreach_utils._get_fused_kernels_supported_devices
    del torch._fused_adamw_  # (also the fused step's kernel: the CPU then takes the foreach one)
    del torch._C._disabled_torch_function_impl
    del torch.gru  # the GRU's fused op (nn.GRU's own forward reaches it through torch._VF)
    custom_op, is_exporting = torch.library.custom_op, torch.compiler.is_exporting
    del torch.library.custom_op, torch.compiler.is_exporting  # while kerasish is imported (torch's own code needs them)
import kerasish
from kerasish import backend_compat
from kerasish.layers.pooling import max_pool_kernels
if sys.argv[1] == "old":
    torch.library.custom_op, torch.compiler.is_exporting = custom_op, is_exporting
gates = {"custom_op": backend_compat.HAS_CUSTOM_OP, "fused": backend_compat.HAS_FUSED_ADAMW,
         "op": max_pool_kernels._max_pool2d is not None,
         "private_tf": not isinstance(backend_compat.disabled_torch_function, classmethod),
         "gru": backend_compat.HAS_TORCH_GRU}
kerasish.utils.set_random_seed(0)
L = kerasish.layers
model = kerasish.Sequential([L.Input((8, 8, 2)), L.Conv2D(4, 3, padding="same", activation="relu"), L.MaxPooling2D(),
                             L.Flatten(), L.Dense(3)])
model.compile(optimizer=kerasish.optimizers.Adam(0.01), loss="mse")
rng = np.random.default_rng(0)
x, y = rng.random((16, 8, 8, 2), dtype=np.float32), rng.random((16, 3), dtype=np.float32)
model.fit(x, y, batch_size=8, epochs=2, verbose=0)
v = model.layers[0].kernel.value
g = torch.Generator().manual_seed(0)
gru_args = [torch.randn(s, generator=g) * 0.5 for s in ((2, 5, 3), (1, 2, 4), (12, 3), (12, 4), (12,), (12,))]
gru_out = backend_compat.gru_sequence(*gru_args)[0].tolist()
print(json.dumps({"gates": gates, "pred": model.predict(x, verbose=0).tolist(), "plain": type(v * 1) is torch.Tensor,
                  "gru": gru_out}))
"""


@pytest.mark.slow
def test_import_and_fit_without_the_private_apis():
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")

    def run(mode):
        out = subprocess.run([sys.executable, "-c", _OLD_TORCH_SCRIPT, mode], capture_output=True, text=True, env=env,
                             timeout=300)
        assert out.returncode == 0, out.stderr[-3000:]
        return json.loads(out.stdout.strip().splitlines()[-1])

    new, old = run("new"), run("old")
    assert old["gates"] == {"custom_op": False, "fused": False, "op": False, "private_tf": False, "gru": False}
    assert all(new["gates"].values())
    assert old["plain"] and new["plain"]
    a, b = np.array(new["pred"]), np.array(old["pred"])
    np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-5 * np.abs(a).max())
    np.testing.assert_allclose(np.array(old["gru"]), np.array(new["gru"]), rtol=1e-5, atol=1e-6)


# --- the fused GRU kernel (layers/rnn/gru.py) --------------------------------------
@pytest.mark.parametrize("training", [False, True])
def test_gru_sequence_fused_matches_public_fallback(rng, training):
    b, t, f, u = 3, 6, 4, 5
    x = torch.as_tensor(rng.standard_normal((b, t, f)), dtype=torch.float32)
    h0 = torch.as_tensor(rng.standard_normal((1, b, u)), dtype=torch.float32)
    w = [torch.as_tensor(rng.standard_normal(s) * 0.5, dtype=torch.float32).requires_grad_()
         for s in ((3 * u, f), (3 * u, u), (3 * u,), (3 * u,))]
    fast = backend_compat.gru_sequence(x, h0, *w, training, fused=True)
    slow = backend_compat.gru_sequence(x, h0, *w, training, fused=False)
    for a, c in zip(fast, slow):
        np.testing.assert_allclose(a.detach().numpy(), c.detach().numpy(), rtol=1e-5, atol=1e-6)
    g_fast = torch.autograd.grad(fast[0].sum(), w)
    g_slow = torch.autograd.grad(slow[0].sum(), w)
    for a, c in zip(g_fast, g_slow):
        np.testing.assert_allclose(a.numpy(), c.numpy(), rtol=1e-4, atol=1e-5)
    # and nn.GRU itself agrees (the gate's formula is torch's)
    ref = torch.nn.GRU(f, u, batch_first=True)
    with torch.no_grad():
        for p, v in zip((ref.weight_ih_l0, ref.weight_hh_l0, ref.bias_ih_l0, ref.bias_hh_l0), w):
            p.copy_(v)
    np.testing.assert_allclose(ref(x, h0)[0].detach().numpy(), slow[0].detach().numpy(), rtol=1e-5, atol=1e-6)
    assert backend_compat.HAS_TORCH_GRU == callable(getattr(torch, "gru", None))
