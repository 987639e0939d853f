"""WEIGHTED_DYNAMIC_OVERLAP: Toloka's aggregation by skill.

Worker ``i`` has accuracy ``q_i = skill_i / 100``. A task's answer is the
option with the largest sum of ``q_i`` over the workers who chose it; its
confidence is the posterior under a uniform prior over the ``Y`` options with
``P(x) ∝ Π_i f_i(x)``, ``f_i(x) = q_i`` if worker ``i`` answered ``x``, else
``(1 - q_i) / (Y - 1)``. See ``docs/algorithms.md`` for ties and edge cases.
"""

from __future__ import annotations

import logging
from collections.abc import Hashable, Mapping, Sequence

import numpy as np
import pandas as pd

from ..errors import InvalidArgumentError
from ._encoding import (
    Encoded,
    build_result,
    check_distinct_names,
    check_frame,
    check_no_nulls,
    encode_column,
)

__all__ = ["SKILL_EPS", "weighted_dynamic_overlap"]

logger = logging.getLogger(__name__)

#: ``q`` is clipped into ``[SKILL_EPS, 1 - SKILL_EPS]`` for the confidence only.
SKILL_EPS = 1e-6
#: Above this many task x option cells the sums are kept sparse.
DENSE_CELL_LIMIT = 1 << 26
#: Summed weights are compared after rounding to this many decimals (in skill units).
_WEIGHT_DECIMALS = 9


def _field_list(fields: str | Sequence[Hashable]) -> list[Hashable]:
    names: list[Hashable] = [fields] if isinstance(fields, str) else list(fields)
    if not names:
        raise InvalidArgumentError("fields= must name at least one column.")
    if len(set(names)) != len(names):
        raise InvalidArgumentError(f"fields= names a column twice: {names!r}.")
    return names


def _positive_int(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise InvalidArgumentError(f"{what} must be an integer >= 1, got {value!r}.")
    return int(value)


def _n_options(
    n_options: int | Mapping[Hashable, int], names: list[Hashable], encoded: list[Encoded]
) -> float:
    """The number ``Y`` of possible answers (tuples), checked against the data."""
    if isinstance(n_options, Mapping):
        missing = [n for n in names if n not in n_options]
        if missing:
            raise InvalidArgumentError(f"n_options= has no entry for field(s) {missing!r}.")
        per_field = [_positive_int(n_options[n], f"n_options[{n!r}]") for n in names]
        for name, y, enc in zip(names, per_field, encoded):
            if enc.size > y:
                raise InvalidArgumentError(
                    f"Field {name!r} has {enc.size} distinct answers but n_options[{name!r}] = {y}."
                )
        return float(np.prod(np.asarray(per_field, dtype=np.float64)))
    return float(_positive_int(n_options, "n_options"))


def _skill_per_worker(
    skills: pd.DataFrame,
    workers: pd.Index,
    *,
    skill_worker: Hashable,
    skill_value: Hashable,
    default_skill: float | None,
) -> np.ndarray:
    """Skill (0..100) of each encoded worker; NaN where unknown and no default."""
    check_frame(
        skills, [skill_worker, skill_value], purpose="for the workers' skills", argument="skills"
    )
    ids = skills[skill_worker]
    check_no_nulls(ids, role="skill worker")
    if ids.duplicated().any():
        dup = list(ids[ids.duplicated()].unique()[:10])
        raise InvalidArgumentError(
            f"skills lists worker(s) {dup!r} more than once; give one skill per worker."
        )
    try:
        values = pd.to_numeric(skills[skill_value]).to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise InvalidArgumentError(f"skills column {skill_value!r} must be numeric: {exc}") from exc
    known = ~np.isnan(values)
    if ((values[known] < 0) | (values[known] > 100)).any():
        bad = values[known][(values[known] < 0) | (values[known] > 100)][:10]
        raise InvalidArgumentError(f"Skill values must lie in [0, 100]; got {bad.tolist()!r}.")
    try:
        position = pd.Index(ids.array).get_indexer(workers)
    except TypeError:  # pragma: no cover - incomparable id types
        position = pd.Index(ids.astype(object).array).get_indexer(workers.astype(object))
    per_worker = np.where(position >= 0, values[np.maximum(position, 0)], np.nan)
    if default_skill is not None:
        if not 0 <= default_skill <= 100:
            raise InvalidArgumentError(
                f"default_skill must lie in [0, 100], got {default_skill!r}."
            )
        per_worker = np.where(np.isnan(per_worker), float(default_skill), per_worker)
    return per_worker


def _joint_options(encoded: list[Encoded]) -> tuple[np.ndarray, np.ndarray]:
    """Encode answer tuples as one code each, sorted lexicographically by field.

    Returns the per-response option code and, for each option, its per-field codes
    as an ``(n_options_seen, n_fields)`` array.
    """
    joint = np.zeros(len(encoded[0].codes), dtype=np.int64)
    for enc in encoded:
        joint = joint * max(enc.size, 1) + enc.codes
    space = int(np.prod([max(enc.size, 1) for enc in encoded], dtype=np.float64))
    if space <= DENSE_CELL_LIMIT:  # O(n + space) remapping of the tuples that occur
        present = np.bincount(joint, minlength=space) > 0
        seen = np.flatnonzero(present)
        option = (np.cumsum(present) - 1)[joint]
    else:
        seen, option = np.unique(joint, return_inverse=True)
    parts = np.empty((len(seen), len(encoded)), dtype=np.intp)
    rest = seen.copy()
    for j in range(len(encoded) - 1, -1, -1):
        size = max(encoded[j].size, 1)
        parts[:, j] = rest % size
        rest //= size
    return option.astype(np.intp), parts


def weighted_dynamic_overlap(
    responses: pd.DataFrame,
    skills: pd.DataFrame,
    *,
    fields: str | Sequence[Hashable],
    n_options: int | Mapping[Hashable, int],
    task: Hashable = "task_id",
    worker: Hashable = "worker_id",
    skill_worker: Hashable = "worker_id",
    skill_value: Hashable = "value",
    default_skill: float | None = None,
) -> pd.DataFrame:
    """Aggregate responses by worker skill (Toloka's WEIGHTED_DYNAMIC_OVERLAP).

    Parameters
    ----------
    responses : pandas.DataFrame
        One row per response, with the task, worker and field columns.
    skills : pandas.DataFrame
        One row per worker: ``skill_worker`` id and ``skill_value`` in [0, 100].
        A null value means the skill is unknown.
    fields : str or sequence of str
        The output field column(s). Several fields are aggregated jointly: the
        answer is the tuple of values with the largest weight.
    n_options : int or mapping
        ``Y``, the number of possible answers: an int is ``Y`` of the whole
        answer (for several fields, the number of possible tuples); a mapping
        ``field -> Y_f`` gives ``Y = prod(Y_f)``. Must be at least the number of
        distinct answers observed.
    task, worker : hashable, default "task_id", "worker_id"
        Column names in ``responses``.
    skill_worker, skill_value : hashable, default "worker_id", "value"
        Column names in ``skills``.
    default_skill : float, optional
        Skill given to workers with no skill. Default ``None``: such workers
        carry no weight and no information (see Notes).

    Returns
    -------
    pandas.DataFrame
        One row per task (every task of the input), sorted by task: ``task``,
        one column per field (the input dtype) and ``confidence`` (float64).

    Raises
    ------
    MissingColumnsError
        If a column is absent from ``responses`` or ``skills``.
    InvalidArgumentError
        For null ids or answers, skills outside [0, 100], a worker listed twice
        in ``skills``, ``n_options`` smaller than the distinct answers seen.

    Notes
    -----
    - Ties in weight (compared in skill units, rounded to 1e-9) go to the
      option chosen by more responses, then to the smallest option in sort
      order (tuples: lexicographically, field by field).
    - A worker with no skill (absent from ``skills`` or null, and no
      ``default_skill``) adds 0 to the weights and a factor independent of
      ``x`` to ``P(x)``: it only breaks ties by its vote. A task where no
      response has a skill thus gets its majority-vote answer with confidence
      ``1 / Y`` (the uniform posterior); a warning is logged.
    - ``q`` is clipped into ``[1e-6, 1 - 1e-6]`` for the confidence, so skills
      of exactly 0 or 100 give finite logarithms; weights use the raw ``q``.
    - ``Y = 1``: the only option has confidence 1.

    Examples
    --------
    >>> responses = pd.DataFrame({"task_id": ["t"] * 3, "worker_id": ["a", "b", "c"],
    ...                           "result": ["yes", "no", "yes"]})
    >>> skills = pd.DataFrame({"worker_id": ["a", "b", "c"], "value": [70, 80, 90]})
    >>> weighted_dynamic_overlap(responses, skills, fields="result", n_options=2)
      task_id result  confidence
    0       t    yes        0.84
    """
    names = _field_list(fields)
    roles = {f"fields[{i}]": n for i, n in enumerate(names)}
    check_distinct_names([task, *names], task=task, worker=worker, **roles)
    frame = check_frame(responses, [task, worker, *names], purpose="for weighted_dynamic_overlap")
    if not isinstance(skills, pd.DataFrame):
        raise InvalidArgumentError(
            f"skills must be a pandas DataFrame, got {type(skills).__name__}."
        )
    tasks = encode_column(frame[task], role="task")
    workers = encode_column(frame[worker], role="worker")
    encoded = [encode_column(frame[n], role=f"field {n!r}") for n in names]
    Y = _n_options(n_options, names, encoded)
    skill = _skill_per_worker(
        skills,
        workers.uniques,
        skill_worker=skill_worker,
        skill_value=skill_value,
        default_skill=default_skill,
    )
    T = tasks.size
    if T == 0:
        empty = {n: e.uniques[:0] for n, e in zip(names, encoded)}
        return build_result(task, tasks.uniques, empty, np.zeros(0))
    option, parts = _joint_options(encoded)
    J = len(parts)
    if J > Y:
        raise InvalidArgumentError(f"n_options = {Y:g} but {J} distinct answers were given.")

    answer, confidence = _aggregate(tasks.codes, option, skill[workers.codes], T, J, Y)
    columns = {n: e.uniques.take(parts[answer, j]) for j, (n, e) in enumerate(zip(names, encoded))}
    return build_result(task, tasks.uniques, columns, confidence)


def _aggregate(
    task: np.ndarray, option: np.ndarray, skill: np.ndarray, T: int, J: int, Y: float
) -> tuple[np.ndarray, np.ndarray]:
    """Answer option and confidence per task; ``skill`` is per response (NaN = unknown)."""
    known = ~np.isnan(skill)
    weight = np.where(known, skill, 0.0)
    q = np.clip(weight / 100.0, SKILL_EPS, 1.0 - SKILL_EPS)
    if Y > 1:
        # log f_i(chosen) - log f_i(other): the evidence one response adds to its option.
        evidence = np.where(known, np.log(q) - np.log1p(-q) + np.log(Y - 1.0), 0.0)
    else:
        evidence = np.zeros(len(task))

    if T * J <= DENSE_CELL_LIMIT:
        answer, confidence = _decide_dense(task, option, weight, evidence, T, J, Y)
    else:
        answer, confidence = _decide_sparse(task, option, weight, evidence, T, J, Y)
    if Y <= 1:
        confidence = np.ones(T)
    unskilled = np.bincount(task, weights=known.astype(np.float64), minlength=T) == 0
    if unskilled.any():
        logger.warning(
            "%d task(s) have no response from a worker with a known skill: their answer is the "
            "majority vote with confidence 1/Y.",
            int(unskilled.sum()),
        )
    return answer, confidence


def _decide_dense(
    task: np.ndarray,
    option: np.ndarray,
    weight: np.ndarray,
    evidence: np.ndarray,
    T: int,
    J: int,
    Y: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Winner and confidence per task from dense ``(J, T)`` option x task sums."""
    flat = option * T + task
    votes = np.bincount(flat, minlength=J * T).reshape(J, T)
    summed = np.bincount(flat, weights=weight, minlength=J * T).reshape(J, T)
    score = np.round(summed, _WEIGHT_DECIMALS)
    chosen = votes > 0
    score[~chosen] = -np.inf
    candidate = score == score.max(axis=0)
    ballots = np.where(candidate, votes, -1)
    winner = np.argmax(ballots == ballots.max(axis=0), axis=0)  # first = smallest option
    # Posterior: options nobody chose (or only workers without skill) have evidence 0;
    # the J rows hold the chosen ones and J - m_t unchosen ones, Y - J more are unseen.
    log_p = np.bincount(flat, weights=evidence, minlength=J * T).reshape(J, T)
    top = log_p.max(axis=0)
    unseen = Y - J
    if unseen > 0:  # the unseen options' log-posterior 0 takes part in the max shift
        top = np.maximum(top, 0.0)
    total = np.exp(log_p - top).sum(axis=0)
    if unseen > 0:  # never 0 * exp(-top): exp(-top) overflows when every option is chosen
        total += unseen * np.exp(-top)
    columns = np.arange(T)
    return winner, np.exp(log_p[winner, columns] - top) / total


def _decide_sparse(
    task: np.ndarray,
    option: np.ndarray,
    weight: np.ndarray,
    evidence: np.ndarray,
    T: int,
    J: int,
    Y: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Winner and confidence per task from one cell per observed (task, option) pair."""
    # One cell per observed (task, option) pair, sorted by task then option.
    keys, cell_of = np.unique(task.astype(np.int64) * J + option, return_inverse=True)
    cell_task = keys // J
    cell_option = keys % J
    cell_weight = np.round(
        np.bincount(cell_of, weights=weight, minlength=len(keys)), _WEIGHT_DECIMALS
    )
    cell_votes = np.bincount(cell_of, minlength=len(keys))
    cell_evidence = np.bincount(cell_of, weights=evidence, minlength=len(keys))

    order = np.lexsort((cell_option, -cell_votes, -cell_weight, cell_task))
    first = np.ones(len(order), dtype=bool)
    first[1:] = cell_task[order][1:] != cell_task[order][:-1]
    winner = order[first]  # one cell per task, tasks ascending

    # Posterior: options nobody chose have evidence 0, chosen ones their sum. The max
    # shift includes that 0 only where some option is unchosen, and the unchosen term is
    # added only there (0 * exp(-top) is NaN when exp(-top) overflows).
    n_chosen = np.bincount(cell_task, minlength=T)
    unchosen = Y - n_chosen
    top = _segment_max(cell_evidence, cell_task)
    top = np.where(unchosen > 0, np.maximum(top, 0.0), top)
    shifted = np.exp(cell_evidence - top[cell_task])
    total = np.bincount(cell_task, weights=shifted, minlength=T)
    has_unchosen = unchosen > 0
    total[has_unchosen] += unchosen[has_unchosen] * np.exp(-top[has_unchosen])
    return cell_option[winner], np.exp(cell_evidence[winner] - top) / total


def _segment_max(values: np.ndarray, segment: np.ndarray) -> np.ndarray:
    """Maximum of ``values`` per segment id; ``segment`` is sorted and covers ``0..n-1``."""
    starts = np.flatnonzero(np.r_[True, segment[1:] != segment[:-1]])
    return np.maximum.reduceat(values, starts)
