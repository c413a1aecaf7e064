"""The benchmark scripts run (speed itself is never asserted in tests)."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), os.pardir, "benchmarks"))
import bench_pairs  # noqa: E402


def test_sign_test_is_the_binomial_tail():
    assert bench_pairs.sign_test(21, 21) == 0.5**21
    assert bench_pairs.sign_test(0, 7) == 1.0
    # P(X >= 14) for X ~ Binomial(21, 1/2)
    assert abs(bench_pairs.sign_test(14, 21) - 0.0946) < 1e-4


def test_paired_benchmark_runs_one_round(capsys):
    bench_pairs.run("mnist-predict", 1)
    line = capsys.readouterr().out
    assert line.startswith("mnist-predict") and "won " in line and "of 1 rounds" in line
