"""The public namespace is a contract: pinned here, each name existing and documented."""

from __future__ import annotations

import dataclasses
import inspect
from pathlib import Path

import pandas_toloka
import pandas_toloka.aggregation
import pandas_toloka.server

ROOT = Path(__file__).resolve().parents[1]

PUBLIC = {
    "__version__",
    "read_aggregated_solutions",
    "iter_aggregated_solutions",
    "open_aggregated_solutions",
    "AggregatedSolutions",
    "read_responses",
    "iter_responses",
    "open_responses",
    "Responses",
    "read_assignments_tsv",
    "read_assignments_export",
    "read_tasks",
    "read_labeled_dataset",
    "iter_tasks",
    "open_tasks",
    "Tasks",
    "read_user_skills",
    "Client",
    "Environment",
    "AggregationType",
    "TolokaAccessor",
    "TolokaError",
    "TolokaWarning",
    "MissingAggregatesWarning",
    "DroppedResponsesWarning",
    "InvalidArgumentError",
    "MissingColumnsError",
    "MissingTokenError",
    "OutputValueError",
    "TolokaApiError",
    "ValidationError",
    "AuthenticationError",
    "AccessDeniedError",
    "NotFoundError",
    "ConflictError",
    "RateLimitError",
    "ServerError",
    "TolokaConnectionError",
    "ProtocolError",
    "PagingError",
    "AnswerTooLargeError",
    "OperationError",
    "OperationFailedError",
    "OperationTimeoutError",
    "OperationInterruptedError",
    "StartInterruptedError",
    "PlottingUnavailableError",
}


def _documentation() -> str:
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    pages += sorted((ROOT / "docs").rglob("*.rst"))
    return "\n".join(page.read_text(encoding="utf-8") for page in pages)


def test_all_is_pinned() -> None:
    assert len(pandas_toloka.__all__) == len(set(pandas_toloka.__all__))
    assert set(pandas_toloka.__all__) == PUBLIC


def test_every_public_name_exists_has_a_docstring_and_is_documented() -> None:
    docs = _documentation()
    for name in sorted(PUBLIC - {"__version__"}):
        obj = getattr(pandas_toloka, name)
        assert inspect.getdoc(obj), f"pandas_toloka.{name} has no docstring"
        assert name in docs, f"pandas_toloka.{name} is not mentioned in README.md or docs/"
    assert isinstance(pandas_toloka.__version__, str)


# -- keyword-only arguments after the first -------------------------------------------------

#: Public callables that may take more than one positional argument, and why.
#: Everything else takes its first argument positionally and the rest by keyword only.
POSITIONAL_ALLOWED = {
    # The original contract (the issue that introduced it): responses, then skills.
    "pandas_toloka.aggregation.weighted_dynamic_overlap": {"skills"},
    # Documented in DEVELOPERS.md: LocalTolokaServer(token=None, host=, port=, *, ...).
    "pandas_toloka.server.LocalTolokaServer.__init__": {"host", "port"},
    # Low-level HTTP helpers shaped like requests' get(url, params) / post(url, json).
    "pandas_toloka.Client.get_json": {"params"},
    "pandas_toloka.Client.get_bytes": {"params"},
    "pandas_toloka.Client.post_json": {"body"},
    # A request is a (method, path) pair, as in route(method, path).
    "pandas_toloka.server.Faults.take": {"path"},
    # Built by open_aggregated_solutions from the checked request, not by users.
    "pandas_toloka.AggregatedSolutions.__init__": {"request"},
    # Exceptions: their constructors mirror the API's error body (status, code, message[,
    # payload]) or what is missing and present, as Python's own exceptions take args.
    **{
        f"{module}.{name}.__init__": {"code", "message", "payload"}
        for module, names in (
            (
                "pandas_toloka",
                (
                    "TolokaApiError",
                    "ValidationError",
                    "AuthenticationError",
                    "AccessDeniedError",
                    "NotFoundError",
                    "ConflictError",
                    "RateLimitError",
                    "ServerError",
                ),
            ),
            ("pandas_toloka.server", ("ApiError",)),
        )
        for name in names
    },
    "pandas_toloka.MissingColumnsError.__init__": {"present"},
    # Documented in docs/algorithms.md: aggregation_report(result, truth, *, ...), two inputs.
    "pandas_toloka.aggregation.aggregation_report": {"truth"},
    # Fitted models: dataclasses built by the fit_* functions; users read their fields.
    **{
        f"pandas_toloka.aggregation.{name}.__init__": {
            field.name for field in dataclasses.fields(getattr(pandas_toloka.aggregation, name))
        }
        for name in ("AggregationModel", "DawidSkeneModel")
    },
}


def _public_callables() -> dict[str, object]:
    found: dict[str, object] = {}
    for module in (pandas_toloka, pandas_toloka.server, pandas_toloka.aggregation):
        for name in module.__all__:
            obj = getattr(module, name)
            qualified = f"{module.__name__}.{name}"
            if inspect.isfunction(obj):
                found[qualified] = obj
            elif inspect.isclass(obj):
                for attr, member in inspect.getmembers(obj, inspect.isfunction):
                    if (not attr.startswith("_") or attr == "__init__") and (
                        member.__module__ or ""
                    ).startswith("pandas_toloka"):
                        found[f"{qualified}.{attr}"] = member
    for attr, member in inspect.getmembers(pandas_toloka.TolokaAccessor, inspect.isfunction):
        if not attr.startswith("_"):
            found[f"DataFrame.toloka.{attr}"] = member
    return found


def test_arguments_after_the_first_are_keyword_only() -> None:
    offenders = {}
    callables = _public_callables()
    for name, function in callables.items():
        parameters = [
            p
            for p in inspect.signature(function).parameters.values()  # type: ignore[arg-type]
            if p.name not in ("self", "cls")
        ]
        positional = {p.name for p in parameters[1:] if p.kind is p.POSITIONAL_OR_KEYWORD}
        extra = positional - POSITIONAL_ALLOWED.get(name, set())
        if extra:
            offenders[name] = sorted(extra)
    assert offenders == {}, "make these keyword-only (after a `*`): " + repr(offenders)
    # The walk sees what it must: server, aggregation and accessor methods, and the allow-list.
    assert {
        "pandas_toloka.server.LocalTolokaServer.add_pool",
        "pandas_toloka.server.Faults.add",
        "pandas_toloka.server.Limits.__init__",
        "pandas_toloka.server.Network.__init__",
        "pandas_toloka.aggregation.dawid_skene",
        "DataFrame.toloka.aggregate",
    } <= set(callables)
    assert set(POSITIONAL_ALLOWED) <= set(callables), "a stale allow-list entry"
