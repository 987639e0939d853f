"""The single source of truth for types: Toloka input and output specs → Arrow → pandas.

A project's ``task_spec.output_spec`` declares each output field's type (and its
``input_spec`` each input field's: the same types plus ``ARRAY_JSON``, as
:class:`InputField`). This module turns that declaration into an :class:`OutputField`, maps it to one
Arrow type (:data:`ARROW_TYPES` and :meth:`OutputField.arrow_type`), converts
JSON values strictly into Arrow arrays of that type (and whole pages of JSON
bytes, fast, with the strict conversion as the reference: ``_wire``), and converts Arrow data to
pandas for either ``dtype_backend``. The reader, the accessor and the bundled
server all use it; nothing else in the package maps types. It also defines what
``df.attrs["toloka"]`` holds for each kind of frame (:func:`make_provenance`).
"""

from __future__ import annotations

from ._fields import (
    AGGREGATED_META_COLUMNS,
    ARROW_TYPES,
    GOLDEN_PREFIX,
    INPUT_ARROW_TYPES,
    INPUT_VALUES_PREFIX,
    OUTPUT_VALUES_PREFIX,
    RESPONSES_META_COLUMNS,
    SUBMITTED_TYPE,
    TASKS_META_COLUMNS,
    InputField,
    OutputField,
    aggregated_schema,
    default_aggregation_fields,
    input_column_name,
    known_solutions_type,
    label_space,
    options_count,
    parse_input_spec,
    parse_output_spec,
    responses_schema,
    result_column_name,
    tasks_schema,
)
from ._ids import id_array
from ._pandas import (
    DtypeBackend,
    check_dtype_backend,
    empty_frame,
    pages_to_pandas,
    to_pandas,
    type_mapping_table,
)
from ._provenance import (
    ATTRS_KEY,
    KINDS,
    AggregatedSolutionsProvenance,
    AgreementProvenance,
    JoinedAggregatesProvenance,
    LocalAggregationProvenance,
    Provenance,
    ProvenanceKind,
    RankingProvenance,
    ResponsesProvenance,
    ResultsExportProvenance,
    TasksProvenance,
    WorkerQualityProvenance,
    get_provenance,
    make_provenance,
)
from ._text import infer_text_type, text_to_arrow, text_to_timestamps
from ._values import aggregated_page_to_batch, field_to_arrow
from ._wire import (
    WireMismatch,
    output_values_type,
    read_page,
    solution_item_type,
    solutions_to_batch,
    struct_fields,
    typed_column,
    wire_type,
)

__all__ = [
    "AGGREGATED_META_COLUMNS",
    "ARROW_TYPES",
    "ATTRS_KEY",
    "GOLDEN_PREFIX",
    "INPUT_ARROW_TYPES",
    "INPUT_VALUES_PREFIX",
    "TASKS_META_COLUMNS",
    "input_column_name",
    "known_solutions_type",
    "tasks_schema",
    "InputField",
    "DtypeBackend",
    "KINDS",
    "AgreementProvenance",
    "AggregatedSolutionsProvenance",
    "JoinedAggregatesProvenance",
    "LocalAggregationProvenance",
    "Provenance",
    "ProvenanceKind",
    "RankingProvenance",
    "ResponsesProvenance",
    "ResultsExportProvenance",
    "TasksProvenance",
    "WorkerQualityProvenance",
    "get_provenance",
    "make_provenance",
    "OUTPUT_VALUES_PREFIX",
    "RESPONSES_META_COLUMNS",
    "SUBMITTED_TYPE",
    "OutputField",
    "WireMismatch",
    "aggregated_page_to_batch",
    "aggregated_schema",
    "check_dtype_backend",
    "default_aggregation_fields",
    "empty_frame",
    "field_to_arrow",
    "infer_text_type",
    "text_to_timestamps",
    "id_array",
    "label_space",
    "options_count",
    "output_values_type",
    "pages_to_pandas",
    "parse_input_spec",
    "parse_output_spec",
    "read_page",
    "responses_schema",
    "result_column_name",
    "solution_item_type",
    "solutions_to_batch",
    "struct_fields",
    "text_to_arrow",
    "to_pandas",
    "type_mapping_table",
    "typed_column",
    "wire_type",
]
