"""explain_check_failure: one actionable sentence per kind of connection-check failure."""

from __future__ import annotations

import pytest

from hub.sdk import ConnectorError, explain_check_failure

BASE = "https://lms.example.edu"


@pytest.mark.parametrize(("exc", "expected"), [
    (ConnectorError("401 from /x", status=401), "Canvas at https://lms.example.edu rejected the access token (HTTP 401)"),
    (ConnectorError("403 from /x", status=403), "accepted the access token but refused the call (HTTP 403)"),
    (ConnectorError("404 from /api", status=404), "no Canvas API found at https://lms.example.edu (HTTP 404)"),
    (ConnectorError("could not reach the token endpoint https://idp.example.org/token: ConnectError", retryable=True),
     "could not reach the token endpoint https://idp.example.org/token: ConnectError"),
    (ConnectorError("ConnectError: [Errno -2] Name or service not known"), "cannot resolve the host of"),
    (ConnectorError("ConnectError: connection refused"), "cannot connect to https://lms.example.edu"),
    (ConnectorError("ReadTimeout: timed out"), "did not answer in time"),
    (ConnectorError("something else entirely"), "something else entirely"),
])
def test_each_failure_gets_its_sentence(exc: ConnectorError, expected: str) -> None:
    assert expected in explain_check_failure(exc, BASE, "Canvas", "access token")
