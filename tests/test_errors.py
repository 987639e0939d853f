"""The exception tree: every class pickles, deep-copies and crosses process boundaries."""

from __future__ import annotations

import concurrent.futures as cf
import copy
import inspect
import pickle
from typing import Any

import pytest

from pandas_toloka import errors
from pandas_toloka.errors import (
    NotFoundError,
    OperationInterruptedError,
    OperationTimeoutError,
    StartInterruptedError,
    TolokaError,
)

#: A value for each keyword the classes' constructors take.
SAMPLES: dict[str, Any] = {
    "message": "something went wrong",
    "missing": ["task_id"],
    "present": ["id", "answer"],
    "purpose": "for aggregation",
    "status": 404,
    "code": "DOES_NOT_EXIST",
    "request_id": "req-1",
    "payload": {"interval": "MIN"},
    "hint": "check the id",
    "retry_after": 2.5,
    "operation_id": "op-42",
    "details": {"reason": "bad pool"},
    "task_id": "t-7",
    "field": "result",
    "value": 17,
    "pool_id": "1001",
    "submitted_gte": "2026-01-02T03:04:05.000",
    "arguments": {"task_id": "task"},
    "source": "The results export",
}


def _classes() -> list[type[BaseException]]:
    return sorted(
        (
            obj
            for obj in vars(errors).values()
            if inspect.isclass(obj)
            and issubclass(obj, BaseException)
            and obj.__module__ == errors.__name__
            and not obj.__name__.startswith("_")
        ),
        key=lambda cls: cls.__name__,
    )


def _instance(cls: type[BaseException]) -> BaseException:
    """An instance built through the class's own constructor, every argument given."""
    params = inspect.signature(cls.__init__).parameters
    named = [p for name, p in params.items() if name != "self" and p.kind is not p.VAR_KEYWORD]
    if all(p.kind is p.VAR_POSITIONAL for p in named):  # BaseException's (*args)
        return cls(SAMPLES["message"])
    args = [SAMPLES[p.name] for p in named if p.kind is p.POSITIONAL_OR_KEYWORD]
    kwargs = {p.name: SAMPLES[p.name] for p in named if p.kind is p.KEYWORD_ONLY}
    return cls(*args, **kwargs)


def _same(a: BaseException, b: BaseException) -> None:
    assert type(a) is type(b)
    assert str(a) == str(b) and a.args == b.args
    assert vars(a) == vars(b)


def test_every_public_class_is_found() -> None:
    names = {cls.__name__ for cls in _classes()}
    assert names == set(errors.__all__) - {"error_class_for"}
    assert len(names) >= 20


@pytest.mark.parametrize("cls", _classes(), ids=lambda cls: cls.__name__)
def test_pickle_and_deepcopy_keep_type_message_and_attributes(cls: type[BaseException]) -> None:
    error = _instance(cls)
    error.operation_id = "op-7"  # type: ignore[attr-defined]  # as name_operation adds it
    for twin in (pickle.loads(pickle.dumps(error)), copy.deepcopy(error), copy.copy(error)):
        _same(error, twin)
        assert twin.operation_id == "op-7"  # type: ignore[attr-defined]


@pytest.mark.parametrize("cls", _classes(), ids=lambda cls: cls.__name__)
def test_constructor_attributes_survive(cls: type[BaseException]) -> None:
    error = _instance(cls)
    twin = pickle.loads(pickle.dumps(error))
    for name in ("operation_id", "status", "code", "retry_after", "task_id", "field", "missing"):
        if name in vars(error):
            assert getattr(twin, name) == getattr(error, name) == SAMPLES[name]


def test_every_error_is_a_toloka_error_but_ctrl_c() -> None:
    for cls in _classes():
        if issubclass(cls, Warning):
            assert issubclass(cls, errors.TolokaWarning)
        elif cls in (OperationInterruptedError, StartInterruptedError):
            assert issubclass(cls, KeyboardInterrupt) and not issubclass(cls, TolokaError)
        else:
            assert issubclass(cls, TolokaError), cls


def test_except_toloka_error_does_not_swallow_ctrl_c() -> None:
    with pytest.raises(KeyboardInterrupt):
        try:
            raise OperationInterruptedError("interrupted", operation_id="op-1")
        except TolokaError:  # pragma: no cover - the point is that this is not reached
            pytest.fail("Ctrl-C was caught as a TolokaError")


def test_operation_id_is_declared_on_the_base_class() -> None:
    assert TolokaError("x").operation_id is None
    assert errors.PagingError("x").operation_id is None
    assert issubclass(errors.PagingError, errors.ProtocolError)


def _raise(kind: str) -> None:
    if kind == "not_found":
        raise NotFoundError(404, "DOES_NOT_EXIST", "Pool '7' does not exist", request_id="r-9")
    raise OperationTimeoutError("did not finish", operation_id="op-3")


def test_errors_raised_in_a_worker_process_reach_the_parent() -> None:
    with cf.ProcessPoolExecutor(max_workers=1) as pool:
        with pytest.raises(NotFoundError) as not_found:
            pool.submit(_raise, "not_found").result(timeout=60)
        with pytest.raises(OperationTimeoutError) as timeout:
            pool.submit(_raise, "timeout").result(timeout=60)
    assert not_found.value.status == 404 and not_found.value.request_id == "r-9"
    assert not_found.value.code == "DOES_NOT_EXIST"
    assert timeout.value.operation_id == "op-3" and "did not finish" in str(timeout.value)
