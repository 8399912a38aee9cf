"""A fake Canvas LMS on loopback that serves the documented example payloads (used to record cassettes).

Every object below copies the shape, field names and example values of the Canvas REST API
documentation (``@model`` blocks of the Canvas source, rendered at
https://canvas.instructure.com/doc/api/): Account (accounts.html#Account), User (users.html#User),
Course (courses.html#Course), Section (sections.html#Section), Enrollment
(enrollments.html#Enrollment); paging as in pagination.html (``Link`` with rel current, next,
first, last), throttling as in file.throttling.html (``X-Request-Cost``,
``X-Rate-Limit-Remaining``, ``403 Forbidden (Rate Limit Exceeded)``); 401 and 404 bodies as
Canvas answers them (``{"errors": [{"message": ...}]}``). A few ids and names differ from the
docs' single example so that listings have more than one record. No field is invented.

Only used when recording (``pytest --record-mode=all``): replaying needs no server.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

PORT = 8741
BASE_URL = f"http://127.0.0.1:{PORT}"
TOKEN = "canvas-test-token-1234"

ACCOUNTS = {
    1: {
        "id": 1,
        "name": "Springfield School District",
        "uuid": "WvAHhY5FINzq5IyRIJybGeiXyFkG3SqHUPb7jZY5",
        "parent_account_id": None,
        "root_account_id": None,
        "default_storage_quota_mb": 500,
        "default_user_storage_quota_mb": 50,
        "default_group_storage_quota_mb": 50,
        "default_time_zone": "America/Denver",
        "sis_account_id": "123xyz",
        "integration_id": "123xyz",
        "sis_import_id": 12,
        "lti_guid": "123xyz",
        "workflow_state": "active",
    },
    2: {
        "id": 2,
        "name": "Springfield Elementary",
        "uuid": "Zr3pD1xGqL8vN2bQ7sYw4kTj9uHc6mEa5fVo0iRn",
        "parent_account_id": 1,
        "root_account_id": 1,
        "default_storage_quota_mb": 500,
        "default_user_storage_quota_mb": 50,
        "default_group_storage_quota_mb": 50,
        "default_time_zone": "America/Denver",
        "sis_account_id": "SE-002",
        "integration_id": None,
        "sis_import_id": 12,
        "lti_guid": "456abc",
        "workflow_state": "active",
    },
}

USERS = [
    {
        "id": 2,
        "name": "Sheldon Cooper",
        "sortable_name": "Cooper, Sheldon",
        "last_name": "Cooper",
        "first_name": "Sheldon",
        "short_name": "Shelly",
        "sis_user_id": "SHEL93921",
        "integration_id": "ABC59802",
        "login_id": "sheldon@caltech.example.com",
        "email": "sheldon@caltech.example.com",
    },
    {
        "id": 3,
        "name": "Amy Farrah Fowler",
        "sortable_name": "Fowler, Amy Farrah",
        "short_name": "Amy Farrah Fowler",
        "sis_user_id": "AMY10442",
        "integration_id": None,
        "login_id": "amy@caltech.example.com",
        "email": "amy@caltech.example.com",
    },
    {
        "id": 4,
        "name": "Leonard Hofstadter",
        "sortable_name": "Hofstadter, Leonard",
        "short_name": "Leonard",
        "login_id": "leonard",
    },
]

COURSES = [
    {
        "id": 370663,
        "sis_course_id": None,
        "uuid": "WvAHhY5FINzq5IyRIJybGeiXyFkG3SqHUPb7jZY5",
        "integration_id": None,
        "sis_import_id": 34,
        "name": "InstructureCon 2012",
        "course_code": "INSTCON12",
        "workflow_state": "available",
        "account_id": 2,
        "root_account_id": 1,
        "enrollment_term_id": 34,
        "grading_standard_id": 25,
        "created_at": "2012-05-01T00:00:00-06:00",
        "start_at": "2012-06-01T00:00:00-06:00",
        "end_at": "2012-09-01T00:00:00-06:00",
        "locale": "en",
        "default_view": "feed",
        "is_public": True,
        "is_public_to_auth_users": True,
        "public_syllabus": True,
        "public_syllabus_to_auth": True,
        "storage_quota_mb": 5,
        "hide_final_grades": False,
        "apply_assignment_group_weights": True,
        "restrict_enrollments_to_course_dates": False,
        "time_zone": "America/Denver",
        "blueprint": False,
        "license": "Creative Commons",
    },
    {
        "id": 7,
        "sis_course_id": "7",
        "uuid": "b1Lk8sQ2wE4rT6yU8iO0pA2sD4fG6hJ8kL0zX2cV",
        "integration_id": None,
        "sis_import_id": 34,
        "name": "Physics 101",
        "course_code": "PHYS101",
        "workflow_state": "unpublished",
        "account_id": 2,
        "root_account_id": 1,
        "enrollment_term_id": 34,
        "grading_standard_id": None,
        "created_at": "2012-05-01T00:00:00-06:00",
        "start_at": None,
        "end_at": None,
        "locale": "en",
        "default_view": "modules",
        "is_public": False,
        "is_public_to_auth_users": False,
        "public_syllabus": False,
        "public_syllabus_to_auth": False,
        "storage_quota_mb": 5,
        "hide_final_grades": False,
        "apply_assignment_group_weights": False,
        "restrict_enrollments_to_course_dates": False,
        "time_zone": "America/Denver",
        "blueprint": False,
        "license": "private",
    },
]

SECTIONS = {
    370663: [
        {
            "id": 1,
            "name": "Section A",
            "sis_section_id": "s34643",
            "integration_id": "3452342345",
            "sis_import_id": 47,
            "course_id": 370663,
            "sis_course_id": None,
            "start_at": "2012-06-01T00:00:00-06:00",
            "end_at": None,
            "restrict_enrollments_to_section_dates": None,
            "nonxlist_course_id": None,
        }
    ],
    7: [
        {
            "id": 8,
            "name": "Physics 101",
            "sis_section_id": None,
            "integration_id": None,
            "sis_import_id": None,
            "course_id": 7,
            "sis_course_id": "7",
            "start_at": None,
            "end_at": None,
            "restrict_enrollments_to_section_dates": None,
            "nonxlist_course_id": None,
        }
    ],
}


def _enrollment(eid: int, course: int, section: int, user: int, kind: str, name: str, sortable: str) -> dict[str, Any]:
    return {
        "id": eid,
        "course_id": course,
        "course_section_id": section,
        "enrollment_state": "active",
        "limit_privileges_to_course_section": True,
        "root_account_id": 1,
        "type": kind,
        "user_id": user,
        "associated_user_id": None,
        "role": kind,
        "role_id": {"StudentEnrollment": 3, "TeacherEnrollment": 4, "TaEnrollment": 5}[kind],
        "created_at": "2012-04-18T23:08:51Z",
        "updated_at": "2012-04-18T23:08:51Z",
        "start_at": "2012-04-18T23:08:51Z",
        "end_at": None,
        "last_activity_at": "2012-04-18T23:08:51Z",
        "last_attended_at": None,
        "total_activity_time": 260,
        "html_url": f"{BASE_URL}/courses/{course}/users/{user}",
        "user": {"id": user, "name": name, "sortable_name": sortable, "short_name": name.split()[0]},
    }


ENROLLMENTS = {
    370663: [
        _enrollment(11, 370663, 1, 2, "TeacherEnrollment", "Sheldon Cooper", "Cooper, Sheldon"),
        _enrollment(12, 370663, 1, 3, "StudentEnrollment", "Amy Farrah Fowler", "Fowler, Amy Farrah"),
        _enrollment(13, 370663, 1, 4, "TaEnrollment", "Leonard Hofstadter", "Hofstadter, Leonard"),
    ],
    7: [_enrollment(14, 7, 8, 3, "StudentEnrollment", "Amy Farrah Fowler", "Fowler, Amy Farrah")],
}

UNAUTHORIZED = {"errors": [{"message": "Invalid access token."}]}
NOT_FOUND = {"errors": [{"message": "The specified resource does not exist."}]}
RATE_LIMITED = "403 Forbidden (Rate Limit Exceeded)"


class FakeCanvas:
    """``with FakeCanvas() as canvas:`` serves Canvas on ``BASE_URL``; set ``throttle`` / ``remaining`` to script."""

    def __init__(self) -> None:
        #: how many of the next requests answer 403 Rate Limit Exceeded
        self.throttle = 0
        #: the X-Rate-Limit-Remaining sent with the next answers
        self.remaining = 700.0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                status, body, headers = owner.answer(self)
                data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
                kind = "text/plain; charset=utf-8" if isinstance(body, str) else "application/json; charset=utf-8"
                self.send_response(status)
                for name, value in {"Content-Type": kind, **headers}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", PORT), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> FakeCanvas:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def answer(self, request: BaseHTTPRequestHandler) -> tuple[int, Any, dict[str, str]]:
        parts = urlsplit(request.path)
        query = parse_qsl(parts.query)
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return 401, UNAUTHORIZED, {"WWW-Authenticate": 'Bearer realm="canvas-lms"'}
        if self.throttle:
            self.throttle -= 1
            return 403, RATE_LIMITED, {"X-Request-Cost": "0", "X-Rate-Limit-Remaining": "0.0"}
        headers = {"X-Request-Cost": "1.2", "X-Rate-Limit-Remaining": f"{self.remaining:.1f}"}
        path = parts.path.rstrip("/")
        found = self._route(path)
        if found is None:
            return 404, NOT_FOUND, headers
        if isinstance(found, dict):
            return 200, found, headers
        params = dict(query)
        per_page = int(params.get("per_page", 10))
        page = int(params.get("page", 1))
        chunk = found[(page - 1) * per_page : page * per_page]
        last = max(1, -(-len(found) // per_page))
        keep = [(k, v) for k, v in query if k != "page"]

        def link(number: int, rel: str) -> str:
            return f'<{BASE_URL}{parts.path}?{urlencode([*keep, ("page", number)])}>; rel="{rel}"'

        links = [link(page, "current")]
        if page < last:
            links.append(link(page + 1, "next"))
        if page > 1:
            links.append(link(page - 1, "prev"))
        links += [link(1, "first"), link(last, "last")]
        headers["Link"] = ",".join(links)
        return 200, chunk, headers

    @staticmethod
    def _route(path: str) -> Any:
        parts = path.strip("/").split("/")
        if parts[:2] != ["api", "v1"]:
            return None
        rest = parts[2:]
        if len(rest) >= 2 and rest[0] == "accounts":
            account = ACCOUNTS.get(int(rest[1])) if rest[1].isdigit() else None
            if account is None:
                return None
            if len(rest) == 2:
                return account
            return {
                "sub_accounts": [a for a in ACCOUNTS.values() if a["parent_account_id"] == account["id"]],
                "users": USERS,
                "courses": COURSES,
            }.get(rest[2])
        if len(rest) == 3 and rest[0] == "courses" and rest[1].isdigit():
            table = {"sections": SECTIONS, "enrollments": ENROLLMENTS}.get(rest[2])
            return None if table is None else table.get(int(rest[1]))
        return None
