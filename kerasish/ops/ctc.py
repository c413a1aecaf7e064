"""Connectionist temporal classification of ``keras.ops``: ``ctc_loss`` and
``ctc_decode`` (greedy and beam search) on torch tensors.

As Keras, ``output``/``inputs`` are unnormalised logits ``(batch, time,
classes)`` and ``mask_index`` is the blank class.

Example:
    >>> import torch
    >>> from kerasish.ops.ctc import ctc_decode, ctc_loss
    >>> logits = torch.log(torch.tensor([[[0.1, 0.8, 0.1], [0.8, 0.1, 0.1], [0.1, 0.1, 0.8]]]))
    >>> paths, scores = ctc_decode(logits, [3])
    >>> paths.tolist()
    [[[1, 2, -1]]]
    >>> ctc_loss([[1, 2]], logits, [2], [3]).shape
    torch.Size([1])
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from kerasish.ops.numpy import _tt

__all__ = ["ctc_decode", "ctc_loss"]

_PAD = -1  # marks an empty slot of a decoded path, and the blank in the output
# Row order of the beam search's dedup follows a polynomial hash of each path,
# as Keras's torch backend does, so exact score ties resolve to the same paths.
_HASH_BASE = 2654435769


def _float_logits(x):
    """float32 logits: Keras's ``result_type(x.dtype, "float32")`` is float32 for every input dtype, float64 too."""
    return x.to(torch.float32)


def _rank(fn, name, x, rank, what):
    if x.ndim != rank:
        raise ValueError(f"{fn}: `{name}` must be {what} ({rank}-D), got shape {tuple(x.shape)}")


def _same_batch(fn, name1, x1, name2, x2):
    if x1.shape[0] != x2.shape[0]:
        raise ValueError(
            f"{fn}: `{name1}` and `{name2}` must have the same batch size, got shapes "
            f"{tuple(x1.shape)} and {tuple(x2.shape)}"
        )


def _integer(fn, name, x):
    if x.is_floating_point() or x.is_complex() or x.dtype == torch.bool:
        raise TypeError(f"{fn}: `{name}` must hold integers, got {x.dtype}")
    return x.long()


def ctc_loss(target, output, target_length, output_length, mask_index=0):
    """Per-sample CTC negative log-likelihood.

    Args:
        target: int ``(batch, max_label_length)`` labels, padded past ``target_length``.
        output: logits ``(batch, time, classes)``; a log-softmax is applied.
        target_length: int ``(batch,)`` label lengths.
        output_length: int ``(batch,)`` valid time steps of ``output``.
        mask_index: the blank class.

    Returns:
        ``(batch,)`` float32 losses (float32 for any ``output`` dtype, as
        Keras); ``inf`` where no alignment exists.

    Example:
        >>> loss = ctc_loss([[1]], [[[0.0, 0.0], [0.0, 0.0]]], [1], [2])
        >>> round(float(loss[0]), 4)  # 3 of the 4 two-step paths decode to [1]
        0.2877
    """
    target, output = _tt(target), _tt(output)
    target_length, output_length = _tt(target_length), _tt(output_length)
    _rank("ctc_loss", "target", target, 2, "(batch, max_label_length)")
    _rank("ctc_loss", "output", output, 3, "(batch, time, classes)")
    _rank("ctc_loss", "target_length", target_length, 1, "(batch,)")
    _rank("ctc_loss", "output_length", output_length, 1, "(batch,)")
    _same_batch("ctc_loss", "target", target, "output", output)
    _same_batch("ctc_loss", "target_length", target_length, "target", target)
    _same_batch("ctc_loss", "output_length", output_length, "output", output)
    # Labels and lengths join the logits' device (lists and numpy arrive on the CPU).
    dev = output.device
    target = _integer("ctc_loss", "target", target).to(dev)
    target_length = _integer("ctc_loss", "target_length", target_length).to(dev)
    output_length = _integer("ctc_loss", "output_length", output_length).to(dev)
    output = _float_logits(output)
    log_probs = F.log_softmax(output.transpose(0, 1), dim=-1)  # F.ctc_loss wants (time, batch, classes)
    try:
        return F.ctc_loss(log_probs, target, output_length, target_length, blank=mask_index, reduction="none")
    except RuntimeError as e:
        raise ValueError(
            f"ctc_loss: invalid lengths or labels for target {tuple(target.shape)} and output "
            f"{tuple(output.shape)} with mask_index={mask_index}: {e}"
        ) from None


def _greedy(logits, lengths, merge_repeated, blank):
    batch, steps, _ = logits.shape
    scores, best = logits.max(dim=-1)
    best = best.to(torch.int32)
    beyond = torch.arange(steps, device=logits.device) >= lengths[:, None]
    best = torch.where(beyond, blank, best)
    scores = torch.where(beyond, torch.zeros((), dtype=scores.dtype, device=scores.device), scores)
    if merge_repeated:
        repeat = F.pad(best[:, 1:] == best[:, :-1], (1, 0))
        best = torch.where(repeat, blank, best)
    dropped = best == blank
    # A stable sort on the drop flag packs the kept labels to the front, in order.
    order = torch.argsort(dropped.to(torch.int8), dim=-1, stable=True)
    paths = torch.where(dropped, _PAD, best).gather(-1, order)
    return paths.unsqueeze(0), -scores.sum(dim=1, keepdim=True)


def _dedup(paths, size):
    """Unique rows of ``paths`` in hash order, padded to ``size`` rows of ``_PAD``, and each row's bucket."""
    n, steps = paths.shape
    powers = torch.full((steps,), _HASH_BASE, dtype=torch.int64, device=paths.device)
    powers[0] = 1
    powers = torch.cumprod(powers, 0)  # int64 wrap-around is fine: only a deterministic order is needed
    keys = ((paths.to(torch.int64) + 1) * powers).sum(1)
    order = torch.argsort(keys, stable=True)
    rows, keys = paths[order], keys[order]
    # Equal rows have equal keys, so after the sort duplicates sit next to each other.
    repeat = (keys[1:] == keys[:-1]) & (rows[1:] == rows[:-1]).all(1)
    first = torch.cat([torch.ones(1, dtype=torch.bool, device=paths.device), ~repeat])
    bucket = torch.empty(n, dtype=torch.int64, device=paths.device)
    bucket[order] = torch.cumsum(first.to(torch.int64), 0) - 1
    unique = rows[first]
    fill = torch.full((size - unique.shape[0], steps), _PAD, dtype=paths.dtype, device=paths.device)
    return torch.cat([unique, fill]), bucket


def _logsumexp_into(bucket, scores, size):
    """log of the summed exp(scores) per bucket (empty buckets: -inf).

    One shared shift (the overall max), as Keras does, so far-below-max
    scores underflow to -inf the same way.
    """
    top = scores.max()
    total = torch.zeros(size, dtype=scores.dtype, device=scores.device)
    total.scatter_add_(0, bucket, torch.exp(scores - top))
    return torch.log(total) + top


def _beam_one(x, steps_used, beam_width, top_paths, blank):
    """Prefix beam search over one sequence's log-probs ``x`` ``(time, classes)``."""
    steps, classes = x.shape
    dev = x.device
    size = 2 * classes * beam_width
    neg_inf = torch.tensor(float("-inf"), dtype=x.dtype, device=dev)
    # Rows 0..W-1 track a path's probability ending in a label, rows W..2W-1 ending in blank.
    paths = torch.full((2 * beam_width, steps), _PAD, dtype=torch.int32, device=dev)
    scores = torch.full((2 * beam_width,), float("-inf"), dtype=x.dtype, device=dev)
    start = torch.argsort(x[0], stable=True)[-min(classes, beam_width):]
    paths[: start.shape[0], 0] = torch.where(start == blank, _PAD, start.to(torch.int32))
    scores[: start.shape[0]] = x[0, start]
    ends_blank = paths[:, 0] == _PAD
    labels = torch.arange(classes, dtype=torch.int32, device=dev)
    labels[blank] = _PAD
    for t in range(1, steps_used):
        # Extend every beam by every class (row-major: beam, then class).
        rows = paths.shape[0]
        fill = (paths != _PAD).sum(1)
        tail = paths.gather(1, (fill - 1).clamp(min=0)[:, None]).squeeze(1)
        tail = torch.where(fill == 0, _PAD, tail)
        cls = labels.repeat(rows)
        repeat = (~ends_blank).repeat_interleave(classes) & (tail.repeat_interleave(classes) == cls)
        new = paths.repeat_interleave(classes, dim=0)
        idx = torch.arange(rows * classes, device=dev)
        new[idx, fill.repeat_interleave(classes)] = torch.where(repeat, _PAD, cls)
        new_scores = scores.repeat_interleave(classes) + x[t].repeat(rows)
        new_blank = cls == _PAD
        # Merge equal prefixes per track and keep the best beam_width prefixes.
        unique, bucket = _dedup(new, size)
        emit = _logsumexp_into(bucket, torch.where(new_blank, neg_inf, new_scores), size)
        blanks = _logsumexp_into(bucket, torch.where(new_blank, new_scores, neg_inf), size)
        keep = torch.argsort(torch.logaddexp(emit, blanks), stable=True)[-beam_width:]
        paths = unique[keep].repeat(2, 1)
        scores = torch.cat([emit[keep], blanks[keep]])
        ends_blank = torch.arange(2 * beam_width, device=dev) >= beam_width
    unique, bucket = _dedup(paths, size)
    total = _logsumexp_into(bucket, scores, size)
    best = torch.argsort(total, stable=True)[-top_paths:].flip(0)
    return unique[best], total[best]


def _beam_search(logits, lengths, beam_width, top_paths, blank):
    batch, steps, classes = logits.shape
    # Keras's search runs on reversed class order; doing the same makes exact ties break identically.
    x = torch.flip(F.log_softmax(logits, dim=-1), dims=[2])
    blank = classes - 1 - blank
    used = lengths.tolist()  # the loop over time runs on the host
    if any(n > steps for n in used):
        raise ValueError(f"ctc_decode: `sequence_lengths` {used} exceed the {steps} time steps of `inputs`")
    found = [_beam_one(x[b], int(used[b]), beam_width, top_paths, blank) for b in range(batch)]
    paths = torch.stack([p for p, _ in found])
    scores = torch.stack([s for _, s in found])
    paths = torch.where(paths == _PAD, _PAD, classes - 1 - paths)
    return paths.permute(1, 0, 2), scores


def ctc_decode(inputs, sequence_lengths, strategy="greedy", beam_width=100, top_paths=1, merge_repeated=True,
               mask_index=0):
    """Decode CTC logits into label sequences.

    Args:
        inputs: logits ``(batch, time, classes)`` (not softmax-normalised).
        sequence_lengths: int ``(batch,)`` valid time steps per sample.
        strategy: ``"greedy"`` (best class per step) or ``"beam_search"``.
        beam_width: beams kept per step (beam search).
        top_paths: paths returned per sample (beam search; greedy returns 1).
        merge_repeated: greedy only: collapse repeated labels (beam search
            always does, as in Keras).
        mask_index: the blank class; None means the last class.

    Returns:
        ``(paths, scores)``: int32 ``paths`` ``(top_paths, batch, time)`` with
        labels packed to the front and ``-1`` after; ``scores`` ``(batch,
        top_paths)`` float32 (for any ``inputs`` dtype, as Keras): for greedy,
        minus the sum of the chosen logits; for beam search, each path's log
        probability.

    Example:
        >>> logits = [[[0.0, 2.0, 0.0], [0.0, 2.0, 0.0], [0.0, 0.0, 2.0]]]
        >>> ctc_decode(logits, [3])[0].tolist()
        [[[1, 2, -1]]]
        >>> ctc_decode(logits, [3], merge_repeated=False)[0].tolist()
        [[[1, 1, 2]]]
        >>> ctc_decode(logits, [3], strategy="beam_search", top_paths=2)[0].tolist()
        [[[1, 2, -1]], [[1, -1, -1]]]
    """
    inputs, lengths = _tt(inputs), _tt(sequence_lengths)
    _rank("ctc_decode", "inputs", inputs, 3, "(batch, time, classes)")
    _rank("ctc_decode", "sequence_lengths", lengths, 1, "(batch,)")
    _same_batch("ctc_decode", "inputs", inputs, "sequence_lengths", lengths)
    lengths = _integer("ctc_decode", "sequence_lengths", lengths).to(inputs.device)
    inputs = _float_logits(inputs)
    classes = inputs.shape[-1]
    blank = classes - 1 if mask_index is None else mask_index
    if not -classes <= blank < classes:
        raise ValueError(f"ctc_decode: `mask_index`={mask_index} is out of range for {classes} classes")
    blank %= classes
    if strategy == "greedy":
        return _greedy(inputs, lengths, merge_repeated, blank)
    if strategy == "beam_search":
        for name, value in (("beam_width", beam_width), ("top_paths", top_paths)):
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ValueError(f"ctc_decode: `{name}` must be a positive integer, got {name}={value!r}")
        return _beam_search(inputs, lengths, beam_width, top_paths, blank)
    raise ValueError(f'ctc_decode: `strategy` must be "greedy" or "beam_search", got strategy={strategy!r}')
