"""pandas-toloka: Toloka result aggregation into typed, Arrow-backed pandas DataFrames.

Importing the package registers the ``DataFrame.toloka`` accessor.
"""

from __future__ import annotations

from . import accessor as _accessor  # noqa: F401  (registers DataFrame.toloka)
from ._version import __version__
from .accessor import TolokaAccessor
from .client import AggregationType, Client, Environment
from .dataset import read_labeled_dataset
from .errors import (
    AccessDeniedError,
    AnswerTooLargeError,
    AuthenticationError,
    ConflictError,
    DroppedResponsesWarning,
    InvalidArgumentError,
    MissingAggregatesWarning,
    MissingColumnsError,
    MissingTokenError,
    NotFoundError,
    OperationError,
    OperationFailedError,
    OperationInterruptedError,
    OperationTimeoutError,
    OutputValueError,
    PagingError,
    PlottingUnavailableError,
    ProtocolError,
    RateLimitError,
    ServerError,
    StartInterruptedError,
    TolokaApiError,
    TolokaConnectionError,
    TolokaError,
    TolokaWarning,
    ValidationError,
)
from .reader import (
    AggregatedSolutions,
    iter_aggregated_solutions,
    open_aggregated_solutions,
    read_aggregated_solutions,
)
from .responses import Responses, iter_responses, open_responses, read_responses
from .results_export import read_assignments_export, read_assignments_tsv
from .tasks import Tasks, iter_tasks, open_tasks, read_tasks, read_user_skills

__all__ = [
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
    "MissingAggregatesWarning",
    "DroppedResponsesWarning",
    "PagingError",
    "AnswerTooLargeError",
    "ProtocolError",
    "PlottingUnavailableError",
    "AccessDeniedError",
    "AuthenticationError",
    "ConflictError",
    "InvalidArgumentError",
    "MissingColumnsError",
    "MissingTokenError",
    "NotFoundError",
    "OperationError",
    "OperationFailedError",
    "OperationInterruptedError",
    "StartInterruptedError",
    "OperationTimeoutError",
    "OutputValueError",
    "RateLimitError",
    "ServerError",
    "TolokaApiError",
    "TolokaConnectionError",
    "TolokaError",
    "TolokaWarning",
    "ValidationError",
]
