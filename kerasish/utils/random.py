"""Seeding every random number generator a fit touches."""

from __future__ import annotations

import random

import numpy as np
import torch


def set_random_seed(seed: int) -> None:
    """Seed Python's, numpy's and torch's generators (all devices), as
    ``keras.utils.set_random_seed`` does: a CPU ``fit`` then repeats exactly
    (initial weights, shuffling and dropout masks included)."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"set_random_seed: `seed` must be a non-negative int, got {seed!r}")
    seed = int(seed)
    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)
