"""What the PyTorch baselines (`pytorch_dcgan.py`, `pytorch_resnet.py`) share: the command
line, the threads, and timing a training step and the generator as `facegan bench` does
(two warm-up steps, then the mean over the timed ones; latency as the median of five calls
after one warm-up). Prints one JSON line.
"""
import argparse
import json
import os
import time

import torch


def arguments():
    """`--steps` and `--batch-size`, as `facegan bench` takes them; seeds torch, uses every core."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args()
    torch.manual_seed(1)
    torch.set_num_threads(os.cpu_count())
    return args


def report(step, generator, latent, args):
    """Times `step()` (one training step of `args.batch_size` images) and `generator` in eval
    mode at batches 1 and 64, and prints the JSON line `compare_pytorch.sh` reads."""
    for _ in range(2):
        step()
    start = time.perf_counter()
    for _ in range(args.steps):
        step()
    seconds = time.perf_counter() - start

    generator.eval()

    def latency(batch):
        z = torch.randn(batch, latent, 1, 1)
        times = []
        with torch.no_grad():
            for _ in range(6):
                t = time.perf_counter()
                generator(z)
                times.append((time.perf_counter() - t) * 1e3)
        times = sorted(times[1:])
        return times[len(times) // 2]

    print(json.dumps({
        "framework": f"pytorch-{torch.__version__}",
        "threads": torch.get_num_threads(),
        "batch_size": args.batch_size,
        "train_images_per_s": round(args.steps * args.batch_size / seconds, 2),
        "generator_ms_batch1": round(latency(1), 3),
        "generator_ms_batch64": round(latency(64), 3),
    }))
