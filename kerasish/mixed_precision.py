"""``kerasish.mixed_precision``: Keras-style dtype policies on torch.autocast.

``set_global_policy("mixed_float16")`` makes ``fit`` / ``evaluate`` /
``predict`` run the forward pass under ``torch.autocast`` in float16 with a
gradient scaler (on CUDA); ``"mixed_bfloat16"`` uses bfloat16 and needs no
scaler. Weights stay float32, as in Keras.
"""

from __future__ import annotations

import torch

_POLICIES = {
    "float32": (torch.float32, None),
    "mixed_float16": (torch.float32, torch.float16),
    "mixed_bfloat16": (torch.float32, torch.bfloat16),
}


class DTypePolicy:
    """A dtype policy: ``variable_dtype`` for weights, ``compute_dtype`` for the math."""

    def __init__(self, name: str = "float32"):
        if name not in _POLICIES:
            raise ValueError(f"Unknown dtype policy {name!r}; choose one of {sorted(_POLICIES)}.")
        self.name = name
        variable, compute = _POLICIES[name]
        self._autocast_dtype = compute
        self.variable_dtype = str(variable).replace("torch.", "")
        self.compute_dtype = str(compute or variable).replace("torch.", "")

    @property
    def autocast_dtype(self):
        return self._autocast_dtype

    def __repr__(self):
        return f'<DTypePolicy "{self.name}">'

    def get_config(self):
        return {"name": self.name}


Policy = DTypePolicy
_global_policy = DTypePolicy("float32")


def set_global_policy(policy) -> None:
    """Set the policy ``fit`` / ``evaluate`` / ``predict`` use: a name or a DTypePolicy."""
    global _global_policy
    _global_policy = policy if isinstance(policy, DTypePolicy) else DTypePolicy(policy)


def global_policy() -> DTypePolicy:
    return _global_policy


def dtype_policy() -> DTypePolicy:
    return _global_policy


__all__ = ["DTypePolicy", "Policy", "dtype_policy", "global_policy", "set_global_policy"]
