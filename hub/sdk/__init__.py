"""The connector SDK: the one module third-party connectors import (with ``schemas`` and ``hub.hookimpl``)."""

from hub.errors import ConnectorError, RecordError, SourceDataError
from hub.hookimpl import hookimpl
from hub.sdk._auth import (
    ApiKey,
    AuthStrategy,
    BasicAuth,
    BearerToken,
    HttpEndpointConfig,
    HttpSourceConfig,
    OAuth2ClientCredentials,
)
from hub.sdk._connector import (
    CheckResult,
    Connector,
    ConnectorConfig,
    ConnectorKind,
    RawRecord,
    StreamSpec,
    StreamState,
    secret_fields,
)
from hub.sdk._diagnose import explain_check_failure
from hub.sdk._http import HttpClient, RequestBudget, RetryPolicy, Timeouts, parse_retry_after
from hub.sdk._http_connector import HttpConnector
from hub.sdk._paging import (
    Cursor,
    CursorPaging,
    LinkHeaderPaging,
    OffsetLimitPaging,
    Page,
    PageNumberPaging,
    PageRequest,
    PagingStrategy,
    ResponseInfo,
    ResumptionTokenPaging,
)
from hub.sdk._xml import parse_xml

__all__ = [
    "explain_check_failure",
    "CheckResult",
    "Connector",
    "ConnectorConfig",
    "ConnectorError",
    "ConnectorKind",
    "RawRecord",
    "RecordError",
    "SourceDataError",
    "StreamSpec",
    "StreamState",
    "hookimpl",
    "secret_fields",
    # HTTP part of the SDK
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
    "parse_retry_after",
    "parse_xml",
]
