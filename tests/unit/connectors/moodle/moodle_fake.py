"""A fake Moodle REST web-service endpoint on loopback serving documented payloads (to record cassettes).

Shapes follow the functions' return descriptions in Moodle's source (the ``*_returns()``
definitions, shown on a site under Site administration > Server > Web services > API
documentation, and https://docs.moodle.org/dev/Web_service_API_functions):
``core_webservice_get_site_info`` (webservice/classes/external/get_site_info.php),
``core_user_get_users`` (user/externallib.php: ``{"users": [...], "warnings": [...]}``),
``core_course_get_courses`` (course/externallib.php: a list, the front page included with
``"format": "site"``), ``core_enrol_get_enrolled_users`` (enrol/externallib.php, options
``limitfrom``/``limitnumber``/``sortby``). Errors are HTTP 200 with
``{"exception", "errorcode", "message"}`` as lib/externallib.php / webservice/rest/locallib.php
send them: ``invalidtoken`` "Invalid token - token not found", ``accessexception`` "Access
control exception". Fields the docs mark optional are left out where a real site omits them.

Only used when recording (``pytest --record-mode=all``).
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

PORT = 8742
BASE_URL = f"http://127.0.0.1:{PORT}"
TOKEN = "0123456789abcdef0123456789abcdef"

ALL_FUNCTIONS = (
    "core_webservice_get_site_info",
    "core_user_get_users",
    "core_course_get_courses",
    "core_enrol_get_enrolled_users",
)

INVALID_TOKEN = {"exception": "moodle_exception", "errorcode": "invalidtoken", "message": "Invalid token - token not found"}
ACCESS = {"exception": "webservice_access_exception", "errorcode": "accessexception", "message": "Access control exception"}


def site_info(functions: tuple[str, ...]) -> dict[str, Any]:
    return {
        "sitename": "Springfield Moodle",
        "username": "wsuser",
        "firstname": "Web",
        "lastname": "Service",
        "fullname": "Web Service",
        "lang": "en",
        "userid": 3,
        "siteurl": BASE_URL,
        "userpictureurl": f"{BASE_URL}/theme/image.php/boost/core/1/u/f1",
        "functions": [{"name": name, "version": "2022112800"} for name in functions],
        "downloadfiles": 0,
        "uploadfiles": 0,
        "release": "4.1 (Build: 20221128)",
        "version": "2022112800",
        "mobilecssurl": "",
        "advancedfeatures": [{"name": "usecomments", "value": 1}, {"name": "usetags", "value": 1}],
        "usercanmanageownfiles": True,
        "userquota": 104857600,
        "usermaxuploadfilesize": 104857600,
        "userhomepage": 1,
        "siteid": 1,
        "sitecalendartype": "gregorian",
        "usercalendartype": "gregorian",
        "userissiteadmin": False,
        "theme": "boost",
    }


def _user(uid: int, username: str, first: str, last: str, email: str, *, suspended: bool = False) -> dict[str, Any]:
    return {
        "id": uid,
        "username": username,
        "firstname": first,
        "lastname": last,
        "fullname": f"{first} {last}",
        "email": email,
        "department": "",
        "idnumber": f"S{uid:04d}" if uid % 2 else "",
        "firstaccess": 1669640000,
        "lastaccess": 1669726400,
        "auth": "manual",
        "suspended": suspended,
        "confirmed": True,
        "lang": "en",
        "theme": "",
        "timezone": "99",
        "mailformat": 1,
        "description": "",
        "descriptionformat": 1,
        "profileimageurlsmall": f"{BASE_URL}/theme/image.php/boost/core/1/u/f2",
        "profileimageurl": f"{BASE_URL}/theme/image.php/boost/core/1/u/f1",
    }


USERS = [
    _user(4, "jsmith", "Jane", "Smith", "jane.smith@example.edu"),
    _user(5, "bjones", "Bob", "Jones", "bob.jones@example.edu"),
    _user(6, "cdoe", "Carla", "Doe", "carla.doe@example.edu", suspended=True),
]


def _course(cid: int, short: str, full: str, *, fmt: str = "topics", category: int = 1) -> dict[str, Any]:
    return {
        "id": cid,
        "shortname": short,
        "categoryid": category,
        "categorysortorder": 10000 + cid if category else 0,
        "fullname": full,
        "displayname": full,
        "idnumber": "",
        "summary": "",
        "summaryformat": 1,
        "format": fmt,
        "showgrades": 1,
        "newsitems": 5 if fmt != "site" else 3,
        "startdate": 1661990400 if fmt != "site" else 0,
        "enddate": 1693526400 if fmt != "site" else 0,
        "maxbytes": 0,
        "showreports": 0,
        "visible": 1,
        "groupmode": 0,
        "groupmodeforce": 0,
        "defaultgroupingid": 0,
        "timecreated": 1661990400,
        "timemodified": 1669640000,
        "enablecompletion": 1 if fmt != "site" else 0,
        "completionnotify": 0,
        "lang": "",
        "forcetheme": "",
        "courseformatoptions": [] if fmt == "site" else [{"name": "hiddensections", "value": 0}, {"name": "coursedisplay", "value": 0}],
        "showactivitydates": fmt != "site",
        "showcompletionconditions": None if fmt == "site" else True,
    }


COURSES = [
    _course(1, "moodle", "Springfield Moodle", fmt="site", category=0),
    _course(2, "BIO101", "Biology 101"),
    _course(3, "HIST201", "History 201"),
]

ROLE = {
    "student": {"roleid": 5, "name": "", "shortname": "student", "sortorder": 0},
    "editingteacher": {"roleid": 3, "name": "", "shortname": "editingteacher", "sortorder": 0},
    "teacher": {"roleid": 4, "name": "", "shortname": "teacher", "sortorder": 0},
}


def _enrolled(user: dict[str, Any], course: dict[str, Any], role: str) -> dict[str, Any]:
    keep = ("id", "username", "firstname", "lastname", "fullname", "email", "department", "firstaccess", "lastaccess")
    return {
        **{k: user[k] for k in keep},
        "lastcourseaccess": 1669726400,
        "description": "",
        "descriptionformat": 1,
        "profileimageurlsmall": user["profileimageurlsmall"],
        "profileimageurl": user["profileimageurl"],
        "groups": [],
        "roles": [ROLE[role]],
        "enrolledcourses": [{"id": course["id"], "fullname": course["fullname"], "shortname": course["shortname"]}],
    }


ENROLLED = {
    2: [_enrolled(USERS[0], COURSES[1], "editingteacher"), _enrolled(USERS[1], COURSES[1], "student"), _enrolled(USERS[2], COURSES[1], "student")],
    3: [_enrolled(USERS[0], COURSES[2], "teacher"), _enrolled(USERS[1], COURSES[2], "student")],
}


class FakeMoodle:
    """``with FakeMoodle() as moodle:``; ``moodle.functions`` is the token's external service."""

    def __init__(self) -> None:
        self.functions: tuple[str, ...] = ALL_FUNCTIONS
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802
                status, body = owner.answer(self.path)
                data = json.dumps(body).encode() if not isinstance(body, str) else body.encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8" if not isinstance(body, str) else "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", PORT), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> FakeMoodle:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def answer(self, raw_path: str) -> tuple[int, Any]:
        parts = urlsplit(raw_path)
        if parts.path != "/webservice/rest/server.php":
            return 404, "<html><body><h1>Not Found</h1></body></html>"
        q = dict(parse_qsl(parts.query))
        if q.get("wstoken") != TOKEN:
            return 200, INVALID_TOKEN
        function = q.get("wsfunction", "")
        if function not in self.functions:
            return 200, ACCESS
        if function == "core_webservice_get_site_info":
            return 200, site_info(self.functions)
        if function == "core_user_get_users":
            if q.get("criteria[0][key]") == "email" and q.get("criteria[0][value]") == "%":
                return 200, {"users": USERS, "warnings": []}
            return 200, {"users": [], "warnings": []}
        if function == "core_course_get_courses":
            return 200, COURSES
        if function == "core_enrol_get_enrolled_users":
            options = {q.get(f"options[{i}][name]"): q.get(f"options[{i}][value]") for i in range(5)}
            users = sorted(ENROLLED.get(int(q.get("courseid", 0)), []), key=lambda u: u["id"])
            start = int(options.get("limitfrom") or 0)
            count = int(options.get("limitnumber") or 0) or len(users)
            return 200, users[start : start + count]
        return 200, ACCESS
