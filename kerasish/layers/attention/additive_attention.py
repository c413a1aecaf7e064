"""AdditiveAttention: Bahdanau-style attention (Keras's ``keras.layers.AdditiveAttention``)."""

from __future__ import annotations

import torch

from kerasish.layers.attention.attention import Attention


class AdditiveAttention(Attention):
    """Additive attention: scores ``sum(scale * tanh(query + key), -1)`` (Bahdanau style).

    Args:
        use_scale: learn a ``scale`` vector of size ``dim`` (glorot-uniform initialised).
        dropout: dropout rate on the attention distribution (training only).

    Call arguments and output: as :class:`Attention`.

    Example:
        >>> import numpy as np
        >>> from kerasish.layers import AdditiveAttention
        >>> tuple(AdditiveAttention()([np.ones((2, 3, 4)), np.ones((2, 5, 4))]).shape)
        (2, 3, 4)
    """

    def __init__(self, use_scale=True, dropout=0.0, **kwargs):
        super().__init__(use_scale=use_scale, dropout=dropout, **kwargs)

    def build(self, input_shape):
        self._validate_inputs(input_shape)
        dim = input_shape[0][-1]
        if self.use_scale:
            self.scale = self.add_weight(name="scale", shape=(dim,), initializer="glorot_uniform")
        else:
            self.scale = None
        self.concat_score_weight = None
        self.built = True

    def _calculate_scores(self, query, key):
        summed = torch.tanh(query.unsqueeze(-2) + key.unsqueeze(-3))
        if self.scale is not None:
            summed = self.scale.value * summed
        return summed.sum(-1)

    def get_config(self):
        config = super().get_config()
        del config["score_mode"]
        return config
