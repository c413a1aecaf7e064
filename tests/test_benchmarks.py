"""The benchmark scripts run (speed itself is never asserted in tests)."""

import argparse
import os
import sys

import numpy as np
import torch

import kerasish
from kerasish.testing.test_case import float32_tol

sys.path.insert(0, os.path.join(os.path.dirname(__file__), os.pardir, "benchmarks"))
import bench_pairs  # noqa: E402
import bench_rnn  # noqa: E402
import bench_text  # noqa: E402
import bench_transformer  # noqa: E402


def test_sign_test_is_the_binomial_tail():
    assert bench_pairs.sign_test(21, 21) == 0.5**21
    assert bench_pairs.sign_test(0, 7) == 1.0
    # P(X >= 14) for X ~ Binomial(21, 1/2)
    assert abs(bench_pairs.sign_test(14, 21) - 0.0946) < 1e-4


def test_paired_benchmark_runs_one_round(capsys):
    bench_pairs.run("mnist-predict", 1)
    line = capsys.readouterr().out
    assert line.startswith("mnist-predict") and "won " in line and "of 1 rounds" in line


def test_rnn_benchmark_runs_tiny(capsys):
    for kind in bench_rnn.MODELS:
        speeds = bench_rnn.run(kind, steps=2, rounds=1, maxlen=8, embed=8, units=4)
        assert sorted(speeds) == ["keras 3", "kerasish", "torch"]
        assert all(len(v) == 1 and v[0] > 0 for v in speeds.values())
    out = capsys.readouterr().out
    assert "LSTM(64)" in out and "Bidirectional(GRU(64))" in out
    assert out.count("kerasish / hand-written torch:") == 2 and out.count("kerasish / keras 3:") == 2


def test_transformer_benchmark_runs_tiny(capsys):
    speeds = bench_transformer.run(steps=2, rounds=1, seq=8, dim=16, heads=2, key_dim=8, mlp=16)
    assert sorted(speeds) == ["keras 3", "kerasish", "torch"]
    assert all(len(v) == 1 and v[0] > 0 for v in speeds.values())
    out = capsys.readouterr().out
    assert "MultiHeadAttention 2x8, dim 16, MLP 16" in out
    assert out.count("kerasish / hand-written torch:") == 1 and out.count("kerasish / keras 3:") == 1


def test_transformer_benchmark_models_have_the_same_weights():
    """Like for like: the hand-written block has as many weights as kerasish's model."""
    ours = bench_transformer.build(kerasish, 8, 16, 2, 8, 16, 10)
    hand = bench_transformer.TorchBlock(16, 2, 8, 16, 10)
    assert ours.count_params() == sum(p.numel() for p in hand.parameters())


def test_transformer_benchmark_hand_written_block_is_the_same_function():
    """On kerasish's weights (Keras layouts reshaped to nn.Linear's), the
    hand-written block gives kerasish's logits: both contenders time the same math."""
    ours = bench_transformer.build(kerasish, 8, 16, 2, 8, 16, 10)
    hand = bench_transformer.TorchBlock(16, 2, 8, 16, 10)
    w = [torch.from_numpy(np.asarray(a)) for a in ours.get_weights()]
    qk, qb, kk, kb, vk, vb, ok, ob, g1, b1, d1k, d1b, d2k, d2b, g2, b2, fk, fb = w
    with torch.no_grad():
        for lin, k, b in ((hand.q, qk, qb), (hand.k, kk, kb), (hand.v, vk, vb)):
            lin.weight.copy_(k.reshape(16, -1).T)
            lin.bias.copy_(b.reshape(-1))
        hand.o.weight.copy_(ok.reshape(-1, 16).T)
        hand.o.bias.copy_(ob)
        for norm, g, b in ((hand.norm1, g1, b1), (hand.norm2, g2, b2)):
            norm.weight.copy_(g)
            norm.bias.copy_(b)
        for lin, k, b in ((hand.mlp[0], d1k, d1b), (hand.mlp[2], d2k, d2b), (hand.fc, fk, fb)):
            lin.weight.copy_(k.T)
            lin.bias.copy_(b)
    x = np.random.default_rng(0).standard_normal((4, 8, 16)).astype("float32")
    want = hand(torch.from_numpy(x)).detach().numpy()
    got = ours.predict(x, verbose=0)
    np.testing.assert_allclose(got, want, rtol=float32_tol(terms=16, depth=6),
                               atol=float32_tol(terms=16, depth=6) * float(np.abs(want).max()))


def test_text_benchmark_runs_tiny():
    # the script checks itself that kerasish's vocabulary and ids equal the plain reference's
    speeds = bench_text.run(argparse.Namespace(reviews=50, rounds=1, batch=16, max_tokens=500, length=20))
    assert sorted(speeds) == [("ours", "adapt"), ("ours", "call"), ("ref", "adapt"), ("ref", "call")]
    assert all(len(v) == 1 and v[0] > 0 for v in speeds.values())
