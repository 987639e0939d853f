"""MACE specifics: spammers get low competence; class priors, restarts and seeds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pools import synthetic_pool

from pandas_toloka.aggregation import fit_mace, mace, majority_vote
from pandas_toloka.aggregation._encoding import encode_responses
from pandas_toloka.aggregation.mace import _fit_once, _initial
from pandas_toloka.errors import InvalidArgumentError


def test_constant_answerer_is_found_as_a_spammer() -> None:
    frame, _ = synthetic_pool(n_tasks=80, n_labels=3)
    frame.loc[frame["worker_id"] == "w2", "result"] = 0  # always the same label
    model = fit_mace(frame)
    competence = dict(zip(model.workers, model.worker_columns["competence"], strict=True))
    assert competence["w2"] < min(v for k, v in competence.items() if k != "w2")
    assert len(model.loss_history) == 50


def test_many_responses_per_task_do_not_underflow() -> None:
    # 400 responses on one task: crowd-kit's product of probabilities underflows here.
    frame, _ = synthetic_pool(n_tasks=30, n_labels=3)
    rows = [("big", f"v{i}", i % 3 if i % 5 == 0 else 1) for i in range(400)]
    big = pd.DataFrame(rows, columns=frame.columns)
    result = mace(pd.concat([frame, big], ignore_index=True)).set_index("task_id")
    assert np.isfinite(result["confidence"]).all()
    assert result.loc["big", "result"] == 1


def _imbalanced_pool(seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """Product-like: 10 % rare class, 3 answers per task, workers who know with
    probability 0.5-0.9 and otherwise click either label at random."""
    rng = np.random.default_rng(seed)
    n_tasks, n_workers = 300, 15
    truth = (rng.random(n_tasks) < 0.1).astype(int)
    know = rng.uniform(0.5, 0.9, n_workers)
    task = np.repeat(np.arange(n_tasks), 3)
    worker = np.concatenate([rng.choice(n_workers, 3, replace=False) for _ in range(n_tasks)])
    knows = rng.random(task.size) < know[worker]
    label = np.where(knows, truth[task], rng.integers(0, 2, task.size))
    return pd.DataFrame({"task_id": task, "worker_id": worker, "result": label}), truth


def test_learned_class_priors_beat_majority_vote_on_an_imbalanced_pool() -> None:
    # With uniform class priors (the paper's model) the random clicks on the common
    # class are explained as rare-class tasks: 18 % answered 1 where 11 % are, and
    # MACE falls below majority vote (0.907 vs 0.95); learned priors reach 0.967.
    frame, truth = _imbalanced_pool()
    learned = (mace(frame)["result"].to_numpy() == truth).mean()
    uniform = (mace(frame, class_priors="uniform")["result"].to_numpy() == truth).mean()
    voted = (majority_vote(frame)["result"].to_numpy() == truth).mean()
    assert learned > voted > uniform


def test_a_lone_rare_answer_of_an_unknown_worker_weighs_against_the_priors() -> None:
    # Documented in docs/algorithms.md (degenerate cases): with learned priors a
    # single rare-class response of a new worker loses to the common class, as in
    # Dawid-Skene; the paper's uniform priors give that response's label.
    frame, _ = _imbalanced_pool()
    lone = pd.DataFrame({"task_id": [999], "worker_id": [99], "result": [1]})
    both = pd.concat([frame, lone], ignore_index=True)
    assert mace(both).set_index("task_id").loc[999, "result"] == 0
    assert mace(both, class_priors="uniform").set_index("task_id").loc[999, "result"] == 1


def test_restarts_keep_the_best_likelihood_and_are_deterministic() -> None:
    frame, _ = _imbalanced_pool(seed=3)
    data = encode_responses(
        frame, task="task_id", worker="worker_id", label="result", method="MACE"
    )
    none = np.zeros(0, dtype=np.intp)
    finals = [
        _fit_once(
            data,
            *_initial(data, 0, restart),
            n_iter=50,
            learn_prior=False,
            golden_tasks=none,
            golden_labels=none,
        )[2]
        for restart in range(4)
    ]
    assert len(set(finals)) == 4  # the starts differ (crowd-kit's restarts all repeat one)
    assert int(np.argmax(finals)) not in (0, 3)  # neither the first nor the last wins
    one = fit_mace(frame, class_priors="uniform")
    several = fit_mace(frame, class_priors="uniform", n_restarts=4)
    assert one.loss_history[-1] * data.n_responses == pytest.approx(finals[0], rel=1e-12)
    assert several.loss_history[-1] * data.n_responses == pytest.approx(max(finals), rel=1e-12)
    again = fit_mace(frame, class_priors="uniform", n_restarts=4)
    np.testing.assert_array_equal(several.posteriors, again.posteriors)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"class_priors": "empirical"}, "class_priors must be 'learned' or 'uniform'"),
        ({"n_restarts": 0}, "n_restarts must be a positive integer"),
        ({"n_restarts": True}, "n_restarts must be a positive integer"),
        ({"seed": -1}, "seed must be a non-negative integer"),
    ],
)
def test_bad_options_are_rejected(options, message) -> None:
    frame, _ = synthetic_pool(n_tasks=10)
    with pytest.raises(InvalidArgumentError, match=message):
        mace(frame, **options)


def test_real_datasets_accuracy(dataset, score) -> None:
    # crowd-kit 1.4.2's MACE scores 0.8519 on duck and 0.9290 on product, the
    # latter only through its order mix-up (test_crowdkit_parity: fixed, it
    # scores 0.8162, as our class_priors="uniform" does). Target: theirs - 0.002.
    name, answers, truth = dataset
    result = mace(answers, task="question", worker="worker", label="answer")
    minimum = {"duck": 0.8519, "product": 0.9290}[name] - 0.002
    assert score(result, truth) >= minimum
    uniform = mace(
        answers, task="question", worker="worker", label="answer", class_priors="uniform"
    )
    expected_uniform = {"duck": 0.8611, "product": 0.8162}[name]
    assert round(score(uniform, truth), 4) == expected_uniform
