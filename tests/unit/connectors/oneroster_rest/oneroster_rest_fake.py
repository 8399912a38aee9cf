"""A fake OneRoster 1.1 / 1.2 rostering provider on loopback (to record cassettes).

Payloads follow the 1EdTech JSON bindings: OneRoster v1.1 REST binding (IMS Final Release,
"OneRoster Service REST Binding" / oneroster-v1p1 JSON schemas: ``/ims/oneroster/v1p1``, 1.1
users with ``role`` + ``orgs``, ``enabledUser``/``primary``/demographic booleans as the strings
``"true"``/``"false"``) and OneRoster v1.2 Rostering REST binding (``/ims/oneroster/rostering/v1p2``,
users with ``roles`` of ``{roleType, role, org}``, GUIDRefs ``{href, sourcedId, type}``).
Collections answer an envelope ``{"<collection>": [...]}``; paging is ``limit``/``offset`` with
``X-Total-Count`` (sent by the 1.2 provider, left out by the 1.1 one, as the spec allows);
``filter=dateLastModified>='...'`` and ``sort``/``orderBy`` as in the spec's filtering and sorting
sections. Auth: OAuth 2.0 client credentials (RFC 6749 4.4) at ``/oauth/token``; errors as the
1.2 binding's ``imsx_StatusInfo``. Some quirks real providers have are on purpose: a schoolYear
sent as a number, a class without ``periods``, ``grades`` left out.

Only used when recording (``pytest --record-mode=all``).
"""

from __future__ import annotations

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

PORT = 8743
BASE_URL = f"http://127.0.0.1:{PORT}"
TOKEN_URL = f"{BASE_URL}/oauth/token"
CLIENT_ID = "fediflow-client"
CLIENT_SECRET = "oneroster-secret-5678"
ACCESS_TOKEN = "or-access-token-abcdef"


def ref(kind: str, sid: str, version: str) -> dict[str, str]:
    collection = {"org": "orgs", "academicSession": "academicSessions", "course": "courses", "class": "classes",
                  "user": "users"}[kind]
    prefix = "ims/oneroster/v1p1" if version == "1.1" else "ims/oneroster/rostering/v1p2"
    return {"href": f"{BASE_URL}/{prefix}/{collection}/{sid}", "sourcedId": sid, "type": kind}


def dataset(version: str) -> dict[str, list[dict[str, Any]]]:
    r = lambda kind, sid: ref(kind, sid, version)  # noqa: E731
    base = {"status": "active", "metadata": {}}
    orgs = [
        {**base, "sourcedId": "org-d1", "dateLastModified": "2024-08-01T10:00:00.000Z", "name": "Springfield District",
         "type": "district", "identifier": "SD-1", "children": [r("org", "org-s1")]},
        {**base, "sourcedId": "org-s1", "dateLastModified": "2024-08-02T10:00:00.000Z", "name": "Springfield Elementary",
         "type": "school", "identifier": "0042", "parent": r("org", "org-d1")},
    ]
    sessions = [
        {**base, "sourcedId": "as-2025", "dateLastModified": "2024-08-01T10:00:00.000Z", "title": "2024-2025",
         "startDate": "2024-09-01", "endDate": "2025-06-30", "type": "schoolYear", "schoolYear": 2025,
         "children": [r("academicSession", "as-t1")]},
        {**base, "sourcedId": "as-t1", "dateLastModified": "2024-08-03T10:00:00.000Z", "title": "Fall 2024",
         "startDate": "2024-09-01", "endDate": "2025-01-31", "type": "term", "schoolYear": "2025",
         "parent": r("academicSession", "as-2025")},
    ]
    courses = [
        {**base, "sourcedId": "crs-math", "dateLastModified": "2024-08-04T10:00:00.000Z", "title": "Mathematics 3",
         "schoolYear": r("academicSession", "as-2025"), "courseCode": "MATH3", "grades": ["03"],
         "subjects": ["Mathematics"], "org": r("org", "org-s1"), "subjectCodes": []},
    ]
    classes = [
        {**base, "sourcedId": "cls-math-a", "dateLastModified": "2024-08-05T10:00:00.000Z", "title": "Math 3 A",
         "classCode": "MATH3-A", "classType": "scheduled", "location": "Room 12", "grades": ["03"],
         "subjects": ["Mathematics"], "course": r("course", "crs-math"), "school": r("org", "org-s1"),
         "terms": [r("academicSession", "as-t1")]},
    ]
    if version == "1.1":
        users = [
            {**base, "sourcedId": "usr-t1", "dateLastModified": "2024-08-06T10:00:00.000Z", "username": "ekrabappel",
             "userIds": [{"type": "LDAP", "identifier": "ekrabappel"}], "enabledUser": "true", "givenName": "Edna",
             "familyName": "Krabappel", "middleName": "", "role": "teacher", "identifier": "T-100",
             "email": "ekrabappel@springfield.example", "sms": "", "phone": "",
             "orgs": [r("org", "org-s1"), r("org", "org-d1")], "password": ""},
            {**base, "sourcedId": "usr-s1", "dateLastModified": "2024-08-07T10:00:00.000Z", "username": "bsimpson",
             "userIds": [], "enabledUser": "true", "givenName": "Bart", "familyName": "Simpson", "middleName": "Jo",
             "role": "student", "identifier": "S-200", "email": "", "sms": "", "phone": "",
             "agents": [], "orgs": [r("org", "org-s1")], "grades": ["03"], "password": ""},
            {**base, "status": "tobedeleted", "sourcedId": "usr-a1", "dateLastModified": "2024-08-08T10:00:00.000Z",
             "username": "skinner", "enabledUser": "false", "givenName": "Seymour", "familyName": "Skinner",
             "role": "administrator", "identifier": "A-1", "email": "skinner@springfield.example",
             "orgs": [r("org", "org-s1")]},
        ]
    else:
        users = [
            {**base, "sourcedId": "usr-t1", "dateLastModified": "2024-08-06T10:00:00.000Z",
             "userMasterIdentifier": "T-100", "username": "ekrabappel",
             "userIds": [{"type": "LDAP", "identifier": "ekrabappel"}], "enabledUser": "true", "givenName": "Edna",
             "familyName": "Krabappel", "preferredFirstName": "Edna",
             "roles": [{"roleType": "primary", "role": "teacher", "org": r("org", "org-s1")},
                       {"roleType": "secondary", "role": "teacher", "org": r("org", "org-d1")}],
             "primaryOrg": r("org", "org-s1"), "identifier": "T-100", "email": "ekrabappel@springfield.example"},
            {**base, "sourcedId": "usr-s1", "dateLastModified": "2024-08-07T10:00:00.000Z",
             "username": "bsimpson", "enabledUser": "true", "givenName": "Bart", "familyName": "Simpson",
             "roles": [{"roleType": "primary", "role": "student", "org": r("org", "org-s1"), "beginDate": "2024-09-01"}],
             "identifier": "S-200", "grades": ["03"], "agents": [r("user", "usr-g1")]},
            {**base, "status": "tobedeleted", "sourcedId": "usr-a1", "dateLastModified": "2024-08-08T10:00:00.000Z",
             "username": "skinner", "enabledUser": "false", "givenName": "Seymour", "familyName": "Skinner",
             "roles": [{"roleType": "primary", "role": "principal", "org": r("org", "org-s1")}]},
        ]
    enrollments = [
        {**base, "sourcedId": "enr-1", "dateLastModified": "2024-08-09T10:00:00.000Z", "user": r("user", "usr-t1"),
         "class": r("class", "cls-math-a"), "school": r("org", "org-s1"), "role": "teacher", "primary": "true"},
        {**base, "sourcedId": "enr-2", "dateLastModified": "2024-08-10T10:00:00.000Z", "user": r("user", "usr-s1"),
         "class": r("class", "cls-math-a"), "school": r("org", "org-s1"), "role": "student", "primary": "false",
         "beginDate": "2024-09-01", "endDate": "2025-01-31"},
    ]
    demographics = [
        {**base, "sourcedId": "usr-s1", "dateLastModified": "2024-08-07T10:00:00.000Z", "birthDate": "2015-04-01",
         "sex": "male", "americanIndianOrAlaskaNative": "false", "asian": "false", "blackOrAfricanAmerican": "false",
         "nativeHawaiianOrOtherPacificIslander": "false", "white": "true", "demographicRaceTwoOrMoreRaces": "false",
         "hispanicOrLatinoEthnicity": "false", "countryOfBirthCode": "US", "stateOfBirthAbbreviation": "OR",
         "cityOfBirth": "Springfield", "publicSchoolResidenceStatus": "01652"},
    ]
    return {"orgs": orgs, "academicSessions": sessions, "courses": courses, "classes": classes, "users": users,
            "enrollments": enrollments, "demographics": demographics}


def status_info(major_minor: str, description: str) -> dict[str, Any]:
    return {
        "imsx_codeMajor": "failure",
        "imsx_severity": "error",
        "imsx_description": description,
        "imsx_CodeMinor": {"imsx_codeMinorField": [{"imsx_codeMinorFieldName": "TargetEndSystem",
                                                     "imsx_codeMinorFieldValue": major_minor}]},
    }


class FakeOneRoster:
    """``with FakeOneRoster() as provider:``; ``throttle`` answers the next data request 429 + Retry-After."""

    def __init__(self) -> None:
        self.throttle = 0
        self.retry_after = "7"
        self.scopes_allowed = True
        self.tokens_issued = 0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _reply(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                for name, value in {"Content-Type": "application/json", **(headers or {})}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                form = dict(parse_qsl(self.rfile.read(length).decode()))
                expected = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
                if self.path != "/oauth/token" or form.get("grant_type") != "client_credentials":
                    return self._reply(400, {"error": "unsupported_grant_type"})
                if self.headers.get("Authorization") != expected:
                    return self._reply(401, {"error": "invalid_client"}, {"WWW-Authenticate": 'Basic realm="oauth"'})
                owner.tokens_issued += 1
                self._reply(200, {"access_token": ACCESS_TOKEN, "token_type": "bearer", "expires_in": 3600,
                                  "scope": form.get("scope", "")}, {"Cache-Control": "no-store"})

            def do_GET(self) -> None:  # noqa: N802
                self._reply(*owner.answer(self.path, self.headers.get("Authorization")))

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", PORT), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> FakeOneRoster:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def answer(self, raw: str, authorization: str | None) -> tuple[int, Any, dict[str, str]]:
        parts = urlsplit(raw)
        if authorization != f"Bearer {ACCESS_TOKEN}":
            return 401, status_info("unauthorisedrequest", "The request was not correctly authorised."), {}
        if not self.scopes_allowed:
            return 403, status_info("forbidden", "This client is not authorised for this scope."), {}
        if self.throttle:
            self.throttle -= 1
            return 429, status_info("server_busy", "Too many requests."), {"Retry-After": self.retry_after}
        for version, prefix in (("1.1", "/ims/oneroster/v1p1/"), ("1.2", "/ims/oneroster/rostering/v1p2/")):  # noqa: B007
            if parts.path.startswith(prefix):
                collection = parts.path[len(prefix):]
                break
        else:
            return 404, status_info("unknownobject", "Unknown endpoint."), {}
        records = dataset(version).get(collection)
        if records is None:
            return 404, status_info("unknownobject", "Unknown endpoint."), {}
        query = dict(parse_qsl(parts.query))
        flt = query.get("filter", "")
        if flt.startswith("dateLastModified>='") and flt.endswith("'"):
            since = flt[len("dateLastModified>='"):-1]
            records = [rec for rec in records if rec["dateLastModified"] >= since]
        if query.get("sort") == "dateLastModified":
            records = sorted(records, key=lambda rec: rec["dateLastModified"], reverse=query.get("orderBy") == "desc")
        offset, limit = int(query.get("offset", 0)), int(query.get("limit", 100))
        headers = {"X-Total-Count": str(len(records))} if version == "1.2" else {}
        return 200, {collection: records[offset : offset + limit]}, headers
