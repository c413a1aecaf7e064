"""The ``kerasish`` command.

    kerasish demo [--out DIR] [--epochs N]         the whole workflow, offline, in minutes
    kerasish finetune DATA_DIR [--arch ...]         freeze / head / unfreeze / fine-tune recipe
    kerasish predict MODEL IMAGE_OR_DIR... [--top-k K]
    kerasish summary MODEL_FILE
"""

from __future__ import annotations

import argparse
import sys

from kerasish.cli import commands


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="kerasish", description="Keras idiom on native PyTorch.")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    d = sub.add_parser("demo", help="generate fruit images, train, save, fine-tune: the whole workflow offline")
    d.add_argument("--out", default="kerasish-demo", help="folder for the images and the model (default: ./kerasish-demo)")
    d.add_argument("--epochs", type=int, default=6, help="epochs of the first training (default 6)")
    d.add_argument("--per-class", type=int, default=120, help="images per class in each generated folder (default 120)")
    d.add_argument("--image-size", type=int, default=64, help="side of the square images (default 64)")
    d.add_argument("--seed", type=int, default=1337)

    f = sub.add_parser("finetune", help="fine-tune a pretrained backbone on a folder of images (one sub-folder per class)")
    f.add_argument("data_dir")
    f.add_argument("--arch", default="MobileNetV2", help="a kerasish.applications model (default MobileNetV2)")
    f.add_argument("--weights", default="imagenet", help='"imagenet", "none" or a weights file (default imagenet)')
    f.add_argument("--image-size", type=int, default=160)
    f.add_argument("--epochs", type=int, default=5, help="epochs for the new head (default 5)")
    f.add_argument("--fine-tune-epochs", type=int, default=3, help="epochs after unfreezing (default 3)")
    f.add_argument("--batch-size", type=int, default=32)
    f.add_argument("--out", default="finetuned.keras", help="model file to write (default finetuned.keras)")
    f.add_argument("--seed", type=int, default=1337)

    pr = sub.add_parser("predict", help="top-k classes for images with a saved model")
    pr.add_argument("model")
    pr.add_argument("images", nargs="+", help="image files or folders")
    pr.add_argument("--top-k", type=int, default=3)

    s = sub.add_parser("summary", help="print a saved model's summary")
    s.add_argument("model")
    return p


def main(argv=None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return getattr(commands, args.command)(args) or 0
    except (ValueError, OSError, TypeError, ImportError) as e:
        print(f"kerasish {args.command}: error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
