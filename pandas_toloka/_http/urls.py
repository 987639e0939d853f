"""The one builder of request paths: ids become single, escaped path segments.

Every path the client requests goes through :func:`api_path`, so an id such as
``"../operations"`` or ``"1/../../pools"`` is sent as one escaped segment of
the resource it was given for (and gets that resource's 404), never as a path
of its own; an empty id is refused before any request.
"""

from __future__ import annotations

import urllib.parse

from ..errors import InvalidArgumentError

__all__ = ["api_path", "check_api_path"]


def api_path(resource: str, *ids: object) -> str:
    """``/resource/id1/id2`` with every id escaped as one path segment.

    Parameters
    ----------
    resource : str
        A fixed path below the API root, e.g. ``"pools"`` or
        ``"aggregated-solutions"`` (written by the package, never by a user).
    *ids : str or int
        The ids, each checked and percent-escaped (``/`` included).

    Raises
    ------
    InvalidArgumentError
        If an id is not a str or an int, is empty or blank, is ``.`` or
        ``..``, or holds a control character.
    """
    segments = [resource.strip("/")]
    for value in ids:
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise InvalidArgumentError(f"An id must be a str or an int, got {value!r}.")
        text = str(value)
        if not text.strip():
            raise InvalidArgumentError(
                f"An id in the request for /{resource.strip('/')} is empty; pass the id shown "
                "in Toloka."
            )
        if text in (".", "..") or any(ord(c) < 32 or ord(c) == 127 for c in text):
            raise InvalidArgumentError(f"{text!r} is not a valid Toloka id.")
        segments.append(urllib.parse.quote(text, safe=""))
    return "/" + "/".join(segments)


def check_api_path(path: str) -> str:
    """A path below the API root as the transport sends it, or an error for anything else.

    A last guard under :func:`api_path`: no URL, query, fragment, dot segment
    or empty segment.
    """
    if not isinstance(path, str) or path.startswith(("http://", "https://")):
        raise InvalidArgumentError(
            f"Pass a path below the API root, e.g. '/pools/1', not {path!r}."
        )
    stripped = path.strip("/")
    segments = stripped.split("/")
    if (
        not stripped
        or "?" in path
        or "#" in path
        or any(s in ("", ".", "..") for s in segments)
        or any(ord(c) <= 32 or ord(c) == 127 for c in path)
    ):
        raise InvalidArgumentError(
            f"Request path {path!r} is not a plain path below the API root; build it with "
            "api_path(...)."
        )
    return "/" + stripped
