"""Generated "fruit" photographs for the offline demo: a few classes of drawn
fruit-like shapes, varied in position, size, colour and lighting, written as
JPEG / PNG files in one sub-folder per class (the layout
``image_dataset_from_directory`` reads)."""

from __future__ import annotations

import math
import os

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

# name -> (base RGB colour, shape drawer)
FRUITS = {
    "apple": ((200, 30, 35), "round"),
    "banana": ((235, 210, 50), "crescent"),
    "orange": ((245, 140, 20), "round_dimpled"),
    "lime": ((90, 190, 60), "oval"),
    "grape": ((110, 40, 140), "cluster"),
    "plum": ((80, 30, 90), "oval"),
}


def _jitter(colour, rng, amount=30):
    return tuple(int(np.clip(c + rng.integers(-amount, amount + 1), 0, 255)) for c in colour)


def _background(size, rng):
    # a lit table top: a linear gradient in a random direction and tint
    base = rng.integers(150, 235)
    tint = rng.integers(-20, 21, 3)
    angle = rng.uniform(0, 2 * math.pi)
    yy, xx = np.mgrid[0:size, 0:size] / size
    ramp = (np.cos(angle) * xx + np.sin(angle) * yy) * rng.uniform(20, 70)
    img = np.clip(base + ramp[..., None] + tint, 0, 255).astype("uint8")
    return Image.fromarray(img, "RGB")


def draw_fruit(kind: str, size: int, rng: np.random.Generator) -> Image.Image:
    """One image of ``kind`` (a key of :data:`FRUITS`), ``size`` x ``size`` RGB."""
    colour, shape = FRUITS[kind]
    img = _background(size, rng)
    draw = ImageDraw.Draw(img)
    r = size * rng.uniform(0.18, 0.32)
    cx, cy = size * rng.uniform(0.3, 0.7), size * rng.uniform(0.3, 0.7)
    fill = _jitter(colour, rng)
    if shape in ("round", "round_dimpled"):
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=fill)
        if shape == "round":  # a stem
            draw.line([cx, cy - r, cx + r * 0.2, cy - r * 1.3], fill=(90, 60, 20), width=max(2, size // 40))
        else:  # dimpled skin
            for _ in range(12):
                a, d = rng.uniform(0, 2 * math.pi), rng.uniform(0, r * 0.8)
                px, py = cx + d * math.cos(a), cy + d * math.sin(a)
                draw.ellipse([px - 1, py - 1, px + 1, py + 1], fill=_jitter(fill, rng, 15))
    elif shape == "oval":
        ry = r * rng.uniform(0.65, 0.8)
        draw.ellipse([cx - r, cy - ry, cx + r, cy + ry], fill=fill)
    elif shape == "crescent":
        box = [cx - r * 1.4, cy - r, cx + r * 1.4, cy + r * 1.2]
        draw.pieslice(box, 200, 340, fill=fill)
        draw.pieslice([box[0] + r * 0.3, box[1] + r * 0.45, box[2] - r * 0.3, box[3]], 200, 340, fill=img.getpixel((2, 2)))
    elif shape == "cluster":
        g = r * 0.32
        for row in range(4):
            for col in range(4 - row):
                px = cx + (col - (3 - row) / 2) * g * 1.9
                py = cy - r * 0.6 + row * g * 1.7
                draw.ellipse([px - g, py - g, px + g, py + g], fill=_jitter(fill, rng, 12))
    # lighting: a highlight and a global brightness change
    hx, hy = cx - r * 0.35, cy - r * 0.35
    draw.ellipse([hx - r * 0.15, hy - r * 0.15, hx + r * 0.15, hy + r * 0.15], fill=_jitter((250, 250, 250), rng, 5))
    img = img.filter(ImageFilter.GaussianBlur(radius=rng.uniform(0.0, 1.2)))
    arr = np.asarray(img).astype("float32") * rng.uniform(0.7, 1.15)
    return Image.fromarray(np.clip(arr, 0, 255).astype("uint8"), "RGB")


def write_folder(root, classes, per_class: int, size: int = 64, seed: int = 0, formats=("jpg", "png")) -> str:
    """Write ``per_class`` images of each class to ``root/<class>/...``; returns ``root``."""
    unknown = [c for c in classes if c not in FRUITS]
    if unknown:
        raise ValueError(f"Unknown fruit classes {unknown}; known: {sorted(FRUITS)}")
    rng = np.random.default_rng(seed)
    for kind in classes:
        folder = os.path.join(root, kind)
        os.makedirs(folder, exist_ok=True)
        for i in range(per_class):
            fmt = formats[i % len(formats)]
            draw_fruit(kind, size, rng).save(os.path.join(folder, f"{kind}_{i:04d}.{fmt}"), quality=92 if fmt == "jpg" else None)
    return str(root)
