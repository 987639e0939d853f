"""The hint an API error carries fits the server it came from."""

from __future__ import annotations

import pytest

import pandas_toloka as ptk
from pandas_toloka._http import api_errors
from pandas_toloka.client import Client
from pandas_toloka.errors import NotFoundError
from pandas_toloka.server import LocalTolokaServer
from pandas_toloka.server.demo import DemoData


@pytest.mark.parametrize(
    "url", ["https://toloka.dev", "https://sandbox.toloka.dev", "https://toloka.yandex.com"]
)
def test_not_found_on_toloka_names_the_environments(url: str) -> None:
    hint = api_errors.error_hint(NotFoundError, "DOES_NOT_EXIST", None, None, url)
    assert hint is not None and "production and sandbox ids differ" in hint


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8000", "https://toloka.dev.example.com", "not a url"]
)
def test_not_found_elsewhere_does_not_talk_of_sandbox(url: str) -> None:
    hint = api_errors.error_hint(NotFoundError, "DOES_NOT_EXIST", None, None, url)
    assert hint is not None and "sandbox" not in hint
    assert "not a Toloka environment" in hint


def test_unknown_pool_on_the_bundled_server(
    demo_served: tuple[LocalTolokaServer, Client, DemoData],
) -> None:
    _, client, _ = demo_served
    with pytest.raises(NotFoundError) as info:
        ptk.read_aggregated_solutions("999999", fields="result", client=client)
    assert "sandbox" not in str(info.value)
    assert "not a Toloka environment" in str(info.value)
