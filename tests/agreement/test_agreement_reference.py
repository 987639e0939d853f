"""Every measure against the stored outputs of krippendorff, crowd-kit, scikit-learn and nltk.

The outputs were written by ``tests/reference/agreement/make_agreement.py`` (see its
docstring); the random pools' responses are stored with them.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest

import pandas_toloka.agreement as ag
from pandas_toloka.agreement._common import encode
from pandas_toloka.agreement._uncertainty import group_entropy
from pandas_toloka.errors import DroppedResponsesWarning

TOL = 1e-9
COLUMNS = {"task": "task", "worker": "worker", "label": "label"}


def _cases(reference: dict[str, Any]) -> list[tuple[pd.DataFrame, dict[str, Any]]]:
    return [(pd.DataFrame(case["responses"]), case) for case in reference["cases"]]


def _close(ours: pd.Series, theirs: dict[str, float]) -> None:
    expected = pd.Series(theirs, dtype=float)
    assert set(ours.index.astype(str)) >= set(expected.index)
    mine = ours.set_axis(ours.index.astype(str)).reindex(expected.index)
    np.testing.assert_allclose(mine.to_numpy(), expected.to_numpy(), rtol=0, atol=TOL)


@pytest.mark.parametrize("level", ["nominal", "ordinal", "interval", "ratio"])
def test_alpha_equals_the_krippendorff_package(reference, level) -> None:
    for frame, case in _cases(reference):
        expected = case["alpha"][level]
        assert ag.krippendorff_alpha(frame, level=level, **COLUMNS) == pytest.approx(
            expected, abs=TOL
        )


def test_alpha_equals_crowdkit(reference) -> None:
    for frame, case in _cases(reference):
        assert ag.krippendorff_alpha(frame, **COLUMNS) == pytest.approx(
            case["alpha_crowdkit"], abs=TOL
        )


def test_task_uncertainty_equals_crowdkit(reference) -> None:
    for frame, case in _cases(reference):
        plain = ag.task_uncertainty(frame, **COLUMNS).set_index("task")["entropy"]
        _close(plain, case["uncertainty_task"])
        skilled = ag.task_uncertainty(frame, skills=case["skills"], **COLUMNS)
        _close(skilled.set_index("task")["entropy"], case["uncertainty_task_skills"])


def test_worker_entropy_equals_crowdkit_uncertainty_by_worker(reference) -> None:
    for frame, case in _cases(reference):
        entropy = ag.worker_agreement(frame, **COLUMNS).set_index("worker")["entropy"]
        _close(entropy, case["uncertainty_worker"])
        data = encode(frame, method="test", **COLUMNS)
        skill = pd.Series(case["skills"]).reindex(data.workers.uniques).to_numpy()
        by_worker = group_entropy(
            data.workers.codes,
            data.labels.codes,
            skill[data.workers.codes],
            data.workers.size,
            data.labels.size,
        )
        _close(pd.Series(by_worker, index=data.workers.uniques), case["uncertainty_worker_skills"])


def test_accuracy_on_aggregates_equals_crowdkit(reference) -> None:
    for frame, case in _cases(reference):
        assert ag.accuracy_on_aggregates(frame, **COLUMNS) == pytest.approx(
            case["accuracy_on_aggregates"], abs=TOL
        )
        per_worker = ag.accuracy_on_aggregates(frame, by_worker=True, **COLUMNS)
        _close(per_worker.set_index("worker")["accuracy"], case["accuracy_on_aggregates_worker"])
        # crowd-kit's majority-vote skills are the same numbers
        _close(per_worker.set_index("worker")["accuracy"], case["mv_skills"])


def test_consistency_equals_crowdkit(reference) -> None:
    for frame, case in _cases(reference):
        by_task = ag.consistency(frame, by_task=True, **COLUMNS).set_index("task")["consistency"]
        _close(by_task, case["consistency_task"])
        skilled = ag.consistency(frame, skills=case["skills"], by_task=True, **COLUMNS)
        _close(skilled.set_index("task")["consistency"], case["consistency_task_skills"])
        assert ag.consistency(frame, **COLUMNS) == pytest.approx(by_task.mean(), abs=TOL)


def test_entropy_threshold_removes_crowdkits_workers(reference) -> None:
    for frame, case in _cases(reference):
        for skills, key in (
            (None, "entropy_threshold_removed"),
            (case["skills"], "entropy_threshold_removed_skills"),
        ):
            with pytest.warns(DroppedResponsesWarning) as record:
                kept = ag.entropy_threshold(
                    frame, percentile=20, min_answers=3, skills=skills, **COLUMNS
                )
            assert sorted(set(frame["worker"]) - set(kept["worker"])) == case[key]
            removed = len(frame) - len(kept)
            assert f"removed {removed} of {len(frame)}" in str(record[0].message)
            assert kept.index.isin(frame.index).all()


def test_cohen_kappa_equals_scikit_learn(reference) -> None:
    for frame, case in _cases(reference):
        ours = ag.cohen_kappa(frame, **COLUMNS)
        theirs = pd.DataFrame(case["cohen"], columns=["worker_a", "worker_b", "n_shared", "kappa"])
        assert (
            ours[["worker_a", "worker_b"]].values.tolist()
            == theirs[["worker_a", "worker_b"]].values.tolist()
        )
        assert ours["n_shared"].tolist() == theirs["n_shared"].tolist()
        defined = theirs["kappa"].notna().to_numpy()
        np.testing.assert_allclose(ours["kappa"][defined], theirs["kappa"][defined], atol=TOL)
        # scikit-learn's NaN is 0/0: one label shared by both workers, our documented 1.0
        assert (ours["kappa"][~defined] == 1.0).all()
        assert (ours["agreement"][~defined] == 1.0).all()
        assert not ours["kappa"].isna().any()


def test_fleiss_kappa_equals_nltk_multi_pi_on_complete_data(reference) -> None:
    for case in reference["complete"]:
        frame = pd.DataFrame(case["responses"])
        assert ag.fleiss_kappa(frame, **COLUMNS) == pytest.approx(case["fleiss"], abs=TOL)


def test_real_datasets(real) -> None:
    frame, case = real
    for level, expected in case["alpha"].items():
        assert ag.krippendorff_alpha(frame, level=level, **COLUMNS) == pytest.approx(
            expected, abs=TOL
        )
    assert ag.krippendorff_alpha(frame, **COLUMNS) == pytest.approx(case["alpha_crowdkit"], abs=TOL)
    assert ag.accuracy_on_aggregates(frame, **COLUMNS) == pytest.approx(
        case["accuracy_on_aggregates"], abs=TOL
    )
    by_task = ag.consistency(frame, by_task=True, **COLUMNS).set_index("task")["consistency"]
    assert by_task.mean() == pytest.approx(case["consistency_task_mean"], abs=TOL)
    _close(by_task, case["consistency_task_first"])
    skilled = ag.consistency(frame, skills=case["skills"], **COLUMNS)
    assert skilled == pytest.approx(case["consistency_task_skills_mean"], abs=TOL)
    entropy = ag.task_uncertainty(frame, **COLUMNS).set_index("task")["entropy"]
    assert entropy.mean() == pytest.approx(case["uncertainty_task_mean"], abs=TOL)
    _close(entropy, case["uncertainty_task_first"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        kept = ag.entropy_threshold(frame, percentile=20, min_answers=3, **COLUMNS)
    assert sorted(set(frame["worker"]) - set(kept["worker"])) == case["entropy_threshold_removed"]
