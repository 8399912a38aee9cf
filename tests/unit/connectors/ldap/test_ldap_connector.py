"""The ldap connector against ldap3's offline MOCK_SYNC strategy (OpenLDAP 2.4 schema + eduPerson)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import aclosing
from pathlib import Path
from typing import Any

import ldap3
import pytest
from ldap3.protocol.rfc4512 import AttributeTypeInfo, ObjectClassInfo

from connectors.ldap import LdapConfig, LdapConnector
from connectors.ldap._entries import user_record
from hub.mapping import load_mapping
from hub.plugins import build_plugin_manager
from hub.sdk import ConnectorError, RawRecord, StreamState
from hub.sdk.testkit import ConnectorContract
from hub.settings import PluginSettings
from schemas import BUILTIN_TYPES, Org, User

MAPPINGS = Path(__file__).parents[4] / "mappings"
BASE = "dc=example,dc=edu"
ADMIN = f"cn=reader,{BASE}"
PASSWORD = "reader-secret-8841"

# eduPerson (internet2 / REFEDS eduPerson 202208 LDIF): the attribute types this test uses
EDUPERSON_TYPES = [
    "( 1.3.6.1.4.1.5923.1.1.1.1 NAME 'eduPersonAffiliation' EQUALITY caseIgnoreMatch "
    "SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 )",
    "( 1.3.6.1.4.1.5923.1.1.1.5 NAME 'eduPersonPrimaryAffiliation' EQUALITY caseIgnoreMatch "
    "SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )",
    "( 1.3.6.1.4.1.5923.1.1.1.6 NAME 'eduPersonPrincipalName' EQUALITY caseIgnoreMatch "
    "SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )",
]
EDUPERSON_CLASS = (
    "( 1.3.6.1.4.1.5923.1.1.2 NAME 'eduPerson' AUXILIARY MAY ( eduPersonAffiliation $ "
    "eduPersonPrimaryAffiliation $ eduPersonPrincipalName ) )"
)

PEOPLE = [
    ("jdoe", "John", "Doe", "faculty", ["faculty", "member"]),
    ("asmith", "Ann", "Smith", "student", ["student", "member"]),
    ("bkhan", "Bilal", "Khan", "student", ["student"]),
    ("cmeyer", "Clara", "Meyer", "staff", ["staff", "employee"]),
    ("dlee", None, "Lee", None, []),
]


def directory() -> dict[str, dict[str, Any]]:
    entries: dict[str, dict[str, Any]] = {
        BASE: {"objectClass": ["dcObject", "organization"], "dc": "example", "o": "Example University"},
        f"ou=people,{BASE}": {"objectClass": ["organizationalUnit"], "ou": "people"},
        f"ou=groups,{BASE}": {"objectClass": ["organizationalUnit"], "ou": "groups"},
        ADMIN: {"objectClass": ["person"], "cn": "reader", "sn": "reader", "userPassword": PASSWORD},
    }
    for number, (uid, given, family, primary, affiliations) in enumerate(PEOPLE, start=1):
        entry: dict[str, Any] = {
            "objectClass": ["inetOrgPerson", "eduPerson"],
            "uid": uid,
            "cn": f"{given or ''} {family}".strip(),
            "sn": family,
            "mail": f"{uid}@example.edu",
            "employeeNumber": f"E{number:04d}",
            "eduPersonPrincipalName": f"{uid}@example.edu",
            "entryUUID": f"6c1f4e5a-0000-4000-8000-{number:012d}",
            "userPassword": f"{uid}-password",
        }
        if given:
            entry["givenName"] = given
        if primary:
            entry["eduPersonPrimaryAffiliation"] = primary
        if affiliations:
            entry["eduPersonAffiliation"] = affiliations
        entries[f"uid={uid},ou=people,{BASE}"] = entry
    entries[f"cn=biology-101,ou=groups,{BASE}"] = {
        "objectClass": ["groupOfNames"],
        "cn": "biology-101",
        "description": "Biology 101 students",
        "member": [f"uid=asmith,ou=people,{BASE}", f"uid=bkhan,ou=people,{BASE}"],
        "entryUUID": "7d2a0000-0000-4000-8000-000000000001",
    }
    return entries


class MockDirectory:
    """A connection factory for LdapConnector: a fresh MOCK_SYNC connection per call, same entries."""

    def __init__(self) -> None:
        self.server = ldap3.Server("ldap.example.edu", get_info=ldap3.OFFLINE_SLAPD_2_4)
        self.server.schema.attribute_types.update(AttributeTypeInfo.from_definition(EDUPERSON_TYPES))
        self.server.schema.object_classes.update(ObjectClassInfo.from_definition([EDUPERSON_CLASS]))
        self.searches: list[dict[str, Any]] = []
        self.connections: list[ldap3.Connection] = []

    def __call__(self, config: LdapConfig) -> ldap3.Connection:
        connection = ldap3.Connection(
            self.server,
            user=config.bind_dn,
            password=config.bind_password.get_secret_value() if config.bind_password else None,
            client_strategy=ldap3.MOCK_SYNC,
            raise_exceptions=False,
        )
        for dn, attributes in directory().items():
            assert connection.strategy.add_entry(dn, attributes), dn
        search = connection.search
        searches = self.searches

        def counting_search(*args: Any, **kwargs: Any) -> Any:
            searches.append({"base": args[0], "filter": args[1], **kwargs})
            return search(*args, **kwargs)

        connection.search = counting_search  # type: ignore[method-assign]
        self.connections.append(connection)
        return connection


def config(**overrides: Any) -> LdapConfig:
    values: dict[str, Any] = {
        "server_uri": "ldap://ldap.example.edu",
        "bind_dn": ADMIN,
        "bind_password": PASSWORD,
        "base_dn": BASE,
        "user_base_dn": f"ou=people,{BASE}",
        "group_filter": "(objectClass=groupOfNames)",
        "page_size": 2,
    }
    return LdapConfig.model_validate({**values, **overrides})


async def read(connector: LdapConnector, stream: str) -> list[RawRecord]:
    async with aclosing(connector.read(stream, StreamState())) as records:  # type: ignore[type-var]
        return [record async for record in records]


@pytest.fixture
async def mock_ldap() -> AsyncIterator[MockDirectory]:
    yield MockDirectory()


class TestLdapContract(ConnectorContract):
    connector_class = LdapConnector
    config = {
        "server_uri": "ldap://ldap.example.edu",
        "bind_dn": ADMIN,
        "bind_password": PASSWORD,
        "base_dn": BASE,
        "group_filter": "(objectClass=groupOfNames)",
        "page_size": 2,
    }

    @pytest.fixture
    async def connector(self, connector_config: LdapConfig) -> AsyncIterator[LdapConnector]:
        instance = LdapConnector(connector_config, connection_factory=MockDirectory())
        try:
            yield instance
        finally:
            await instance.aclose()


async def test_users_are_read_page_by_page(mock_ldap: MockDirectory) -> None:
    connector = LdapConnector(config(), connection_factory=mock_ldap)
    try:
        records = await read(connector, "users")
    finally:
        await connector.aclose()
    assert len(records) == 5
    assert [s["paged_size"] for s in mock_ldap.searches] == [2, 2, 2]
    assert mock_ldap.searches[0]["paged_cookie"] is None and mock_ldap.searches[1]["paged_cookie"]
    john = next(r for r in records if r.data["username"] == "jdoe")
    assert john.ref == f"uid=jdoe,ou=people,{BASE}"
    data = john.data
    assert data["id"] == "6c1f4e5a-0000-4000-8000-000000000001"
    assert (data["givenName"], data["familyName"], data["email"]) == ("John", "Doe", "jdoe@example.edu")
    assert data["affiliation"] == "faculty" and data["affiliations"] == ["faculty", "member"]
    assert data["principalName"] == "jdoe@example.edu" and data["identifier"] == "E0001"
    assert data["enabled"] is True and data["org"] == BASE
    assert all("password" not in key.lower() for r in records for key in r.data["attributes"])


async def test_groups_stream(mock_ldap: MockDirectory) -> None:
    connector = LdapConnector(config(), connection_factory=mock_ldap)
    try:
        assert [s.name for s in connector.streams()] == ["users", "groups"]
        groups = await read(connector, "groups")
    finally:
        await connector.aclose()
    assert [g.data["name"] for g in groups] == ["biology-101"]
    assert groups[0].data["members"] == [f"uid=asmith,ou=people,{BASE}", f"uid=bkhan,ou=people,{BASE}"]


def test_groups_stream_only_with_a_group_filter() -> None:
    assert [s.name for s in LdapConnector(config(group_filter=None)).streams()] == ["users"]


async def test_check_binds_and_finds_users(mock_ldap: MockDirectory) -> None:
    result = await LdapConnector(config(), connection_factory=mock_ldap).check()
    assert result.ok, result.message
    assert f"as {ADMIN}" in result.message and PASSWORD not in result.message


async def test_check_reports_invalid_credentials(mock_ldap: MockDirectory) -> None:
    result = await LdapConnector(config(bind_password="wrong-password"), connection_factory=mock_ldap).check()
    assert not result.ok
    assert "invalidCredentials" in result.message and "check bind_dn and bind_password" in result.message
    assert "wrong-password" not in result.message


async def test_check_reports_a_missing_base(mock_ldap: MockDirectory) -> None:
    result = await LdapConnector(config(base_dn="dc=nowhere,dc=edu"), connection_factory=mock_ldap).check()
    assert not result.ok and "noSuchObject" in result.message and "dc=nowhere,dc=edu" in result.message


async def test_check_reports_a_filter_matching_nothing(mock_ldap: MockDirectory) -> None:
    result = await LdapConnector(config(user_filter="(uid=nobody)"), connection_factory=mock_ldap).check()
    assert not result.ok and "matches no entry" in result.message and "user_filter" in result.message


async def test_invalid_filter_is_a_clear_error(mock_ldap: MockDirectory) -> None:
    connector = LdapConnector(config(user_filter="(objectClass=inetOrgPerson"), connection_factory=mock_ldap)
    try:
        with pytest.raises(ConnectorError, match="invalid LDAP search filter"):
            await read(connector, "users")
    finally:
        await connector.aclose()


async def test_check_reports_an_unreachable_server() -> None:
    connector = LdapConnector(config(server_uri="ldap://127.0.0.1:1", connect_timeout=2))
    result = await connector.check()
    assert not result.ok and "cannot reach the LDAP server ldap://127.0.0.1:1" in result.message


def test_active_directory_bind_sub_codes_are_explained() -> None:
    connector = LdapConnector(config())
    error = connector._result_error(
        "bind as x", {"result": 49, "description": "invalidCredentials", "message": "80090308: LdapErr: DSID-0C09044E, comment: AcceptSecurityContext error, data 775, v4563"}
    )
    assert "invalidCredentials" in error.message and "locked out" in error.message and not error.retryable


def test_disabled_accounts() -> None:
    settings = config()
    ad = user_record({"dn": "CN=x", "attributes": {"userAccountControl": 514, "sAMAccountName": "x"}}, settings)
    assert ad["enabled"] is False
    assert user_record({"dn": "CN=y", "attributes": {"userAccountControl": "512"}}, settings)["enabled"] is True
    assert user_record({"dn": "uid=z", "attributes": {"nsAccountLock": "TRUE"}}, settings)["enabled"] is False
    guid = bytes(range(16))
    record = user_record({"dn": "CN=g", "attributes": {"objectGUID": guid}}, config(user_attributes={"id": "objectGUID"}))
    assert record["id"] == "03020100-0504-0706-0809-0a0b0c0d0e0f"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"bind_password": None}, "bind_dn needs bind_password"),
        ({"bind_dn": None}, "bind_password is set but bind_dn is not"),
        ({"start_tls": True, "server_uri": "ldaps://ldap.example.edu"}, "not both"),
        ({"user_attributes": {"extra": ["userPassword"]}}, "password attributes are never read"),
        ({"server_uri": "http://ldap.example.edu"}, "server_uri"),
    ],
)
def test_config_is_checked(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        config(**overrides)


async def test_users_and_groups_map_to_valid_records(mock_ldap: MockDirectory) -> None:
    users_mapping = load_mapping(MAPPINGS / "ldap" / "users.yaml", BUILTIN_TYPES)
    groups_mapping = load_mapping(MAPPINGS / "ldap" / "groups.yaml", BUILTIN_TYPES)
    connector = LdapConnector(config(), connection_factory=mock_ldap)
    try:
        users = [users_mapping.validate(r.data) for r in await read(connector, "users")]
        groups = [groups_mapping.validate(r.data) for r in await read(connector, "groups")]
    finally:
        await connector.aclose()
    assert all(isinstance(u, User) for u in users) and all(isinstance(g, Org) for g in groups)
    by_name = {u.username: u for u in users}
    assert by_name["jdoe"].roles[0].role == "teacher" and by_name["asmith"].roles[0].role == "student"
    assert by_name["cmeyer"].roles[0].role == "ext:staff" and by_name["dlee"].roles[0].role == "ext:member"
    assert by_name["dlee"].givenName == "Lee"  # no givenName: the cn stands in
    assert by_name["jdoe"].roles[0].org.sourcedId == BASE and by_name["jdoe"].email == "jdoe@example.edu"
    assert by_name["jdoe"].userIds and by_name["jdoe"].userIds[0].identifier == f"uid=jdoe,ou=people,{BASE}"
    assert groups[0].name == "biology-101" and groups[0].type == "ext:ldapGroup"


def test_ldap_connector_is_registered_through_its_entry_point() -> None:
    plugins = build_plugin_manager(PluginSettings(allow=("ldap",)))
    assert plugins.connectors() == {"ldap": LdapConnector} and not plugins.failures
