"""GlobalAveragePooling1D and GlobalMaxPooling1D: reduce the steps of sequences."""

from __future__ import annotations

import torch

from kerasish.layers.pooling.global_pooling_nd import BaseGlobalPoolingND


class BaseGlobalPooling1D(BaseGlobalPoolingND):
    """The 1-D global poolings: :class:`BaseGlobalPoolingND` over the steps."""

    rank = 1

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(data_format=data_format, keepdims=keepdims, **kwargs)
        # Sequences keep Keras's axis order inside a model (engine/layout.py).
        self._steps_axis = self._dims[0]


class GlobalAveragePooling1D(BaseGlobalPooling1D):
    """Average over the steps of sequences; masked steps left out.

    Args:
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        keepdims: keep the steps axis with size 1 (default False).

    Call arguments:
        inputs: a 3-D tensor.
        mask: optional ``(batch, steps)`` boolean tensor; only the steps where
            it is True are averaged (a sample with no True step gives NaN, as in Keras).

    Input shape: ``(batch, steps, features)`` (channels_last) or ``(batch, features, steps)``.
    Output shape: ``(batch, features)``, or ``(batch, 1, features)`` with
    ``keepdims=True`` (``(batch, features, 1)`` for channels_first). The output has no mask.

    Example:
        >>> import numpy as np
        >>> from kerasish.layers import GlobalAveragePooling1D
        >>> x = np.array([[[1.0], [3.0], [100.0]]])
        >>> GlobalAveragePooling1D()(x, mask=np.array([[True, True, False]])).tolist()
        [[2.0]]
    """

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(data_format=data_format, keepdims=keepdims, **kwargs)
        self.supports_masking = True

    def call(self, inputs, mask=None):
        return super().call(inputs, mask=mask)

    def native_call(self, inputs, training=False, mask=None):
        if mask is None:
            return torch.mean(inputs, dim=self._steps_axis, keepdim=self.keepdims)
        mask = torch.as_tensor(mask, device=inputs.device)
        batch, steps = inputs.shape[0], inputs.shape[self._steps_axis]
        if tuple(mask.shape) != (batch, steps):
            raise ValueError(
                f"Layer '{self.name}' (GlobalAveragePooling1D): `mask` must have shape (batch, steps) = {(batch, steps)}, "
                f"got {tuple(mask.shape)} for inputs of shape {tuple(inputs.shape)}."
            )
        keep = mask.to(torch.bool).unsqueeze(2 if self.data_format == "channels_last" else 1)
        total = torch.where(keep, inputs, 0).sum(dim=self._steps_axis, keepdim=self.keepdims)
        return total / keep.to(inputs.dtype).sum(dim=self._steps_axis, keepdim=self.keepdims)

    def compute_mask(self, inputs, mask=None):
        # the steps are gone: no mask goes further
        return None


class GlobalMaxPooling1D(BaseGlobalPooling1D):
    """Maximum over the steps of sequences.

    Args:
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        keepdims: keep the steps axis with size 1 (default False).

    Input shape: ``(batch, steps, features)`` (channels_last) or ``(batch, features, steps)``.
    Output shape: ``(batch, features)``, or ``(batch, 1, features)`` with
    ``keepdims=True`` (``(batch, features, 1)`` for channels_first).

    Example:
        >>> import numpy as np
        >>> from kerasish.layers import GlobalMaxPooling1D
        >>> GlobalMaxPooling1D()(np.arange(6.0).reshape(1, 3, 2)).tolist()
        [[4.0, 5.0]]
    """

    def native_call(self, inputs, training=False):
        return torch.amax(inputs, dim=self._steps_axis, keepdim=self.keepdims)


GlobalAvgPool1D = GlobalAveragePooling1D
GlobalMaxPool1D = GlobalMaxPooling1D
