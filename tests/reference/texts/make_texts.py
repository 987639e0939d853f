"""Regenerate the stored crowd-kit outputs the texts and embeddings tests compare against.

Run from the repository root with the reference venv (crowd-kit 1.4, nltk, scipy):

    PYTHONPATH=$PWD /work/refvenv/bin/python tests/reference/texts/make_texts.py

Inputs:

- ``crowdkit_simple_text.json``: crowd-kit's own fixtures ``simple_text_df`` and
  ``simple_text_true_embeddings`` (tests/conftest.py of Toloka/crowd-kit at 35f0661,
  Apache-2.0), as data: 56 transcriptions of 5 LibriSpeech utterances with
  2-dimensional embeddings.
- ``synthetic_transcriptions.parquet`` (made here, seed 19): sentences with known
  truth, transcribed by workers of known word error rate, with an embedding per
  response (the truth's embedding plus noise that grows with the worker's error rate).

Outputs (read by tests/aggregation/test_texts_reference.py and test_embeddings_reference.py):

- ``rover.json``: crowd-kit's ROVER on the toy fixture, the simple-text fixture and the
  synthetic transcriptions, with the tokenizers ``str.split(" ")`` and ``str.split()``.
- ``embeddings.json``: crowd-kit's ClosestToAverage (cosine), RASA and HRRASA on the
  simple-text fixture and the synthetic pool (with and without true embeddings):
  the chosen output per task and the worker skills; HRRASA with crowd-kit's default
  output similarity and with a word-level GLEU (``word_gleu`` below).
- ``chi2_isf.json``: ``scipy.stats.chi2.isf`` on a grid (the RASA prior skills).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.stats as sps
from crowdkit.aggregation import HRRASA, RASA, ROVER, ClosestToAverage
from nltk.translate import gleu_score

HERE = Path(__file__).resolve().parent
SEED = 19


def simple_text() -> tuple[pd.DataFrame, pd.Series]:
    raw = json.loads((HERE / "crowdkit_simple_text.json").read_text())
    frame = pd.DataFrame(raw["responses"])
    frame["embedding"] = frame["embedding"].map(np.asarray)
    true = pd.Series({k: np.asarray(v) for k, v in raw["true_embeddings"].items()})
    true.index.name = "task"
    return frame[["task", "worker", "output", "embedding"]], true


def make_synthetic() -> pd.DataFrame:
    """Sentences of 3..18 words from a Zipf vocabulary; workers with error rates 2%..45%."""
    rng = np.random.default_rng(SEED)
    vocab = [f"w{i}" for i in range(400)] + ["a", "i", "the", "of", "to"]
    weights = 1.0 / np.arange(1, len(vocab) + 1)
    weights /= weights.sum()
    n_tasks, n_workers, dim = 240, 12, 4
    skill = np.linspace(0.02, 0.45, n_workers)
    rows = []
    for t in range(n_tasks):
        truth = list(rng.choice(vocab, size=int(rng.integers(3, 19)), p=weights))
        truth_embedding = rng.normal(size=dim)
        overlap = int(rng.choice([1, 2, 3, 5, 5, 5, 6]))
        for w in sorted(
            rng.choice(n_workers, size=overlap, replace=False), key=lambda _: rng.random()
        ):
            words: list[str] = []
            for word in truth:
                r = rng.random()
                if r < skill[w] / 3:
                    continue  # deletion
                if r < 2 * skill[w] / 3:
                    words.append(str(rng.choice(vocab, p=weights)))  # substitution
                    continue
                words.append(str(word))
                if r < skill[w]:
                    words.append(str(rng.choice(vocab, p=weights)))  # insertion
            if rng.random() < 0.02:
                words = []  # an empty answer
            text = " ".join(words)
            embedding = truth_embedding + rng.normal(scale=0.1 + 2 * skill[w], size=dim)
            rows.append(
                {
                    "task": f"t{t:03d}",
                    "worker": f"w{w:02d}",
                    "text": text,
                    "truth": " ".join(truth),
                    "embedding": embedding.tolist(),
                    "truth_embedding": truth_embedding.tolist(),
                }
            )
    return pd.DataFrame(rows)


def rover(frame: pd.DataFrame, tokenizer: str) -> dict[str, str]:
    split = (lambda s: s.split(" ")) if tokenizer == "space" else (lambda s: s.split())
    model = ROVER(tokenizer=split, detokenizer=lambda tokens: " ".join(tokens))
    result = model.fit_predict(frame[["task", "worker", "text"]])
    return {str(k): str(v) for k, v in result.items()}


def word_gleu(hyp: str, ref: object) -> float:
    """Sentence GLEU between the words of two texts (crowd-kit passes ``ref`` as a string,
    whose characters nltk then reads as the hypothesis' tokens)."""
    return float(gleu_score.sentence_gleu([hyp.split()], str(ref).split()))


def chosen(result: pd.DataFrame) -> dict[str, str]:
    return {str(k): str(v) for k, v in result["output"].items()}


def skills(model: object) -> dict[str, float]:
    return {str(k): float(v) for k, v in model.skills_.items()}  # type: ignore[attr-defined]


def embedding_methods(frame: pd.DataFrame, true: pd.Series | None) -> dict[str, object]:
    out: dict[str, object] = {}

    # RASA's and HRRASA's own distance: scipy's cosine distance, inf for a zero vector.
    cta = ClosestToAverage(distance=RASA._cosine_distance).fit(frame, true_embeddings=true)
    out["closest_to_average"] = chosen(cta.embeddings_and_outputs_)
    for n_iter, tol in [(100, 0.0), (100, 1e-9), (0, 1e-9), (3, 0.0)]:
        key = f"n_iter={n_iter},tol={tol}"
        model = RASA(n_iter=n_iter, tol=tol)
        out[f"rasa[{key}]"] = {
            "output": chosen(model.fit_predict(frame, true)),
            "skills": skills(model) if n_iter else {},
        }
        for name, similarity in [("crowdkit", gleu_score_default()), ("word_gleu", word_gleu)]:
            hr = HRRASA(n_iter=n_iter, tol=tol, output_similarity=similarity)
            result = hr.fit_predict(frame, true)
            out[f"hrrasa[{key},similarity={name}]"] = {
                "output": chosen(result),
                "skills": {k: v for k, v in skills(hr).items() if np.isfinite(v)},
            }
    return out


def gleu_score_default():  # type: ignore[no-untyped-def]
    from crowdkit.aggregation.embeddings.hrrasa import glue_similarity

    return glue_similarity


def main() -> None:
    warnings.simplefilter("ignore")
    synthetic = make_synthetic()
    synthetic.to_parquet(HERE / "synthetic_transcriptions.parquet", index=False)

    simple, true = simple_text()
    toy = pd.DataFrame(
        [["w1", "t1", "a b c d"], ["w2", "t1", "b z d e"], ["w3", "t1", "b c d e f"]],
        columns=["worker", "task", "text"],
    )
    simple_texts = simple.rename(columns={"output": "text"})
    rover_out = {
        f"{name}[{tok}]": rover(frame, tok)
        for name, frame in [("toy", toy), ("simple_text", simple_texts), ("synthetic", synthetic)]
        for tok in ["space", "whitespace"]
    }
    (HERE / "rover.json").write_text(json.dumps(rover_out, indent=1, sort_keys=True) + "\n")

    syn = synthetic.rename(columns={"text": "output"})
    syn["embedding"] = syn["embedding"].map(np.asarray)
    syn_true = synthetic.groupby("task")["truth_embedding"].first().map(np.asarray).iloc[::4]
    embeddings_out = {
        "simple_text": embedding_methods(simple, None),
        "simple_text[true]": embedding_methods(simple, true),
        "synthetic": embedding_methods(syn[["task", "worker", "output", "embedding"]], None),
        "synthetic[true]": embedding_methods(
            syn[["task", "worker", "output", "embedding"]], syn_true
        ),
    }
    (HERE / "embeddings.json").write_text(
        json.dumps(embeddings_out, indent=1, sort_keys=True) + "\n"
    )

    grid = [
        (q, k)
        for q in (0.005, 0.025, 0.05, 0.25, 0.5, 0.9)
        for k in (1, 2, 3, 5, 10, 57, 1000, 10**6)
    ]
    chi2 = [{"q": q, "df": k, "isf": float(sps.chi2.isf(q, k))} for q, k in grid]
    (HERE / "chi2_isf.json").write_text(json.dumps(chi2, indent=1) + "\n")


if __name__ == "__main__":
    main()
