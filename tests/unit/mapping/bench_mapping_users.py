"""Micro-benchmark of the mapping hot path (not collected by pytest).

    .venv/bin/python tests/unit/mapping/bench_mapping_users.py

Maps a realistic OneRoster CSV users row (23 fields, two roles, two user ids, two profiles) with
the shipped users mapping and prints the best of 7 runs in µs/record, for ``apply`` alone and for
``apply`` + ``model_validate`` (what the sync engine does per record).
"""

from __future__ import annotations

import sys
import timeit
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

import schemas  # noqa: E402
from hub.mapping import load_mapping  # noqa: E402

RECORD = {
    "sourcedId": "u1", "status": "active", "dateLastModified": "2025-03-01T12:00:00Z", "enabledUser": "true",
    "username": "jdoe", "userIds": "{Fed:1234},{LDAP:jdoe}", "givenName": "Jane", "familyName": "Doe",
    "middleName": "", "identifier": "900123", "email": "jdoe@example.org", "sms": "", "phone": "+1 555 0100",
    "agentSourcedIds": "p1,p2", "grades": "09", "userMasterIdentifier": "", "resourceSourcedIds": "",
    "preferredGivenName": "Janie", "preferredMiddleName": "", "preferredFamilyName": "",
    "primaryOrgSourcedId": "s1", "pronouns": "",
    "roles": [
        {"roleType": "primary", "role": "student", "orgSourcedId": "s1", "userProfileSourcedId": "",
         "beginDate": "2025-09-01", "endDate": ""},
        {"roleType": "secondary", "role": "student", "orgSourcedId": "s2", "userProfileSourcedId": "",
         "beginDate": "", "endDate": ""},
    ],
    "userProfiles": [],
    "metadata": {},
}  # fmt: skip


def main() -> None:
    mapping = load_mapping(ROOT / "mappings" / "oneroster_csv" / "users.yaml", schemas.BUILTIN_TYPES)
    number = 20000
    for label, call in (
        ("apply", lambda: mapping.apply(RECORD)),
        ("apply + model_validate", lambda: mapping.model.model_validate(mapping.apply(RECORD))),
    ):
        best = min(timeit.repeat(call, number=number, repeat=7)) / number * 1e6
        print(f"{label:24} {best:6.2f} µs/record  ({1e6 / best:,.0f} records/s)")


if __name__ == "__main__":
    main()
