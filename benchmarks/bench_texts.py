"""ROVER and word error rates against crowd-kit's ROVER on synthetic transcriptions.

Usage::

    python benchmarks/bench_texts.py [--tasks 20000] [--overlap 5] [--repeat 3]
                                     [--crowdkit-python /path/to/python | --no-crowdkit]

crowd-kit 1.4 needs pandas < 3, so it runs in a Python of its own
(``--crowdkit-python``, default ``$CROWDKIT_PYTHON``, else this interpreter): a
subprocess reads the transcriptions from a Parquet file, times its ROVER
(reading not included) and writes the texts back.

Transcriptions: ``--tasks`` sentences of 4..24 words drawn from a Zipf
vocabulary of 5,000 words, each transcribed by ``--overlap`` of 200 workers
whose word error rates are spread over 2 %..40 % (deletions, substitutions and
insertions in equal parts), 1 % empty answers; string ids, seed 0. Times are
the best of ``--repeat`` runs (crowd-kit: one run), the text column as Python
strings for both; the ratio compares the two measured in the same run. The
outputs are compared text by text (crowd-kit with the same whitespace tokenizer).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from pandas_toloka.aggregation import rover, text_agreement, wer


def synthetic(n_tasks: int, overlap: int, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(seed)
    vocab = np.array([f"w{i}" for i in range(5000)], dtype=object)
    p = 1.0 / np.arange(1, len(vocab) + 1)
    p /= p.sum()
    n_workers = 200
    skill = np.linspace(0.02, 0.40, n_workers)
    rows_task, rows_worker, rows_text, truths = [], [], [], {}
    for t in range(n_tasks):
        truth = list(vocab[rng.choice(len(vocab), size=int(rng.integers(4, 25)), p=p)])
        truths[f"task{t:06d}"] = " ".join(truth)
        workers = rng.choice(n_workers, size=overlap, replace=False)
        for w in workers:
            r = rng.random(len(truth))
            extra = vocab[rng.choice(len(vocab), size=len(truth), p=p)]
            words: list[str] = []
            for word, x, other in zip(truth, r, extra):
                if x < skill[w] / 3:
                    continue
                if x < 2 * skill[w] / 3:
                    words.append(other)
                    continue
                words.append(word)
                if x < skill[w]:
                    words.append(other)
            if rng.random() < 0.01:
                words = []
            rows_task.append(f"task{t:06d}")
            rows_worker.append(f"worker{w:04d}")
            rows_text.append(" ".join(words))
    frame = pd.DataFrame({"task_id": rows_task, "worker_id": rows_worker, "text": rows_text})
    return frame, pd.Series(truths)


CROWDKIT_RUN = """
import json, sys, time, warnings
import pandas as pd
from crowdkit.aggregation import ROVER
data = pd.read_parquet(sys.argv[1]).rename(columns={"task_id": "task", "worker_id": "worker"})
data["text"] = data["text"].astype(object)
model = ROVER(tokenizer=lambda s: s.split(), detokenizer=lambda w: " ".join(w))
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    start = time.perf_counter()
    texts = model.fit_predict(data)
    seconds = time.perf_counter() - start
pd.DataFrame({"task_id": texts.index.astype(str), "text": texts.astype(str).to_numpy()}).to_parquet(sys.argv[2])
print(json.dumps({"seconds": seconds}))
"""


def run_crowdkit(python: str, frame: pd.DataFrame) -> tuple[float, pd.Series]:
    with tempfile.TemporaryDirectory() as tmp:
        source, target = Path(tmp) / "in.parquet", Path(tmp) / "out.parquet"
        frame.to_parquet(source)
        done = subprocess.run(
            [python, "-c", CROWDKIT_RUN, str(source), str(target)],
            check=True,
            capture_output=True,
            text=True,
            timeout=3600,
        )
        seconds = json.loads(done.stdout.strip().splitlines()[-1])["seconds"]
        texts = pd.read_parquet(target).set_index("task_id")["text"]
    return float(seconds), texts


def best_of(repeat: int, run):  # type: ignore[no-untyped-def]
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - start)
    return best, result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=20_000)
    parser.add_argument("--overlap", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-crowdkit", action="store_true")
    parser.add_argument(
        "--crowdkit-python", default=os.environ.get("CROWDKIT_PYTHON", sys.executable)
    )
    args = parser.parse_args(argv)
    frame, truth = synthetic(args.tasks, args.overlap)
    print(f"{len(frame):,} transcriptions, {args.tasks:,} tasks x {args.overlap}")
    print()
    print("| step | ours (s) | crowd-kit (s) | ratio |")
    print("|---|---:|---:|---:|")
    t_ours, ours = best_of(args.repeat, lambda: rover(frame))
    ck_cell, ratio_cell = "not run", ""
    mismatches = None
    if not args.no_crowdkit:
        t_ck, theirs = run_crowdkit(args.crowdkit_python, frame)
        ck_cell, ratio_cell = f"{t_ck:.2f}", f"{t_ck / t_ours:.1f}x"
        mine = ours.set_index("task_id")["text"]
        mismatches = int(
            (
                mine.reindex(theirs.index).to_numpy(dtype=object) != theirs.to_numpy(dtype=object)
            ).sum()
        )
    print(f"| ROVER | {t_ours:.2f} | {ck_cell} | {ratio_cell} |")
    golden = pd.DataFrame({"task_id": truth.index, "text": truth.to_numpy()})
    t_wer, scores = best_of(args.repeat, lambda: wer(frame, reference=golden))
    print(f"| WER of each worker against the truth | {t_wer:.2f} | | |")
    t_wer_agg, _ = best_of(args.repeat, lambda: wer(frame, reference=ours))
    print(f"| WER of each worker against ROVER | {t_wer_agg:.2f} | | |")
    t_agree, _ = best_of(args.repeat, lambda: text_agreement(frame))
    print(f"| text agreement (mean pairwise WER per task) | {t_agree:.2f} | | |")
    print()
    if mismatches is not None:
        print(f"texts differing from crowd-kit's: {mismatches} of {len(ours)}")
    aggregate = wer(ours.assign(worker_id="ROVER"), reference=golden)["wer"].iloc[0]
    print(
        f"ROVER's WER against the truth: {aggregate:.4f}; workers' median: "
        f"{scores['wer'].median():.4f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
