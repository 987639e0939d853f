"""Decoders that parse every byte refuse any body that is not one whole page.

The tasks and aggregated-solutions pagers skip the transport's separate
whole-body check (``PagedResource.checks_whole``): their decoders must then
refuse, with a ``ValueError`` the transport retries (never rows), a page cut
short at any byte -- even exactly after an item, or inside a string holding
``]`` or the item separator -- and a page followed by anything. Checked here for
the fast path in small pieces, the fast path read whole, and the strict path.
"""

from __future__ import annotations

import json
from typing import Any

import pyarrow as pa
import pytest

from pandas_toloka import schema
from pandas_toloka._read import solutions, tasks
from pandas_toloka._read.pager import PagedResource
from pandas_toloka.errors import TolokaError
from pandas_toloka.schema import _wire

OUTPUTS = list(
    schema.parse_output_spec(
        {"result": {"type": "STRING", "allowed_values": ["cat", "dog"]}}
    ).values()
)
INPUTS = list(
    schema.parse_input_spec(
        {"image": {"type": "URL"}, "caption": {"type": "STRING"}, "width": {"type": "INTEGER"}}
    ).values()
)
JSON_INPUTS = [*INPUTS, *schema.parse_input_spec({"meta": {"type": "JSON"}}).values()]
TRICKY = 'a ]} ,{"id":"x"} \\" ,{"pool_id":'  # closers and separators inside a string


def _solutions_page() -> bytes:
    items = [
        {"pool_id": "p", "task_id": f"t{i}", "confidence": 0.5, "output_values": {"result": "cat"}}
        for i in range(3)
    ]
    items[1]["pool_id"] = TRICKY
    return json.dumps({"items": items, "has_more": True}, separators=(",", ":")).encode()


def _tasks_page() -> bytes:
    items: list[dict[str, Any]] = [
        {
            "id": f"t{i}",
            "pool_id": "p",
            "input_values": {"image": f"https://e.com/{i}", "caption": TRICKY, "width": i},
            "known_solutions": [{"output_values": {"result": "dog"}, "correctness_weight": 1}],
            "overlap": 1,
            "created": "2026-01-01T00:00:00",
        }
        for i in range(3)
    ]
    items[2]["input_values"]["meta"] = {"nested": [{"id": 1}, {"id": 2}]}
    return json.dumps({"items": items, "has_more": False}, separators=(",", ":")).encode()


def _decoders() -> list[tuple[str, bytes, Any]]:
    cols = tasks.join_columns(INPUTS, OUTPUTS)
    return [
        ("solutions", _solutions_page(), lambda b: solutions.decode_solutions_page(b, OUTPUTS)),
        (
            "tasks",
            _tasks_page(),
            lambda b: tasks.decode_tasks(b, inputs=INPUTS, outputs=OUTPUTS, columns=cols),
        ),
        (
            "tasks-all",
            _tasks_page(),
            lambda b: tasks.decode_tasks(b, inputs=INPUTS, outputs=OUTPUTS),
        ),
        (  # a JSON input: the strict path only
            "tasks-strict",
            _tasks_page(),
            lambda b: tasks.decode_tasks(b, inputs=JSON_INPUTS, outputs=OUTPUTS),
        ),
    ]


@pytest.mark.parametrize("piece", [1, 1 << 19], ids=["small-pieces", "one-piece"])
@pytest.mark.parametrize("case", range(4), ids=["solutions", "tasks", "tasks-all", "tasks-strict"])
def test_every_cut_and_any_trailer_is_refused(
    case: int, piece: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_wire, "PIECE_BYTES", piece)
    _, body, decode = _decoders()[case]
    whole = decode(body)  # the whole page decodes: three rows
    rows = whole[0] if isinstance(whole, tuple) else whole.rows
    assert rows.num_rows == 3
    assert decode(b" \n" + body + b"\r\n")  # whitespace around the object is JSON
    for cut in range(len(body)):
        with pytest.raises(ValueError) as info:
            decode(body[:cut])
        assert not isinstance(info.value, TolokaError), cut  # retried, not final
    for trailer in (b"}", b"]", b",", b"x", b"{}", b' {"items":[],"has_more":false}'):
        with pytest.raises(ValueError):
            decode(body + trailer)


def test_the_resources_that_skip_the_whole_body_check() -> None:
    # only those whose decoders are proven above; any other keeps the transport's check
    from pandas_toloka._read import assignments, operation_list, user_skills

    flags = {
        resource.name: resource.checks_whole
        for module in (solutions, tasks, assignments, operation_list, user_skills)
        for resource in vars(module).values()
        if isinstance(resource, PagedResource)
    }
    assert flags.pop("aggregated solutions") and flags.pop("tasks")
    assert flags and not any(flags.values())


def test_a_page_of_whole_items_in_pieces_equals_the_page_read_whole(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    item_type = schema.solution_item_type(OUTPUTS)
    assert item_type is not None
    body = _solutions_page()
    whole, more = _wire._read_whole(body, item_type)
    monkeypatch.setattr(_wire, "PIECE_BYTES", 1)
    pieces, has_more = _wire.read_page(body, item_type)
    assert has_more and more and len(pieces) == 3
    assert pa.concat_arrays(pieces).equals(pa.concat_arrays(whole))


def test_the_pagers_read_tasks_and_solutions_without_the_separate_check(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import pandas as pd

    import pandas_toloka as ptk
    from pandas_toloka._http import payloads
    from pandas_toloka.server import LocalTolokaServer

    ids = [f"t{i:03d}" for i in range(30)]
    srv = LocalTolokaServer(token="whole-token")
    srv.add_pool(
        "9",
        responses=pd.DataFrame({"task_id": ids, "worker_id": "w", "result": "cat"}),
        output_spec={"result": {"type": "STRING", "allowed_values": ["cat", "dog"]}},
        input_spec={"image": {"type": "URL"}},
        tasks=pd.DataFrame({"task_id": ids, "image": [f"https://e.com/{i}" for i in ids]}),
    )
    checked: list[int] = []
    real = payloads.complete_json_object
    monkeypatch.setattr(
        payloads, "complete_json_object", lambda body: checked.append(len(body)) or real(body)
    )
    with srv:
        kwargs: dict[str, Any] = {"url": srv.url, "token": "whole-token"}
        frame = ptk.read_aggregated_solutions("9", inputs=True, page_size=7, **kwargs)
        assert len(frame) == 30 and frame["image"].notna().all()
        assert ptk.read_tasks("9", page_size=7, **kwargs)["task_id"].tolist() == ids
        assert not checked  # the decoders parse every byte instead
        ptk.read_responses("9", page_size=7, **kwargs)  # assignments keep the check
        assert checked
