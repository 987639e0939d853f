"""The transcription demo pool: short sentences with known text, workers of known skill.

Pool ``1004`` (project ``14``): 400 "audio clips" (a URL per task under
``example.com``: nothing is fetched) whose true transcriptions are sentences of
4 to 12 words from a small vocabulary, 5 transcriptions each, by the demo
population (:mod:`._synthetic`): a careful or mediocre worker of accuracy ``p``
gets each word wrong with probability ``1 - p`` (left out, replaced by
another word or followed by an extra one, in equal parts), the biased worker
too (``p = 0.7``); random spammers type random words, constant spammers submit
nothing (an empty text), and they are no busier than the others here (about
one transcription in eight is theirs). Output field ``text`` (STRING).

Drawn from a stream of its own (``[seed, 1004]``), so the other demo pools
are what they were.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from ._synthetic import Workers, assign, frame, hex_ids

__all__ = ["TRANSCRIPTION_POOL_ID", "VOCABULARY", "transcription_pool", "worker_error_rates"]

TRANSCRIPTION_POOL_ID = "1004"
AUDIO_URL = "https://example.com/clips/{}.wav"

_WORDS = (
    "the a an of to and in is it that was for on with as his he at by this had not are but "
    "from or have they which one you were her all she there would their we him been has when "
    "who will more no if out so said what up its about into than them can only other new "
    "some could time these two may then do first any my now such like our over man me even "
    "most made after also did many before must through back years where much your way well "
    "down should because each just those people how too little state good very make world "
    "still own see men work long get here between both life being under never day same "
    "another know while last might us great old year off come since against go came right "
    "used take three cat dog river house light water green morning"
)
VOCABULARY = tuple(_WORDS.split(" "))


def worker_error_rates(crowd: Workers) -> np.ndarray:
    """Each worker's probability of getting a word wrong (1.0 for spammers)."""
    careful = np.isin(crowd.kind, ["good", "mediocre", "biased"])
    return np.where(careful, 1.0 - crowd.accuracy, 1.0)


def _transcribe(rng: np.random.Generator, truth: list[str], kind: str, error: float) -> str:
    if kind == "constant":
        return ""
    if kind == "random":
        return " ".join(rng.choice(VOCABULARY, size=int(rng.integers(1, 10))))
    words: list[str] = []
    for word in truth:
        draw = rng.random()
        if draw < error / 3:
            continue  # left out
        if draw < 2 * error / 3:
            words.append(str(rng.choice(VOCABULARY)))  # another word
            continue
        words.append(word)
        if draw < error:
            words.append(str(rng.choice(VOCABULARY)))  # an extra word
    return " ".join(words)


def transcription_pool(rng: np.random.Generator, crowd: Workers) -> dict[str, object]:
    """The pool's parts, as :class:`~pandas_toloka.server.demo.DemoPool` fields."""
    n = 400
    ids = [f"clip-{h}" for h in hex_ids(rng, n, 12)]
    truths = [
        [str(w) for w in rng.choice(VOCABULARY, size=int(rng.integers(4, 13)))] for _ in range(n)
    ]
    # Spammers are not the busiest here: transcribing takes them as long as anyone.
    spam = np.isin(crowd.kind, ["random", "constant"])
    activity = np.where(spam, crowd.activity / 6, crowd.activity)
    tasks, who = assign(rng, replace(crowd, activity=activity / activity.sum()), n, 5)
    errors = worker_error_rates(crowd)
    texts = [
        _transcribe(rng, truths[t], str(crowd.kind[w]), float(errors[w]))
        for t, w in zip(tasks, who)
    ]
    return {
        "pool_id": TRANSCRIPTION_POOL_ID,
        "project_id": "14",
        "output_spec": {"text": {"type": "STRING", "required": True}},
        "responses": frame(rng, ids, tasks, who, crowd, {"text": np.array(texts, dtype=object)}),
        "ground_truth": pd.DataFrame({"task_id": ids, "text": [" ".join(t) for t in truths]}),
        "description": "transcriptions: 400 clips x 5 texts, for ROVER",
        "pool_info": {"private_name": "Transcriptions (ROVER demo)"},
        "input_spec": {"audio": {"type": "URL", "required": True}},
        "tasks": pd.DataFrame({"task_id": ids, "audio": [AUDIO_URL.format(i) for i in ids]}),
    }
