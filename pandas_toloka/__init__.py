"""pandas-toloka: Toloka result aggregation into typed, Arrow-backed pandas DataFrames.

Importing the package registers the ``DataFrame.toloka`` accessor.
"""

from __future__ import annotations

from ._version import __version__
from .errors import (
    AccessDeniedError,
    AuthenticationError,
    ConflictError,
    InvalidArgumentError,
    MissingColumnsError,
    MissingTokenError,
    NotFoundError,
    OperationError,
    OperationFailedError,
    OperationInterruptedError,
    OperationTimeoutError,
    OutputValueError,
    RateLimitError,
    ServerError,
    TolokaApiError,
    TolokaConnectionError,
    TolokaError,
    ValidationError,
)

__all__ = [
    "__version__",
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
    "OperationTimeoutError",
    "OutputValueError",
    "RateLimitError",
    "ServerError",
    "TolokaApiError",
    "TolokaConnectionError",
    "TolokaError",
    "ValidationError",
]
