"""Images/s decoded, resized and batched from a folder of JPEGs:
kerasish.utils.image_dataset_from_directory vs torchvision ImageFolder +
DataLoader (PIL decode, same resize: bilinear, no antialias, float32 output),
same workers and batch size, interleaved rounds, medians.

    .venv/bin/python benchmarks/bench_folder.py [--images 2000] [--workers 4] [--rounds 5]
"""

import argparse
import os
import statistics
import tempfile
import time
import warnings

import numpy as np
import torch
from PIL import Image


def make_folder(root, n, classes=5, size=256):
    rng = np.random.default_rng(0)
    base = (rng.random((size, size, 3)) * 255).astype("uint8")
    for i in range(n):
        d = os.path.join(root, f"class{i % classes}")
        os.makedirs(d, exist_ok=True)
        img = np.roll(base, i, axis=(0, 1))  # distinct, photo-sized JPEGs
        Image.fromarray(img).save(os.path.join(d, f"{i:05d}.jpg"), quality=90)


def run(loader):
    n = 0
    t = time.perf_counter()
    for x, y in loader:
        n += x.shape[0]
    return n / (time.perf_counter() - t)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--images", type=int, default=2000)
    ap.add_argument("--workers", type=int, default=min(4, os.cpu_count()))
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    import torchvision
    from torchvision.transforms import v2

    from kerasish.utils import image_dataset_from_directory

    with tempfile.TemporaryDirectory() as root:
        make_folder(root, args.images)
        ours = image_dataset_from_directory(root, image_size=(args.size, args.size), batch_size=args.batch, seed=0,
                                            num_workers=args.workers, verbose=False)
        tf = v2.Compose([v2.PILToTensor(), v2.ToDtype(torch.float32), v2.Resize((args.size, args.size), antialias=False)])
        folder = torchvision.datasets.ImageFolder(root, transform=tf)
        ref = torch.utils.data.DataLoader(folder, batch_size=args.batch, shuffle=True, num_workers=args.workers,
                                          persistent_workers=args.workers > 0)
        run(ours), run(ref)  # warm up workers and the page cache
        a, b = [], []
        for _ in range(args.rounds):
            a.append(run(ours))
            b.append(run(ref))
        ma, mb = statistics.median(a), statistics.median(b)
        print(f"{args.images} JPEGs 256x256 -> {args.size}x{args.size}, batch {args.batch}, {args.workers} workers, {torch.get_num_threads()} threads")
        print(f"kerasish image_dataset_from_directory: {ma:9.1f} images/s (median of {args.rounds})")
        print(f"torchvision ImageFolder + DataLoader:  {mb:9.1f} images/s")
        print(f"ratio: {ma / mb:.2f}x")


if __name__ == "__main__":
    main()
