"""The public namespace is a contract: pinned here, each name existing and documented."""

from __future__ import annotations

import inspect
from pathlib import Path

import pandas_toloka

ROOT = Path(__file__).resolve().parents[1]

PUBLIC = {
    "__version__",
    "read_aggregated_solutions",
    "iter_aggregated_solutions",
    "open_aggregated_solutions",
    "AggregatedSolutions",
    "read_responses",
    "iter_responses",
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
    "OperationError",
    "OperationFailedError",
    "OperationTimeoutError",
    "OperationInterruptedError",
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
