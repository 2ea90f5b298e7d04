#!/usr/bin/env python3
"""Procedural crude face drawings, like people make on the page's pad: a face circle, ellipse
or U, a fringe of zig-zags, scallops or spikes, side hair lines, round, dot or closed eyes, a
mouth arc. Written separately from the trainer's roughening (trainer/src/sketch/roughen.rs),
with other primitives and other code, so a metric on these drawings cannot reward the
roughening's own style.

    crude_sketches.py OUT_DIR [--count 500] [--seed 0]

Writes OUT_DIR/sketches/NNNN.png (256 px, the pad's side; black strokes on white, brush 4 to
10 px, the pad's default being 6) and OUT_DIR/masks/NNNN_skin.png, NNNN_hair.png (64 px, the
models' side): where a real face would be skin (inside the face outline, clear of its stroke,
below the fringe, away from eyes and mouth), where hair is (above the fringe, inside the hair
outline, clear of strokes), and NNNN_head.png, the face outline and all inside it.
"""

import argparse
import math
import os
import random

from PIL import Image, ImageDraw, ImageFilter

SIDE = 256
MODEL_SIDE = 64


def wobble(points, rng, amount):
    """Hand tremor: each point moved by a smooth random offset along the line."""
    phase_x, phase_y = rng.uniform(0, 6.3), rng.uniform(0, 6.3)
    freq = rng.uniform(0.05, 0.2)
    out = []
    for i, (x, y) in enumerate(points):
        out.append((x + amount * math.sin(freq * i + phase_x),
                    y + amount * math.cos(freq * i * 1.3 + phase_y)))
    return out


def ellipse_points(cx, cy, rx, ry, start, end, steps=60):
    """Points on an ellipse from angle `start` to `end` (radians, y down)."""
    return [(cx + rx * math.cos(start + (end - start) * t / steps),
             cy + ry * math.sin(start + (end - start) * t / steps)) for t in range(steps + 1)]


def stroke(draw, points, width):
    draw.line(points, fill=0, width=width, joint="curve")
    r = width / 2
    for x, y in (points[0], points[-1]):
        draw.ellipse((x - r, y - r, x + r, y + r), fill=0)


def drawing(rng):
    img = Image.new("L", (SIDE, SIDE), 255)
    draw = ImageDraw.Draw(img)
    width = rng.randint(4, 10)
    shake = rng.uniform(0.5, 2.5)
    cx = SIDE / 2 + rng.uniform(-12, 12)
    cy = SIDE * 0.54 + rng.uniform(-10, 10)
    rx = rng.uniform(65, 95)
    ry = rx * rng.uniform(1.0, 1.25)

    # Face outline.
    shape = rng.choice(["circle", "ellipse", "u"])
    if shape == "circle":
        face = ellipse_points(cx, cy, rx, rx, 0, 2 * math.pi)
        ry = rx
    elif shape == "ellipse":
        face = ellipse_points(cx, cy, rx, ry, 0, 2 * math.pi)
    else:  # a U: the jaw and the sides, open at the top
        face = ellipse_points(cx, cy, rx, ry, -0.15 * math.pi, 1.15 * math.pi)
    stroke(draw, wobble(face, rng, shake), width)

    # Hair outline over the head.
    hair_rx, hair_ry = rx * rng.uniform(1.1, 1.3), ry * rng.uniform(1.05, 1.25)
    hair_cy = cy + rng.uniform(-5, 5)
    has_outline = rng.random() < 0.8
    if has_outline:
        top = ellipse_points(cx, hair_cy, hair_rx, hair_ry, math.pi, 2 * math.pi)
        stroke(draw, wobble(top, rng, shake), width)

    # Fringe across the forehead.
    fringe_y = cy - ry * rng.uniform(0.25, 0.45)
    left, right = cx - rx * 0.95, cx + rx * 0.95
    teeth = rng.randint(3, 8)
    kind = rng.choice(["zigzag", "scallops", "spikes"])
    depth = rng.uniform(12, 28)
    pts = []
    for i in range(teeth * 2 + 1):
        x = left + (right - left) * i / (teeth * 2)
        if kind == "zigzag":
            y = fringe_y + (depth / 2 if i % 2 else -depth / 2)
            pts.append((x, y))
        elif kind == "spikes":
            y = fringe_y + (depth if i % 2 else -depth / 3)
            pts.append((x, y))
    if kind == "scallops":
        span = (right - left) / teeth
        for t in range(teeth):
            x0 = left + span * t
            arc = ellipse_points(x0 + span / 2, fringe_y - depth / 3, span / 2, depth, 0, math.pi, 12)
            pts.extend(arc[::-1])
    stroke(draw, wobble(pts, rng, shake), width)

    # Side hair lines.
    if rng.random() < 0.7:
        for side in (-1, 1):
            x0 = cx + side * rx * rng.uniform(1.0, 1.25)
            y0 = cy - ry * rng.uniform(0.2, 0.5)
            y1 = cy + ry * rng.uniform(0.6, 1.4)
            bend = rng.uniform(-10, 10)
            line = [(x0 + side * bend * math.sin(math.pi * t / 20), y0 + (y1 - y0) * t / 20)
                    for t in range(21)]
            stroke(draw, wobble(line, rng, shake), width)

    # Eyes.
    eye_y = cy + ry * rng.uniform(0.0, 0.2)
    eye_dx = rx * rng.uniform(0.33, 0.48)
    eye_kind = rng.choice(["round", "round", "dot", "closed"])
    eye_r = rng.uniform(8, 16)
    boxes = []
    for side in (-1, 1):
        ex = cx + side * eye_dx
        boxes.append((ex - eye_r - width, eye_y - eye_r - width, ex + eye_r + width, eye_y + eye_r + width))
        if eye_kind == "round":
            stroke(draw, wobble(ellipse_points(ex, eye_y, eye_r * 0.8, eye_r, 0, 2 * math.pi, 30), rng, shake / 2), width)
            if rng.random() < 0.6:
                p = eye_r * 0.45
                draw.ellipse((ex - p, eye_y - p + 2, ex + p, eye_y + p + 2), fill=0)
        elif eye_kind == "dot":
            p = eye_r * rng.uniform(0.35, 0.6)
            draw.ellipse((ex - p, eye_y - p, ex + p, eye_y + p), fill=0)
        else:  # closed: an arc bowing up
            stroke(draw, wobble(ellipse_points(ex, eye_y + eye_r / 2, eye_r, eye_r * 0.6, math.pi, 2 * math.pi, 16), rng, shake / 2), width)

    # Mouth.
    mouth_y = cy + ry * rng.uniform(0.5, 0.7)
    mouth_w = rng.uniform(8, 24)
    mouth_kind = rng.choice(["smile", "smile", "line", "o"])
    boxes.append((cx - mouth_w - width, mouth_y - mouth_w, cx + mouth_w + width, mouth_y + mouth_w))
    if mouth_kind == "smile":
        stroke(draw, ellipse_points(cx, mouth_y - mouth_w / 3, mouth_w, mouth_w / 2, 0.15 * math.pi, 0.85 * math.pi, 12), width)
    elif mouth_kind == "line":
        stroke(draw, [(cx - mouth_w / 2, mouth_y), (cx + mouth_w / 2, mouth_y)], width)
    else:
        r = mouth_w / 4
        draw.ellipse((cx - r, mouth_y - r, cx + r, mouth_y + r), outline=0, width=max(2, width // 2))

    # Masks at full size, then to the models' side. Skin: inside the face outline (clear of
    # its stroke), below the fringe, away from the eyes and the mouth: where a real face is
    # skin. Hair: above the fringe, inside the hair outline, clear of strokes. Head: the face
    # outline and everything inside it, where drawn strokes should not stay ink.
    inset = width / 2 + 4
    skin = Image.new("L", (SIDE, SIDE), 0)
    draw_skin = ImageDraw.Draw(skin)
    draw_skin.ellipse((cx - rx + inset, cy - ry + inset, cx + rx - inset, cy + ry - inset), fill=255)
    draw_skin.rectangle((0, 0, SIDE, fringe_y + depth + width), fill=0)
    for box in boxes:
        draw_skin.rectangle(box, fill=0)
    hair = Image.new("L", (SIDE, SIDE), 0)
    ImageDraw.Draw(hair).ellipse((cx - hair_rx, hair_cy - hair_ry, cx + hair_rx, hair_cy + hair_ry), fill=255)
    ImageDraw.Draw(hair).rectangle((0, fringe_y - depth - width, SIDE, SIDE), fill=0)
    ink = img.point(lambda v: 255 if v < 128 else 0)
    near_ink = ink.filter(ImageFilter.MaxFilter(2 * (width // 2) + 9))
    free = near_ink.point(lambda v: 0 if v else 255)
    hair = Image.composite(hair, Image.new("L", (SIDE, SIDE), 0), free)
    head = Image.new("L", (SIDE, SIDE), 0)
    grow = width / 2 + 2
    ImageDraw.Draw(head).ellipse((cx - rx - grow, cy - ry - grow, cx + rx + grow, cy + ry + grow), fill=255)
    return img, shrink_mask(skin), shrink_mask(hair), shrink_mask(head)


def shrink_mask(mask):
    """A mask at the models' side: pixels wholly inside it."""
    return mask.resize((MODEL_SIDE, MODEL_SIDE), Image.BOX).point(lambda v: 255 if v > 200 else 0)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out")
    parser.add_argument("--count", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    os.makedirs(os.path.join(args.out, "sketches"), exist_ok=True)
    os.makedirs(os.path.join(args.out, "masks"), exist_ok=True)
    for i in range(args.count):
        rng = random.Random(args.seed * 1_000_003 + i)
        img, skin, hair, head = drawing(rng)
        img.save(os.path.join(args.out, "sketches", f"{i:04d}.png"))
        skin.save(os.path.join(args.out, "masks", f"{i:04d}_skin.png"))
        hair.save(os.path.join(args.out, "masks", f"{i:04d}_hair.png"))
        head.save(os.path.join(args.out, "masks", f"{i:04d}_head.png"))
    print(f"wrote {args.count} drawings to {args.out}")


if __name__ == "__main__":
    main()
