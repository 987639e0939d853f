"""Areas: segmentation EM against crowd-kit, and bounding boxes on a million boxes.

Usage::

    python benchmarks/bench_areas.py [--masks 10000] [--size 256] [--workers 5]
        [--images 100000] [--repeat 3] [--crowdkit-python PATH] [--only segmentation|boxes]

crowd-kit runs in a child process of ``--crowdkit-python`` (a Python with crowd-kit,
e.g. ``/work/refvenv/bin/python``; default: this Python if it imports crowdkit,
otherwise the crowd-kit column says "not run"), on the same masks passed through a
temporary ``.npz`` file; only its ``fit_predict`` is timed.

**Segmentation**: ``--masks`` masks of ``--size`` x ``--size`` pixels (``--workers``
per image: ellipses with per-worker pixel noise), aggregated by
:func:`pandas_toloka.aggregation.segmentation_em` and by crowd-kit's
``SegmentationEM`` (same ``n_iter=10, tol=1e-5``) on the same frame; the masks
are checked equal and the ratio printed. Also majority vote and RASA, ours only.

**Bounding boxes**: ``--images`` images x 5 workers x 2 objects (1M boxes at the
default), each worker's box jittered from the truth, 5 % of workers missing a box
and 5 % adding a spurious one; the rectangles column is an Arrow
``list<struct<left, top, width, height>>`` (what :func:`parse_areas` gives) and,
separately, Python lists of dicts. Time of :func:`bounding_boxes` and the mean IoU
of the aggregate with the truth. Each timing is the best of ``--repeat`` runs.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable

import numpy as np
import pandas as pd
import pyarrow as pa


def _best(run: Callable[[], object], repeat: int) -> tuple[float, object, float]:
    """Best wall time of ``repeat`` runs, the last result, and the CPU time of the best run
    (this process, all threads: on a loaded machine the CPU time is the steadier figure)."""
    best, result, cpu = float("inf"), None, float("inf")
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        result = run()
        wall = time.perf_counter() - start
        if wall < best:
            best, cpu = wall, time.process_time() - start_cpu
    return best, result, cpu


def segmentation_frame(n_masks: int, size: int, workers: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n_images = n_masks // workers
    yy, xx = np.mgrid[0:size, 0:size]
    noise_rate = rng.uniform(0.01, 0.2, size=50)
    tasks, names, masks = [], [], []
    for t in range(n_images):
        cy, cx = rng.uniform(0.3, 0.7, size=2) * size
        ry, rx = rng.uniform(0.1, 0.3, size=2) * size
        truth = ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1
        for w in rng.choice(50, size=workers, replace=False):
            masks.append(truth ^ (rng.random(truth.shape) < noise_rate[w]))
            tasks.append(f"image{t:06d}")
            names.append(f"worker{w:02d}")
    return pd.DataFrame({"task": tasks, "worker": names, "segmentation": masks})


def bench_segmentation(args: argparse.Namespace) -> None:
    from pandas_toloka.aggregation import (
        mask_arrays,
        segmentation_em,
        segmentation_majority_vote,
        segmentation_rasa,
    )

    frame = segmentation_frame(args.masks, args.size, args.workers)
    kwargs = {"task": "task", "worker": "worker", "mask": "segmentation"}
    print(
        f"\n## Segmentation: {len(frame)} masks of {args.size}x{args.size}, {args.workers} per image\n"
    )
    print(
        "| method | ours wall (s) | ours CPU (s) | crowd-kit wall (s) | crowd-kit CPU (s) | ratio wall | ratio CPU | equal |"
    )
    print("|---|---|---|---|---|---|---|---|")
    ours_time, ours, ours_cpu = _best(lambda: segmentation_em(frame, **kwargs), args.repeat)
    ck_cell, ck_cpu_cell, ratio, ratio_cpu, equal = "not run", "", "", "", ""
    python = args.crowdkit_python or (
        sys.executable if importlib.util.find_spec("crowdkit") else None
    )
    if python:
        with tempfile.TemporaryDirectory() as tmp:
            masks = np.stack(frame["segmentation"].to_list())
            np.savez(
                os.path.join(tmp, "in.npz"),
                task=frame["task"].to_numpy(dtype=str),
                worker=frame["worker"].to_numpy(dtype=str),
                packed=np.packbits(masks.reshape(len(masks), -1), axis=1),
                shape=np.asarray(masks.shape[1:]),
            )
            del masks
            subprocess.run([python, __file__, "--crowdkit-child", tmp], check=True)
            with np.load(os.path.join(tmp, "out.npz")) as data:
                ck_time = float(data["seconds"])
                ck_cpu = float(data["cpu_seconds"])
                pixels = args.size * args.size
                theirs = np.unpackbits(data["packed"], axis=1, count=pixels).astype(bool)
        got = mask_arrays(ours["segmentation"])  # type: ignore[index]
        equal = str(all(np.array_equal(a.ravel(), b) for a, b in zip(got, theirs)))
        ck_cell, ratio = f"{ck_time:.2f}", f"{ck_time / ours_time:.1f}x"
        ck_cpu_cell, ratio_cpu = f"{ck_cpu:.2f}", f"{ck_cpu / ours_cpu:.1f}x"
    print(
        f"| SegmentationEM | {ours_time:.2f} | {ours_cpu:.2f} | {ck_cell} | {ck_cpu_cell} "
        f"| {ratio} | {ratio_cpu} | {equal} |"
    )
    for name, method in (("MV", segmentation_majority_vote), ("RASA", segmentation_rasa)):
        seconds, _, cpu = _best(lambda method=method: method(frame, **kwargs), args.repeat)
        print(f"| Segmentation{name} | {seconds:.2f} | {cpu:.2f} | | | | | |")


def crowdkit_child(folder: str) -> None:
    """In a Python with crowd-kit: SegmentationEM on the masks of ``folder/in.npz``."""
    from crowdkit.aggregation import SegmentationEM

    with np.load(os.path.join(folder, "in.npz")) as data:
        shape = tuple(data["shape"])
        pixels = int(np.prod(shape))
        masks = np.unpackbits(data["packed"], axis=1, count=pixels).astype(bool)
        frame = pd.DataFrame(
            {
                "task": data["task"],
                "worker": data["worker"],
                "segmentation": [m.reshape(shape) for m in masks],
            }
        )
    del masks
    start, start_cpu = time.perf_counter(), time.process_time()
    result = SegmentationEM().fit_predict(frame)
    seconds, cpu = time.perf_counter() - start, time.process_time() - start_cpu
    flat = np.stack([np.asarray(m).ravel() for m in result.to_numpy()])
    np.savez(
        os.path.join(folder, "out.npz"),
        seconds=seconds,
        cpu_seconds=cpu,
        packed=np.packbits(flat, axis=1),
    )


def boxes_frame(n_images: int, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """5 workers x 2 objects per image; returns the responses and the true boxes."""
    rng = np.random.default_rng(seed)
    workers, objects = 5, 2
    truth = np.empty((n_images, objects, 4))
    truth[:, 0, :2] = rng.uniform(0.05, 0.35, size=(n_images, 2))
    truth[:, 1, :2] = rng.uniform(0.55, 0.75, size=(n_images, 2))
    truth[:, :, 2:] = rng.uniform(0.1, 0.2, size=(n_images, objects, 2))
    boxes = np.repeat(truth[:, None], workers, axis=1)  # (images, workers, objects, 4)
    boxes = boxes + rng.normal(0, 0.01, size=boxes.shape)
    boxes[..., 2:] = np.abs(boxes[..., 2:])
    counts = np.full((n_images, workers), objects)
    missing = rng.random((n_images, workers)) < 0.05
    extra = rng.random((n_images, workers)) < 0.05
    counts = counts - missing + extra
    flat = []
    for i in range(n_images):
        for w in range(workers):
            drawn = boxes[i, w, 1:] if missing[i, w] else boxes[i, w]
            if extra[i, w]:
                drawn = np.vstack([drawn, [[0.85, 0.05, 0.1, 0.1]] + rng.normal(0, 0.02, (1, 4))])
            flat.append(drawn)
    offsets = np.concatenate([[0], np.cumsum([len(b) for b in flat])]).astype(np.int32)
    coords = np.vstack(flat)
    struct = pa.StructArray.from_arrays(
        [pa.array(coords[:, j]) for j in range(4)], ["left", "top", "width", "height"]
    )
    column = pa.ListArray.from_arrays(pa.array(offsets), struct)
    frame = pd.DataFrame(
        {
            "task_id": np.repeat([f"img{i:07d}" for i in range(n_images)], workers),
            "worker_id": np.tile([f"w{w}" for w in range(workers)], n_images),
            "boxes": pd.Series(pd.arrays.ArrowExtensionArray(column)),
        }
    )
    return frame, truth


def bench_boxes(args: argparse.Namespace) -> None:
    from pandas_toloka.aggregation import bounding_boxes

    frame, truth = boxes_frame(args.images)
    n_boxes = int(frame["boxes"].list.len().sum())
    print(f"\n## Bounding boxes: {args.images} images x 5 workers, {n_boxes} boxes\n")
    print("| input | wall (s) | CPU (s) | boxes/s (wall) | mean IoU with truth |")
    print("|---|---|---|---|---|")
    seconds, result, cpu = _best(lambda: bounding_boxes(frame), args.repeat)
    print(
        f"| Arrow list<struct> | {seconds:.2f} | {cpu:.2f} | {n_boxes / seconds:,.0f} "
        f"| {_iou(result, truth):.3f} |"
    )
    objects = frame.assign(boxes=frame["boxes"].map(list).astype(object))
    seconds, _, cpu = _best(lambda: bounding_boxes(objects), 1)
    print(f"| Python lists of dicts | {seconds:.2f} | {cpu:.2f} | {n_boxes / seconds:,.0f} | |")


def _iou(result: object, truth: np.ndarray) -> float:
    assert isinstance(result, pd.DataFrame)
    flat = pd.DataFrame(result["boxes"].explode().dropna().tolist())
    task = np.repeat(np.arange(len(result)), result["boxes"].list.len().to_numpy())
    fused = flat[["left", "top", "width", "height"]].to_numpy()
    best = np.zeros(len(fused))
    for k in range(truth.shape[1]):
        t = truth[task, k]
        left = np.maximum(fused[:, 0], t[:, 0])
        right = np.minimum(fused[:, 0] + fused[:, 2], t[:, 0] + t[:, 2])
        top = np.maximum(fused[:, 1], t[:, 1])
        bottom = np.minimum(fused[:, 1] + fused[:, 3], t[:, 1] + t[:, 3])
        inter = np.clip(right - left, 0, None) * np.clip(bottom - top, 0, None)
        union = fused[:, 2] * fused[:, 3] + t[:, 2] * t[:, 3] - inter
        best = np.maximum(best, inter / union)
    return float(best.mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--masks", type=int, default=10_000)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--workers", type=int, default=5)
    parser.add_argument("--images", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--crowdkit-python")
    parser.add_argument("--crowdkit-child", help=argparse.SUPPRESS)
    parser.add_argument("--only", choices=["segmentation", "boxes"])
    args = parser.parse_args()
    if args.crowdkit_child:
        crowdkit_child(args.crowdkit_child)
        return
    print(f"python {platform.python_version()}, numpy {np.__version__}, pandas {pd.__version__}")
    if args.only != "boxes":
        bench_segmentation(args)
    if args.only != "segmentation":
        bench_boxes(args)


if __name__ == "__main__":
    main()
