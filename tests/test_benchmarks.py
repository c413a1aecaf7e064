"""The benchmark scripts run (speed itself is never asserted in tests)."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), os.pardir, "benchmarks"))
import bench_pairs  # noqa: E402
import bench_rnn  # noqa: E402


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
