#!/usr/bin/env python3
"""Figures of a drawing mode's faces for the crude-sketch benchmark (bench/crude_sketches.py):

    crude_sketch_eval.py BENCH_DIR FACES_DIR XDOG_DIR [--real REAL_DIR]

FACES_DIR holds NNNN_sS.png, the face for drawing NNNN with colouring seed S; XDOG_DIR their
XDoG lines (`facegan sketch --in FACES_DIR --out XDOG_DIR`). Prints one JSON line:
- ink_on_skin: share of dark pixels (luma below DARK, 96) where the drawing says skin (inside
  the face outline, clear of its stroke, below the fringe, away from eyes and mouth): ink left
  where a real face has skin (the issue's "face area");
- black_on_skin: the same share for near-black pixels (luma below BLACK, 50);
  black_on_skin_by_seed: that share per colouring seed (one dark-haired colouring can carry it);
- stroke_ink: how dark the drawn strokes inside the head (the face outline and all inside it)
  came out against the skin: (median luma of the skin - median luma under the strokes) / 255;
  high when the strokes are painted as lines (a real face has colour edges there, not lines);
- hair_vs_skin: distance (RGB, 0-441) between the mean colours of the hair area (above the
  fringe, inside the hair outline, clear of strokes) and the skin: small when the hair is left
  unfilled, skin-coloured;
- seed_spread: mean distance (RGB) between the mean face colours of two seeds of a drawing:
  how different the colourings are;
- chamfer: mean distance (pixels at 64 px) from each drawn stroke pixel to the nearest line of
  the face's XDoG: whether the face follows the strokes.
With --real, the same figures of real faces under the drawings' masks (face i takes mask
i mod count), as the reference the generated faces should be near.
"""

import argparse
import json
import os
import re

import numpy as np
from PIL import Image
from scipy.ndimage import distance_transform_edt

SIDE = 64
# Luma (0-255) below which a pixel counts as ink: the pad's strokes painted by pix2pix come out
# around 120 on skin around 225, real faces' pupils and lashes below 60.
DARK = 96
BLACK = 50


def load(path, mode="RGB"):
    return np.asarray(Image.open(path).convert(mode), dtype=np.float64)


def masks(bench, index):
    mask = lambda kind: load(os.path.join(bench, "masks", f"{index:04d}_{kind}.png"), "L") > 127
    return mask("skin"), mask("hair")


def head_mask(bench, index):
    return load(os.path.join(bench, "masks", f"{index:04d}_head.png"), "L") > 127


def strokes(bench, index):
    """The drawing at 64 px, averaged by blocks as the models read it: ink where below half."""
    img = Image.open(os.path.join(bench, "sketches", f"{index:04d}.png")).convert("L")
    small = np.asarray(img.resize((SIDE, SIDE), Image.BOX), dtype=np.float64)
    return small < 128


def luma_of(face):
    return face @ np.array([0.299, 0.587, 0.114])


def stroke_ink(face, skin, strokes_in_head):
    """(median skin luma - median luma under the strokes) / 255, or NaN without both."""
    if not skin.any() or not strokes_in_head.any():
        return np.nan
    luma = luma_of(face)
    return (np.median(luma[skin]) - np.median(luma[strokes_in_head])) / 255


def colour_figures(face, skin, hair):
    luma = luma_of(face)
    ink = (luma[skin] < DARK).mean() if skin.any() else np.nan
    black = (luma[skin] < BLACK).mean() if skin.any() else np.nan
    difference = (np.linalg.norm(face[hair].mean(axis=0) - face[skin].mean(axis=0))
                  if skin.any() and hair.any() else np.nan)
    return ink, black, difference


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("bench")
    parser.add_argument("faces")
    parser.add_argument("xdog")
    parser.add_argument("--real")
    args = parser.parse_args()
    count = len(os.listdir(os.path.join(args.bench, "sketches")))

    by_drawing = {}
    for name in sorted(os.listdir(args.faces)):
        m = re.fullmatch(r"(\d+)_s(\d+)\.png", name)
        if m:
            by_drawing.setdefault(int(m.group(1)), []).append(name)
    inks, blacks, differences, spreads, chamfers, stroke_inks = [], [], [], [], [], []
    blacks_by_seed = {}
    for index, names in sorted(by_drawing.items()):
        skin, hair = masks(args.bench, index)
        drawn = strokes(args.bench, index)
        in_head = drawn & head_mask(args.bench, index)
        means = []
        for name in names:
            face = load(os.path.join(args.faces, name))
            ink, black, difference = colour_figures(face, skin, hair)
            inks.append(ink)
            blacks.append(black)
            seed = int(re.fullmatch(r"\d+_s(\d+)\.png", name).group(1))
            blacks_by_seed.setdefault(seed, []).append(black)
            differences.append(difference)
            stroke_inks.append(stroke_ink(face, skin, in_head))
            means.append(face.reshape(-1, 3).mean(axis=0))
            lines = load(os.path.join(args.xdog, name), "L") < 128
            if drawn.any():
                distance = distance_transform_edt(~lines) if lines.any() else np.full(lines.shape, SIDE)
                chamfers.append(distance[drawn].mean())
        for a in range(len(means)):
            for b in range(a + 1, len(means)):
                spreads.append(np.linalg.norm(means[a] - means[b]))
    figures = {
        "faces": sum(len(v) for v in by_drawing.values()),
        "ink_on_skin": float(np.nanmean(inks)),
        "black_on_skin": float(np.nanmean(blacks)),
        "black_on_skin_by_seed": {f"s{seed}": round(float(np.nanmean(values)), 4)
                                  for seed, values in sorted(blacks_by_seed.items())},
        "stroke_ink": float(np.nanmean(stroke_inks)),
        "hair_vs_skin": float(np.nanmean(differences)),
        "seed_spread": float(np.mean(spreads)) if spreads else None,
        "chamfer": float(np.mean(chamfers)),
    }
    if args.real:
        inks, blacks, differences, stroke_inks = [], [], [], []
        files = sorted(f for f in os.listdir(args.real) if f.lower().endswith((".png", ".jpg")))
        for i, name in enumerate(files):
            face = np.asarray(Image.open(os.path.join(args.real, name)).convert("RGB").resize((SIDE, SIDE)), dtype=np.float64)
            index = i % count
            skin, hair = masks(args.bench, index)
            ink, black, difference = colour_figures(face, skin, hair)
            inks.append(ink)
            blacks.append(black)
            differences.append(difference)
            stroke_inks.append(stroke_ink(face, skin, strokes(args.bench, index) & head_mask(args.bench, index)))
        figures["real_ink_on_skin"] = float(np.nanmean(inks))
        figures["real_black_on_skin"] = float(np.nanmean(blacks))
        figures["real_stroke_ink"] = float(np.nanmean(stroke_inks))
        figures["real_hair_vs_skin"] = float(np.nanmean(differences))
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
