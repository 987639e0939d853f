"""docs/reliability.md's resume recipe runs as written, and resumes instead of starting again."""

from __future__ import annotations

import pytest
from docs_snippets import code_blocks, run_block

from pandas_toloka.server import LocalTolokaServer

from .conftest import SPEC, TOKEN, label_responses

pytestmark = pytest.mark.reliability


def test_the_resume_recipe_resumes() -> None:
    (block,) = code_blocks("docs/reliability.md")
    server = LocalTolokaServer(token=TOKEN)
    server.add_pool("1001", responses=label_responses(9), output_spec=SPEC)
    with server:
        # the first read starts the aggregation, then hits the hourly quota on its first page
        server.faults.add(
            "rate_limit", method="GET", path="/api/v1/aggregated-solutions/", interval="HOUR"
        )
        namespace = run_block(
            block, source="docs/reliability.md", namespace={"url": server.url, "token": TOKEN}
        )
        assert len(server.operations.all()) == 1  # resumed, not started again
    assert len(namespace["df"]) == 9
    assert namespace["df"].attrs["toloka"]["operation_id"] == server.operations.all()[0].id
