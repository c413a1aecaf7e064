"""Keras 3's newer special-purpose losses: ``Circle`` (metric learning on
embeddings), ``CTC`` (connectionist temporal classification for unaligned
sequences) and ``CategoricalGeneralizedCrossEntropy`` (noisy labels), with
their functions ``circle``, ``ctc`` and ``categorical_generalized_cross_entropy``.

Functions return per-sample losses; the classes add ``sample_weight`` and the
``reduction`` as every :class:`~kerasish.losses.Loss` does.

Example::

    import kerasish as keras
    loss = keras.losses.CTC()
    labels = torch.tensor([[1, 2, 0], [3, 0, 0]])     # 0 pads (and is the blank)
    logits = torch.randn(2, 6, 4)                     # (batch, time, classes)
    loss(labels, logits)                              # 0-d tensor
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from kerasish.losses.loss import Loss, set_mask, to_tensor
from kerasish.losses.losses import LossFunctionWrapper
from kerasish.ops.ctc import ctc_loss

__all__ = [
    "circle",
    "ctc",
    "categorical_generalized_cross_entropy",
    "Circle",
    "CTC",
    "CategoricalGeneralizedCrossEntropy",
]


def _float(x):
    x = to_tensor(x)
    return x if x.is_floating_point() else x.to(torch.float32)


def _pos_neg_masks(query_labels, key_labels, remove_diagonal=True):
    """``(positive, negative)`` boolean ``(Q, K)`` masks: same label / other label."""
    q = query_labels.reshape(-1, 1)
    k = key_labels.reshape(-1, 1)
    positive = q == k.T
    negative = ~positive
    if remove_diagonal:
        eye = torch.eye(q.shape[0], k.shape[0], dtype=torch.bool, device=q.device)
        positive = positive & ~eye
    return positive, negative


def circle(y_true, y_pred, ref_labels=None, ref_embeddings=None, remove_diagonal=True, gamma=80, margin=0.4):
    """Circle loss (Sun et al., 2020) of L2-normalised embeddings.

    Args:
        y_true: ``(batch,)`` integer labels of the embeddings.
        y_pred: ``(batch, dim)`` embeddings, expected L2-normalised.
        ref_labels, ref_embeddings: the reference set to compare with
            (default: the batch itself).
        remove_diagonal: leave each embedding's pair with itself out of the
            positives (True).
        gamma: the scale factor (80).
        margin: the relaxation margin (0.4).

    Returns ``(batch,)`` losses; entries that are 0 carry a mask so that
    the averaging reductions average over the positive ones (as Keras).

    Example::

        emb = torch.nn.functional.normalize(torch.randn(6, 8), dim=-1)
        circle(torch.tensor([0, 0, 1, 1, 2, 2]), emb)   # shape (6,)
    """
    y_pred = _float(y_pred)
    y_true = to_tensor(y_true, device=y_pred.device).to(torch.int32)
    if y_pred.dim() != 2:
        raise ValueError(f"circle: `y_pred` must be (batch, embedding_dim) embeddings. Received: y_pred.shape={tuple(y_pred.shape)}")
    ref_embeddings = y_pred if ref_embeddings is None else to_tensor(ref_embeddings, dtype=y_pred.dtype, device=y_pred.device)
    ref_labels = y_true if ref_labels is None else to_tensor(ref_labels, device=y_pred.device).to(torch.int32)
    distances = torch.clamp(1 - y_pred @ ref_embeddings.T, min=0.0)
    positive, negative = _pos_neg_masks(y_true, ref_labels, remove_diagonal)
    pos_f = positive.to(distances.dtype)
    neg_f = negative.to(distances.dtype)
    # Self-paced weights: pairs far from their optimum weigh more.
    pos_weights = torch.clamp((margin + distances) * pos_f, min=0.0)
    neg_weights = torch.clamp((1 + margin - distances) * neg_f, min=0.0)
    pos_scaled = -gamma * pos_weights * (margin - distances)
    neg_scaled = gamma * neg_weights * ((1 - margin) - distances)
    minus_inf = torch.tensor(float("-inf"), dtype=distances.dtype, device=distances.device)
    p_loss = torch.logsumexp(torch.where(positive, pos_scaled, minus_inf), dim=1)
    n_loss = torch.logsumexp(torch.where(negative, neg_scaled, minus_inf), dim=1)
    loss = F.softplus(p_loss + n_loss)
    set_mask(loss, loss > 0)
    return loss


def ctc(y_true, y_pred):
    """CTC loss with Keras's conventions, on ``torch.nn.functional.ctc_loss``.

    Args:
        y_true: ``(batch, max_label_length)`` integer labels, padded with 0.
            Class 0 is also the CTC blank, so real labels are ``1..C-1``; a
            label's length is its number of non-zero entries.
        y_pred: ``(batch, time, C)`` logits (a log-softmax is applied);
            every sequence uses all ``time`` steps.

    Returns ``(batch,)`` negative log-likelihoods (not divided by the label
    lengths, as Keras).

    Example::

        ctc(torch.tensor([[1, 2, 0]]), torch.randn(1, 5, 3))   # shape (1,)
    """
    y_pred = _float(y_pred)
    y_true = to_tensor(y_true, device=y_pred.device)
    if y_true.dim() != 2:
        raise ValueError(
            "ctc: targets `y_true` are expected to be a tensor of shape `(batch_size, max_length)` in integer format. "
            f"Received: y_true.shape={tuple(y_true.shape)}"
        )
    if y_pred.dim() != 3:
        raise ValueError(
            "ctc: logits `y_pred` are expected to be a tensor of shape `(batch_size, max_length, num_classes)`. "
            f"Received: y_pred.shape={tuple(y_pred.shape)}"
        )
    if y_true.shape[0] != y_pred.shape[0]:
        raise ValueError(
            f"ctc: `y_true` and `y_pred` must have the same batch size. Received: y_true.shape={tuple(y_true.shape)}, "
            f"y_pred.shape={tuple(y_pred.shape)}"
        )
    targets = y_true.to(torch.int64)
    batch, steps = y_pred.shape[0], y_pred.shape[1]
    label_length = (targets != 0).sum(dim=-1)
    input_length = torch.full((batch,), steps, dtype=torch.int64, device=y_pred.device)
    return ctc_loss(targets, y_pred, label_length, input_length, mask_index=0)  # as Keras's loss calls ops.ctc_loss


def categorical_generalized_cross_entropy(y_true, y_pred, q):
    """Generalized cross-entropy (Zhang & Sabuncu, 2018): ``(1 - p_true ** q) / q``.

    Robust to noisy labels: ``q -> 0`` approaches cross-entropy, ``q = 1``
    is the mean absolute error.

    Args:
        y_true: ``(batch,)`` integer class ids.
        y_pred: ``(batch, classes)`` probabilities.
        q: in ``(0, 1)``.

    Example::

        categorical_generalized_cross_entropy(torch.tensor([0, 1]), torch.tensor([[.7, .3], [.2, .8]]), q=0.5)
    """
    y_pred = _float(y_pred)
    labels = to_tensor(y_true, device=y_pred.device).to(torch.int64)
    one_hot = F.one_hot(labels, num_classes=y_pred.shape[-1]).to(y_pred.dtype)
    p = (y_pred * one_hot).sum(dim=-1)
    return (1 - torch.pow(p, q)) / q


class Circle(LossFunctionWrapper):
    """:func:`circle` as a loss for metric learning.

    Args: gamma (80.0), margin (0.4), remove_diagonal (True), reduction,
    name (``"circle"``), dtype.

    ``y_true`` is ``(batch,)`` integer labels, ``y_pred`` ``(batch, dim)``
    L2-normalised embeddings (e.g. after ``UnitNormalization``).

    Example::

        loss = Circle()
        loss(torch.tensor([0, 0, 1, 1]), torch.nn.functional.normalize(torch.randn(4, 8), dim=-1))
    """

    _keeps_integer_labels = True

    def __init__(self, gamma=80.0, margin=0.4, remove_diagonal=True, reduction="sum_over_batch_size", name="circle", dtype=None):
        super().__init__(circle, name=name, reduction=reduction, dtype=dtype, gamma=gamma, margin=margin, remove_diagonal=remove_diagonal)
        self.gamma = gamma
        self.margin = margin
        self.remove_diagonal = remove_diagonal

    def get_config(self):
        config = Loss.get_config(self)
        config.update({"gamma": self.gamma, "margin": self.margin, "remove_diagonal": self.remove_diagonal})
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class CTC(LossFunctionWrapper):
    """:func:`ctc` as a loss: labels ``(batch, max_label_length)`` padded
    with 0 (the blank), logits ``(batch, time, classes)``.

    Args: reduction, name (``"ctc"``), dtype.

    Example::

        loss = CTC()
        loss(torch.tensor([[1, 2, 0], [3, 0, 0]]), torch.randn(2, 6, 4))
    """

    _keeps_integer_labels = True

    def __init__(self, reduction="sum_over_batch_size", name="ctc", dtype=None):
        super().__init__(ctc, name=name, reduction=reduction, dtype=dtype)

    def get_config(self):
        return Loss.get_config(self)

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class CategoricalGeneralizedCrossEntropy(LossFunctionWrapper):
    """:func:`categorical_generalized_cross_entropy` as a loss.

    Args:
        q: in ``(0, 1)`` (0.5): towards 0 behaves as cross-entropy, towards 1
            as mean absolute error (more robust to wrong labels).
        reduction, name (``"categorical_generalized_cross_entropy"``), dtype.

    Example::

        loss = CategoricalGeneralizedCrossEntropy(q=0.7)
        loss(torch.tensor([0, 1]), torch.tensor([[.7, .3], [.2, .8]]))
    """

    _keeps_integer_labels = True

    def __init__(self, q=0.5, reduction="sum_over_batch_size", name="categorical_generalized_cross_entropy", dtype=None):
        if not 0 < q < 1:
            raise ValueError(f"CategoricalGeneralizedCrossEntropy: `q` must be in the interval (0, 1). Received: q={q}")
        super().__init__(categorical_generalized_cross_entropy, name=name, reduction=reduction, dtype=dtype, q=q)
        self.q = q

    def get_config(self):
        config = Loss.get_config(self)
        config["q"] = self.q
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)
