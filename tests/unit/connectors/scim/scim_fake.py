"""A tiny SCIM 2.0 service provider on 127.0.0.1 serving RFC 7643 / RFC 7644 example payloads.

Used only to (re)record the cassettes (``--record-mode once``); replays never start it. Every
document is an excerpt of an example of the RFCs (see cassettes/README.md): fields may be left
out, none is added or changed.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

HOST, PORT = "127.0.0.1", 8931
BASE_URL = f"http://{HOST}:{PORT}/v2"
TOKEN = "scim-fake-token-8b1f27"

ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

#: RFC 7643 §8.3 (Enterprise User Extension Representation), excerpt
BJENSEN: dict[str, Any] = {
    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE],
    "id": "2819c223-7f76-453a-919d-413861904646",
    "externalId": "701984",
    "userName": "bjensen@example.com",
    "name": {"formatted": "Ms. Barbara J Jensen, III", "familyName": "Jensen", "givenName": "Barbara",
             "middleName": "Jane", "honorificPrefix": "Ms.", "honorificSuffix": "III"},
    "displayName": "Babs Jensen",
    "nickName": "Babs",
    "emails": [{"value": "bjensen@example.com", "type": "work", "primary": True},
               {"value": "babs@jensen.org", "type": "home"}],
    "phoneNumbers": [{"value": "555-555-5555", "type": "work"}, {"value": "555-555-4444", "type": "mobile"}],
    "userType": "Employee",
    "title": "Tour Guide",
    "preferredLanguage": "en-US",
    "locale": "en-US",
    "timezone": "America/Los_Angeles",
    "active": True,
    ENTERPRISE: {
        "employeeNumber": "701984", "costCenter": "4130", "organization": "Universal Studios",
        "division": "Theme Park", "department": "Tour Operations",
        "manager": {"value": "26118915-6090-4610-87e4-49d8ca9f808d",
                    "$ref": "../Users/26118915-6090-4610-87e4-49d8ca9f808d", "displayName": "John Smith"},
    },
    "meta": {"resourceType": "User", "created": "2010-01-23T04:56:22Z", "lastModified": "2011-05-13T04:42:34Z",
             "version": 'W/"3694e05e9dff591"',
             "location": "https://example.com/v2/Users/2819c223-7f76-453a-919d-413861904646"},
}

#: RFC 7644 §3.4.3 (the User of the query response example)
JSMITH: dict[str, Any] = {
    "id": "2819c223-7f76-413861904646",
    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
    "userName": "jsmith",
    "displayName": "Smith, James",
}

#: RFC 7643 §8.4 (Group Representation)
TOUR_GUIDES: dict[str, Any] = {
    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
    "id": "e9e30dba-f08f-4109-8486-d5c6a331660a",
    "displayName": "Tour Guides",
    "members": [
        {"value": "2819c223-7f76-453a-919d-413861904646",
         "$ref": "https://example.com/v2/Users/2819c223-7f76-453a-919d-413861904646", "display": "Babs Jensen"},
        {"value": "902c246b-6245-4190-8e05-00816be7344a",
         "$ref": "https://example.com/v2/Users/902c246b-6245-4190-8e05-00816be7344a", "display": "Mandy Pepperidge"},
    ],
    "meta": {"resourceType": "Group", "created": "2010-01-23T04:56:22Z", "lastModified": "2011-05-13T04:42:34Z",
             "version": 'W/"3694e05e9dff592"',
             "location": "https://example.com/v2/Groups/e9e30dba-f08f-4109-8486-d5c6a331660a"},
}

#: RFC 7643 §8.5 (Service Provider Configuration Representation), excerpt
SERVICE_PROVIDER_CONFIG: dict[str, Any] = {
    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
    "documentationUri": "http://example.com/help/scim.html",
    "patch": {"supported": True},
    "bulk": {"supported": True, "maxOperations": 1000, "maxPayloadSize": 1048576},
    "filter": {"supported": True, "maxResults": 200},
    "changePassword": {"supported": True},
    "sort": {"supported": True},
    "etag": {"supported": True},
    "authenticationSchemes": [{
        "name": "OAuth Bearer Token",
        "description": "Authentication scheme using the OAuth Bearer Token Standard",
        "specUri": "http://www.rfc-editor.org/info/rfc6750",
        "documentationUri": "http://example.com/help/oauth.html",
        "type": "oauthbearertoken",
        "primary": True,
    }],
}

RESOURCES = {"Users": [BJENSEN, JSMITH], "Groups": [TOUR_GUIDES]}
LIST = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass

    def _send(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/scim+json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            # RFC 7644 §3.12: errors use the Error schema
            return self._send(401, {"schemas": [ERROR], "detail": "Authorization failure", "status": "401"})
        path = url.path.removeprefix("/v2/")
        if path == "ServiceProviderConfig":
            return self._send(200, SERVICE_PROVIDER_CONFIG)
        if path in RESOURCES:
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            start = max(1, int(query.get("startIndex", 1)))
            count = int(query.get("count", 100))
            items = RESOURCES[path]
            page = items[start - 1 : start - 1 + count]
            return self._send(200, {"schemas": [LIST], "totalResults": len(items), "itemsPerPage": len(page),
                                    "startIndex": start, "Resources": page})
        return self._send(404, {"schemas": [ERROR], "detail": "Resource not found", "status": "404"})


class FakeScimServer:
    def __init__(self) -> None:
        self.httpd = ThreadingHTTPServer((HOST, PORT), _Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> FakeScimServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
