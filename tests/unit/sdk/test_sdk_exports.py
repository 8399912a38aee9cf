"""The SDK's public surface: every exported name exists, the HTTP names are documented, doc examples parse."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import hub.sdk
import hub.sdk.testkit

DOC = Path(__file__).parents[3] / "docs" / "sdk.md"
HTTP_NAMES = {
    "ApiKey",
    "AuthStrategy",
    "BasicAuth",
    "BearerToken",
    "Cursor",
    "CursorPaging",
    "HttpClient",
    "HttpConnector",
    "HttpEndpointConfig",
    "HttpSourceConfig",
    "LinkHeaderPaging",
    "OAuth2ClientCredentials",
    "OffsetLimitPaging",
    "Page",
    "PageNumberPaging",
    "PageRequest",
    "PagingStrategy",
    "RequestBudget",
    "ResponseInfo",
    "ResumptionTokenPaging",
    "RetryPolicy",
    "Timeouts",
    "parse_xml",
}


def test_exported_names_exist():
    for module in (hub.sdk, hub.sdk.testkit):
        missing = [name for name in module.__all__ if not hasattr(module, name)]
        assert not missing
    assert HTTP_NAMES <= set(hub.sdk.__all__)


def test_http_names_are_documented():
    text = DOC.read_text()
    assert not [name for name in HTTP_NAMES if f"`{name}" not in text and f"{name}(" not in text]


def test_doc_examples_are_valid_python_and_import_public_names_only():
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.DOTALL)
    assert blocks
    for block in blocks:
        tree = ast.parse(block)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "hub.sdk":
                assert {alias.name for alias in node.names} <= set(hub.sdk.__all__)
