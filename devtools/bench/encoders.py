"""Raw encoder throughput, without Django or a database.

    python -m devtools.bench.encoders clip --model random-vit-b-32 --batch-size 32
    python -m devtools.bench.encoders visual

Model throughput times ``encode_tensor`` on already preprocessed batches; preprocessing is timed
separately on 800x600 photos, so each number can be tuned on its own.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from django.utils.module_loading import import_string
from PIL import Image

from devtools.random_clip import resolve_model_name
from visualsearch.encoders.base import Encoder, EncoderConfig

BACKENDS = {
    "clip": ("visualsearch.encoders.clip.ClipEncoder", "random-vit-b-32"),
    "visual": ("visualsearch.encoders.visual.VisualEncoder", "efficientnet-lite0"),
}


@dataclass(frozen=True)
class Throughput:
    """Images per second over ``rounds`` timed batches, and CPU seconds per image.

    On a shared machine wall-clock rates swing with other load; CPU time per image does not much.
    """

    median: float
    best: float
    cpu_ms_per_image: float

    def __str__(self) -> str:
        return f"{self.median:7.1f} img/s (best {self.best:.1f}), {self.cpu_ms_per_image:.0f} CPU-ms/img"


def measure(run: Callable[[], object], images_per_run: int, *, rounds: int, warmup: int = 1) -> Throughput:
    for _ in range(warmup):
        run()
    seconds = []
    cpu_started = time.process_time()
    for _ in range(rounds):
        started = time.perf_counter()
        run()
        seconds.append(time.perf_counter() - started)
    cpu_ms = (time.process_time() - cpu_started) * 1000 / (rounds * images_per_run)
    return Throughput(images_per_run / statistics.median(seconds), images_per_run / min(seconds), cpu_ms)


def sample_photos(count: int, size: tuple[int, int] = (800, 600), seed: int = 0) -> list[Image.Image]:
    rng = np.random.default_rng(seed)
    return [Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)) for _ in range(count)]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("encoder", choices=sorted(BACKENDS))
    parser.add_argument("--model", help="MODEL setting (default: random-vit-b-32 / efficientnet-lite0)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--precision", default=None, help="clip only: fp32 or int8")
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads")
    args = parser.parse_args(argv)

    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    backend, default_model = BACKENDS[args.encoder]
    options = {"PRECISION": args.precision} if args.precision else {}
    config = EncoderConfig.from_settings(
        args.encoder,
        {
            "BACKEND": backend,
            "MODEL": resolve_model_name(args.model or default_model),
            "DEVICE": args.device,
            **options,
        },
    )
    started = time.perf_counter()
    encoder: Encoder = import_string(backend)(config)
    print(f"{encoder!r} loaded in {time.perf_counter() - started:.1f}s; torch threads {torch.get_num_threads()}")

    photos = sample_photos(args.batch_size)
    batch = encoder.preprocess(photos)
    model = measure(lambda: encoder.encode_tensor(batch), len(photos), rounds=args.rounds)
    preprocessing = measure(lambda: encoder.preprocess(photos), len(photos), rounds=args.rounds)
    print(f"model on preprocessed {tuple(batch.shape)} batches: {model}")
    print(f"preprocess 800x600 photos -> tensor: {preprocessing}")


if __name__ == "__main__":
    main()
