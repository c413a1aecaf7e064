"""Splitting batches across processes, and putting results back in order.

The rule everywhere: a global batch of ``B`` samples (what one process would
train on) is cut into ``world_size`` consecutive pieces, as
``torch.tensor_split`` cuts it, and process ``r`` takes piece ``r``. Together
the processes see exactly the single-process batch, so a data-parallel fit with
the same shuffle seed follows the single-process one; ``predict`` gathers the
pieces and interleaves them back into the original order.
"""

from __future__ import annotations

import torch

__all__ = ["ShardedBatchSampler", "check_batch_size", "gather_in_order", "piece_bounds"]


def piece_bounds(n: int, world: int, rank: int) -> tuple[int, int]:
    """``[lo, hi)`` of process ``rank``'s piece of ``n`` samples (the first
    ``n % world`` pieces hold one more, as ``torch.tensor_split``)."""
    q, r = divmod(int(n), int(world))
    lo = rank * q + min(rank, r)
    return lo, lo + q + (1 if rank < r else 0)


def check_batch_size(batch_size, world: int, what="batch_size"):
    """The global batch must split evenly over the processes, as in Keras."""
    if batch_size is not None and int(batch_size) % world:
        raise ValueError(f"`{what}`={batch_size} is not divisible by the number of processes ({world}): with data parallelism "
                         f"`{what}` is the global batch, split evenly across processes. Use a multiple of {world}.")


class ShardedBatchSampler(torch.utils.data.Sampler):
    """Index lists of this process's piece of each global batch.

    Every process draws the same permutation (the generator is seeded alike
    everywhere), so the pieces never overlap.
    """

    def __init__(self, n, batch_size, shuffle, rank, world, seed=0, drop_last=False):
        self.n, self.batch_size, self.shuffle = int(n), int(batch_size), bool(shuffle)
        self.rank, self.world, self.seed, self.drop_last = rank, world, int(seed), bool(drop_last)
        self.epoch = 0

    def __len__(self):
        return self.n // self.batch_size if self.drop_last else -(-self.n // self.batch_size)

    def global_size(self, i: int) -> int:
        return min(self.batch_size, self.n - i * self.batch_size)

    def __iter__(self):
        if self.shuffle:
            g = torch.Generator()
            g.manual_seed((self.seed * 1000003 + self.epoch) % (2**63 - 1))
            order = torch.randperm(self.n, generator=g).tolist()
        else:
            order = list(range(self.n))
        self.epoch += 1
        for i in range(len(self)):
            batch = order[i * self.batch_size:(i + 1) * self.batch_size]
            lo, hi = piece_bounds(len(batch), self.world, self.rank)
            # A batch with fewer samples than processes leaves some with none:
            # they load one sample, which the data adapter drops again (a
            # DataLoader cannot collate an empty list).
            yield batch[lo:hi] if hi > lo else batch[:1]


def gather_in_order(dp, chunks: list[torch.Tensor], sizes: list[int]) -> torch.Tensor:
    """Every process's predictions for one output, in the data's order.

    ``chunks``: this process's outputs, one per batch; ``sizes``: their
    lengths. Piece ``r`` of batch ``b`` came from process ``r``.
    """
    local = torch.cat(chunks) if chunks else torch.empty(0)
    all_sizes = dp.all_gather(torch.tensor(sizes, dtype=torch.int64), what="gathering predictions")
    counts = {len(s) for s in all_sizes}
    if len(counts) != 1:
        raise ValueError(f"predict: the processes saw different numbers of batches ({[len(s) for s in all_sizes]}); "
                         "each must read the same data.")
    parts = dp.all_gather(local, what="gathering predictions")
    offsets = [0] * len(parts)
    pieces = []
    for b in range(len(sizes)):
        for r, (part, s) in enumerate(zip(parts, all_sizes)):
            k = int(s[b])
            pieces.append(part[offsets[r]:offsets[r] + k])
            offsets[r] += k
    return torch.cat(pieces)
