"""facegan's LBP detector against OpenCV's CascadeClassifier.detectMultiScale.

Builds cluttered composite images with real anime faces pasted at known places and scales,
runs OpenCV (grayscale, equalizeHist, detectMultiScale with the same parameters) and
`facegan detect --json` on the same files, and prints how many of OpenCV's boxes facegan
also finds (IoU >= 0.5), both detectors' recall against the pasted faces, and the speed
ratio (detection time only: decoding and grayscale conversion are excluded on both sides;
OpenCV's timing also excludes equalizeHist, facegan's includes it).

    python bench/compare_opencv.py --cascade CASCADE --faces FACE_DIR --facegan target/release/facegan
"""
import argparse
import json
import os
import subprocess
import tempfile
import time

import cv2
import numpy as np


def iou(a, b):
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    x0, y0 = max(ax, bx), max(ay, by)
    x1, y1 = min(ax + aw, bx + bw), min(ay + ah, by + bh)
    inter = max(0, x1 - x0) * max(0, y1 - y0)
    return inter / float(aw * ah + bw * bh - inter)


def composite(rng, face_files, width=480, height=360):
    canvas = rng.integers(90, 170, size=(height, width, 3), dtype=np.uint8)
    for _ in range(30):
        w, h = rng.integers(5, 90, size=2)
        x, y = rng.integers(0, width - w), rng.integers(0, height - h)
        canvas[y:y + h, x:x + w] = rng.integers(0, 256, size=3)
    truths = []
    for path in face_files:
        face = cv2.imread(path)
        side = int(rng.integers(48, 150))
        for _ in range(50):  # find a free place
            x, y = int(rng.integers(0, width - side)), int(rng.integers(0, height - side))
            if all(iou((x, y, side, side), t) == 0 for t in truths):
                break
        else:
            continue
        canvas[y:y + side, x:x + side] = cv2.resize(face, (side, side), interpolation=cv2.INTER_AREA)
        truths.append((x, y, side, side))
    inner = [(x + round(s * 0.085), y + round(s * 0.085), round(s * 0.83), round(s * 0.83)) for x, y, s, _ in truths]
    return canvas, inner


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cascade", required=True)
    parser.add_argument("--faces", required=True, help="folder of face crops (anime-faces-96)")
    parser.add_argument("--facegan", default="target/release/facegan")
    parser.add_argument("--images", type=int, default=60)
    parser.add_argument("--scale-factor", type=float, default=1.1)
    parser.add_argument("--min-neighbors", type=int, default=5)
    parser.add_argument("--min-size", type=int, default=24)
    args = parser.parse_args()

    rng = np.random.default_rng(7)
    faces = sorted(os.path.join(args.faces, f) for f in os.listdir(args.faces) if f.endswith(".jpg"))
    work = tempfile.mkdtemp(prefix="facegan-opencv-")
    files, truths = [], []
    for i in range(args.images):
        picks = [faces[j] for j in rng.integers(0, len(faces), size=int(rng.integers(1, 4)))]
        canvas, truth = composite(rng, picks)
        path = os.path.join(work, f"composite_{i:03d}.png")
        cv2.imwrite(path, canvas)
        files.append(path)
        truths.append(truth)

    classifier = cv2.CascadeClassifier(args.cascade)
    opencv_boxes, opencv_ms = [], 0.0
    for path in files:
        gray = cv2.equalizeHist(cv2.cvtColor(cv2.imread(path), cv2.COLOR_BGR2GRAY))
        start = time.perf_counter()
        found = classifier.detectMultiScale(
            gray, scaleFactor=args.scale_factor, minNeighbors=args.min_neighbors,
            minSize=(args.min_size, args.min_size))
        opencv_ms += (time.perf_counter() - start) * 1e3
        opencv_boxes.append([tuple(int(v) for v in b) for b in found])

    command = [args.facegan, "detect", "--json", "--cascade", args.cascade,
               "--scale-factor", str(args.scale_factor), "--min-neighbors", str(args.min_neighbors),
               "--min-size", str(args.min_size)] + files
    lines = subprocess.run(command, check=True, capture_output=True, text=True).stdout.splitlines()
    results = [json.loads(line) for line in lines]
    facegan_boxes = [[tuple(b) for b in r["boxes"]] for r in results]
    facegan_ms = sum(r["ms"] for r in results)

    opencv_total = sum(len(b) for b in opencv_boxes)
    matched = sum(1 for ours, theirs in zip(facegan_boxes, opencv_boxes)
                  for t in theirs if any(iou(t, o) >= 0.5 for o in ours))
    extra = sum(1 for ours, theirs in zip(facegan_boxes, opencv_boxes)
                for o in ours if not any(iou(t, o) >= 0.5 for t in theirs))

    def recall(boxes):
        hits = sum(1 for found, truth in zip(boxes, truths) for t in truth if any(iou(t, f) >= 0.5 for f in found))
        return hits, sum(len(t) for t in truths)

    print(f"{args.images} composites, {sum(len(t) for t in truths)} pasted faces; "
          f"scaleFactor {args.scale_factor}, minNeighbors {args.min_neighbors}, minSize {args.min_size}")
    print(f"OpenCV {cv2.__version__}: {opencv_total} boxes; facegan matches {matched} of them "
          f"({100.0 * matched / max(opencv_total, 1):.1f}%) and adds {extra}")
    for name, boxes in [("OpenCV ", opencv_boxes), ("facegan", facegan_boxes)]:
        hits, total = recall(boxes)
        print(f"  {name} recall of pasted faces: {hits}/{total}")
    print(f"detection time: OpenCV {opencv_ms:.0f} ms ({cv2.getNumThreads()} threads), facegan {facegan_ms:.0f} ms "
          f"(pyramid levels in parallel); facegan speed = {opencv_ms / facegan_ms:.2f}x OpenCV's")


if __name__ == "__main__":
    main()
