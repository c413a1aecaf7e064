"""The bilinear affine resampling runs on grid_sample for Keras's reflect / nearest / constant
fill modes; the per-node gather path (kept for wrap, nearest interpolation and other dtypes)
is the reference it must agree with."""

import pytest
import torch

from kerasish.layers.preprocessing import base_augmentation as B


@pytest.mark.parametrize("fill_mode,fill_value", [("reflect", 0.0), ("nearest", 0.0), ("constant", 0.0), ("constant", 7.0)])
def test_grid_sample_path_equals_the_gather_path(monkeypatch, fill_mode, fill_value):
    g = torch.Generator().manual_seed(0)
    x = torch.rand(4, 3, 17, 23, generator=g) * 255
    angles = (torch.rand(4, generator=g) * 2 - 1) * 60
    m = B.rotation_matrix(angles, 17, 23)
    m[:, 2] += torch.tensor([-9.0, 3.5, 0.25, 30.0])  # shifts that read far outside, on both sides
    fast = B.affine_transform(x, m, "bilinear", fill_mode, fill_value)
    monkeypatch.setattr(B, "_GRID_DTYPES", ())  # force the gather path
    reference = B.affine_transform(x, m, "bilinear", fill_mode, fill_value)
    # the grid's [-1, 1] normalisation round trip costs a few float32 ulps of the coordinates
    torch.testing.assert_close(fast, reference, rtol=0, atol=255 * 1e-4)
    assert not torch.equal(fast, x)


def test_wrap_and_nearest_interpolation_take_the_gather_path(monkeypatch):
    calls = []
    monkeypatch.setattr(B, "_grid_affine", lambda *a: calls.append(a))
    x = torch.rand(2, 1, 5, 5)
    m = B.rotation_matrix(torch.tensor([10.0, -10.0]), 5, 5)
    B.affine_transform(x, m, "bilinear", "wrap")
    B.affine_transform(x, m, "nearest", "reflect")
    B.affine_transform(x.to(torch.bfloat16), m, "bilinear", "reflect")
    assert calls == []
