"""A pool's served specs, resolved for the readers' ``inputs=`` before any work.

Every front that takes ``inputs=`` -- :func:`~pandas_toloka.read_aggregated_solutions`,
:func:`~pandas_toloka.read_responses`, :func:`~pandas_toloka.read_labeled_dataset`,
the ``export`` command and the Dask readers' drivers -- asks the pool's project
for its specs here, so a name the input spec lacks gets the one message of
:func:`~pandas_toloka._read.args.resolve_inputs`, raised before an aggregation
starts or an assignment is read.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..client import Client
from ..schema import InputField, OutputField, parse_input_spec, parse_output_spec
from .args import resolve_inputs

__all__ = ["pool_inputs", "pool_outputs_and_inputs"]


def pool_inputs(client: Client, pool_id: str, wanted: list[str] | bool) -> list[InputField]:
    """The pool's input fields ``inputs=`` asks for (``wanted``: :func:`input_names`' answer).

    Raises
    ------
    InvalidArgumentError
        For a name the pool's input spec lacks, naming its fields.
    """
    spec, _ = client.get_task_spec(pool_id)
    return resolve_inputs(wanted, parse_input_spec(spec), pool_id)


def pool_outputs_and_inputs(
    client: Client,
    pool_id: str,
    output_spec: Mapping[str, Any] | None,
    input_spec: Mapping[str, Any] | None,
    wanted: list[str] | bool,
) -> tuple[list[OutputField], list[InputField]]:
    """The output fields, and the input fields ``inputs=`` asks for; a spec given is used as
    it is, the others are read (one request for both when inputs are wanted)."""
    if wanted is not False and (input_spec is None or output_spec is None):
        served_inputs, served_outputs = client.get_task_spec(pool_id)
        input_spec = served_inputs if input_spec is None else input_spec
        output_spec = served_outputs if output_spec is None else output_spec
    spec = client.get_output_spec(pool_id) if output_spec is None else output_spec
    fields = list(parse_output_spec(spec).values())
    return fields, resolve_inputs(wanted, parse_input_spec(input_spec), pool_id)
