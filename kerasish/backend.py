"""``kerasish.backend``: the few backend helpers Keras scripts call.

kerasish has one backend, PyTorch, and one image layout for users,
channels_last.
"""

from kerasish.engine.naming import clear_session


def backend() -> str:
    """The name of the backend: always ``"torch"``."""
    return "torch"


def image_data_format() -> str:
    """The default image layout of layers: ``"channels_last"``, as in Keras."""
    return "channels_last"


def floatx() -> str:
    """The default float dtype: ``"float32"``."""
    return "float32"


def epsilon() -> float:
    """Keras's fuzz factor, 1e-7."""
    return 1e-7


__all__ = ["backend", "clear_session", "epsilon", "floatx", "image_data_format"]
