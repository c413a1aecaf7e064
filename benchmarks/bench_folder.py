"""Images/s decoded, resized and batched from a folder of JPEGs:
kerasish.utils.image_dataset_from_directory vs torchvision ImageFolder +
DataLoader (PIL decode, same resize: bilinear, no antialias, float32 output),
same workers and batch size, interleaved rounds, medians. Two pipelines:

* plain: decode, resize, batch;
* augment: the Keras idiom
  ``ds.map(lambda x, y: (aug(x, training=True), y)).prefetch(AUTOTUNE)`` with
  ``aug = Sequential([RandomFlip("horizontal"), RandomRotation(0.1)])`` (run
  on whole batches in the loader's workers) against transforms.v2
  ``RandomHorizontalFlip`` + ``RandomRotation(36, BILINEAR)`` per image in
  the DataLoader's workers. The same work, except the fill: Keras rotates
  with ``fill_mode="reflect"`` by default, torchvision fills the corners with
  0 (``--fill constant`` makes kerasish compute the same).

    .venv/bin/python benchmarks/bench_folder.py [--images 2000] [--workers 4] [--rounds 5] [--pipeline both]
        [--fill reflect|constant]
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


def kerasish_pipelines(root, args):
    """{"plain": ..., "augment": ...} kerasish datasets over ``root``."""
    import kerasish as keras
    from kerasish.layers import RandomFlip, RandomRotation
    from kerasish.utils import AUTOTUNE, image_dataset_from_directory

    ds = image_dataset_from_directory(root, image_size=(args.size, args.size), batch_size=args.batch, seed=0,
                                      num_workers=args.workers, verbose=False)
    # fill_mode: Keras's default "reflect", or "constant" (zeros), what torchvision's rotation computes
    aug = keras.Sequential([RandomFlip("horizontal"), RandomRotation(0.1, fill_mode=args.fill)])
    return {"plain": ds, "augment": ds.map(lambda x, y: (aug(x, training=True), y)).prefetch(AUTOTUNE)}


def torchvision_pipelines(root, args):
    """The same two pipelines written by hand: ImageFolder + transforms.v2 + DataLoader."""
    import torchvision
    from torchvision.transforms import v2

    decode = [v2.PILToTensor(), v2.ToDtype(torch.float32), v2.Resize((args.size, args.size), antialias=False)]
    # RandomRotation(0.1) in Keras: a fraction of a full turn, +-36 degrees, bilinear
    augment = [v2.RandomHorizontalFlip(), v2.RandomRotation(36.0, interpolation=v2.InterpolationMode.BILINEAR)]
    out = {}
    for name, tfs in (("plain", decode), ("augment", decode + augment)):
        folder = torchvision.datasets.ImageFolder(root, transform=v2.Compose(tfs))
        out[name] = torch.utils.data.DataLoader(folder, batch_size=args.batch, shuffle=True, num_workers=args.workers,
                                                persistent_workers=args.workers > 0)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--images", type=int, default=2000)
    ap.add_argument("--workers", type=int, default=min(4, os.cpu_count()))
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--pipeline", choices=("plain", "augment", "both"), default="both")
    ap.add_argument("--fill", choices=("reflect", "constant"), default="reflect",
                    help="kerasish RandomRotation's fill_mode (torchvision fills with zeros: 'constant' is the same computation)")
    args = ap.parse_args()
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    names = ("plain", "augment") if args.pipeline == "both" else (args.pipeline,)

    with tempfile.TemporaryDirectory() as root:
        make_folder(root, args.images)
        ours, ref = kerasish_pipelines(root, args), torchvision_pipelines(root, args)
        for name in names:
            run(ours[name]), run(ref[name])  # warm up workers and the page cache
        speeds = {(who, name): [] for who in ("ours", "ref") for name in names}
        for _ in range(args.rounds):  # interleaved: load drifts hit both sides alike
            for name in names:
                speeds["ours", name].append(run(ours[name]))
                speeds["ref", name].append(run(ref[name]))
        print(f"{args.images} JPEGs 256x256 -> {args.size}x{args.size}, batch {args.batch}, {args.workers} workers, "
              f"{torch.get_num_threads()} threads, medians of {args.rounds} rounds")
        for name in names:
            ma, mb = statistics.median(speeds["ours", name]), statistics.median(speeds["ref", name])
            if name == "plain":
                print("plain (decode, resize, batch):")
                print(f"  kerasish image_dataset_from_directory:          {ma:9.1f} images/s")
                print(f"  torchvision ImageFolder + DataLoader:           {mb:9.1f} images/s")
            else:
                print(f"augment (+ horizontal flip, rotation 0.1; kerasish fill_mode={args.fill!r}, torchvision zeros):")
                print(f"  kerasish .map(Sequential(RandomFlip, RandomRotation)).prefetch: {ma:9.1f} images/s")
                print(f"  torchvision transforms.v2 in the DataLoader:                    {mb:9.1f} images/s")
            print(f"  ratio: {ma / mb:.2f}x")


if __name__ == "__main__":
    main()
