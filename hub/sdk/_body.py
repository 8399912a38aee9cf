"""Reading a response body with a size cap, so one oversized answer cannot exhaust memory.

The client sends every request with ``stream=True`` and reads the body here, chunk by chunk: a
``Content-Length`` over the cap is refused before any byte of the body is read, and a body
without one (chunked, or compressed: the cap counts decoded bytes, so a gzip bomb stops too) is
read only until it passes the cap. What was read becomes the response's content, so
``response.content``, ``.text`` and ``.json()`` work as after ``httpx``'s own ``aread()``.
"""

from __future__ import annotations

import httpx

from hub.errors import ConnectorError

__all__ = ["DEFAULT_MAX_RESPONSE_BYTES", "ERROR_BODY_BYTES", "read_body", "too_large"]

#: the default cap of one response body (``HttpSourceConfig.max_response_bytes``)
DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024 * 1024
#: how much of an error response's body is kept (its first 200 characters go into the message)
ERROR_BODY_BYTES = 64 * 1024


def too_large(shown: str, limit: int, declared: int | None = None) -> ConnectorError:
    """The error of a response bigger than ``limit`` bytes (``declared``: its Content-Length)."""
    size = f"{declared} bytes (Content-Length)" if declared is not None else f"more than {limit} bytes"
    return ConnectorError(
        f"{shown}: the response is {size}, over the limit of {limit} bytes (max_response_bytes); "
        "ask the upstream for smaller pages, or raise the source's max_response_bytes",
        retryable=False,
    )


def _declared_length(response: httpx.Response) -> int | None:
    value = response.headers.get("content-length", "")
    return int(value) if value.isdigit() else None


async def read_body(response: httpx.Response, limit: int, shown: str, *, truncate: bool = False) -> None:
    """Read the body of a streamed ``response``, at most ``limit`` decoded bytes, and close it.

    Over the limit: with ``truncate`` the first ``limit`` bytes are kept (error bodies, only
    quoted in messages), else :func:`too_large` is raised before more is read. Transport errors
    while reading (``httpx.TransportError``) propagate for the caller's retry logic.
    """
    try:
        declared = _declared_length(response)
        if declared is not None and declared > limit and not truncate:
            raise too_large(shown, limit, declared)
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > limit:
                if not truncate:
                    raise too_large(shown, limit)
                chunks.append(chunk[: len(chunk) - (size - limit)])
                break
            chunks.append(chunk)
    finally:
        await response.aclose()
    # httpx keeps a read body in ``_content`` (what ``Response.aread`` sets); there is no public setter
    response._content = b"".join(chunks)
