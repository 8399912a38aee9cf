"""LDAP search entries (as ldap3 returns them) to the flat dicts of the ``users`` and ``groups`` streams."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from connectors.ldap._config import PASSWORD_ATTRIBUTES, LdapConfig

__all__ = ["group_record", "user_attributes_to_request", "user_record"]

#: attributes that say whether an account is disabled (AD, 389/Red Hat DS, OpenLDAP ppolicy)
STATE_ATTRIBUTES = ("userAccountControl", "nsAccountLock", "pwdAccountLockedTime")
_AD_ACCOUNTDISABLE = 0x2


def _plain(value: Any, name: str) -> Any:
    if isinstance(value, bytes):
        if name.lower() == "objectguid" and len(value) == 16:
            return str(uuid.UUID(bytes_le=value))
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return value.hex()
    if isinstance(value, list | tuple):
        return [_plain(item, name) for item in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _all(attributes: Mapping[str, Any], name: str) -> list[Any]:
    value = attributes.get(name)
    if value is None or value == [] or value == "":
        return []
    return [v for v in (value if isinstance(value, list) else [value]) if v not in (None, "")]


def _one(attributes: Mapping[str, Any], name: str) -> Any:
    values = _all(attributes, name)
    return values[0] if values else None


def _enabled(attributes: Mapping[str, Any]) -> bool:
    """From attributes keyed in lower case."""
    control = _one(attributes, "useraccountcontrol")
    if control is not None and str(control).strip().lstrip("-").isdigit():
        return not int(control) & _AD_ACCOUNTDISABLE
    if str(_one(attributes, "nsaccountlock") or "").lower() == "true":
        return False
    return _one(attributes, "pwdaccountlockedtime") is None


def _attributes(entry: Mapping[str, Any]) -> dict[str, Any]:
    """The entry's attributes, case as the server sent it, values made JSON-friendly, never a password."""
    raw = entry.get("attributes") or {}
    return {
        name: _plain(value, name)
        for name, value in raw.items()
        if name.lower() not in PASSWORD_ATTRIBUTES and value not in (None, [], "")
    }


def user_attributes_to_request(config: LdapConfig) -> list[str]:
    names = [*config.user_attributes.model_dump(exclude={"extra"}).values(), *config.user_attributes.extra]
    return list(dict.fromkeys([*names, *STATE_ATTRIBUTES]))


def user_record(entry: Mapping[str, Any], config: LdapConfig) -> dict[str, Any]:
    """One user: the configured attributes under fixed names, ``enabled``, ``org`` and every attribute read."""
    names = config.user_attributes
    attributes = _attributes(entry)
    lookup = {key.lower(): value for key, value in attributes.items()}

    def one(name: str) -> Any:
        values = _all(lookup, name.lower())
        return values[0] if values else None

    dn = str(entry.get("dn") or "")
    return {
        "dn": dn,
        "id": str(one(names.id) or dn),
        "username": one(names.username),
        "givenName": one(names.given_name),
        "familyName": one(names.family_name),
        "displayName": one(names.display_name),
        "email": one(names.email),
        "phone": one(names.phone),
        "identifier": one(names.identifier),
        "principalName": one(names.principal_name),
        "affiliation": one(names.primary_affiliation),
        "affiliations": _all(lookup, names.affiliations.lower()),
        "memberOf": _all(lookup, names.member_of.lower()),
        "enabled": _enabled(lookup),
        "org": config.org_id,
        "attributes": attributes,
    }


def group_record(entry: Mapping[str, Any], config: LdapConfig) -> dict[str, Any]:
    """One group: id, name, description, member DNs and ``org``."""
    names = config.group_attributes
    lookup = {key.lower(): value for key, value in _attributes(entry).items()}
    dn = str(entry.get("dn") or "")
    return {
        "dn": dn,
        "id": str(_one(lookup, names.id.lower()) or dn),
        "name": _one(lookup, names.name.lower()),
        "description": _one(lookup, names.description.lower()),
        "members": _all(lookup, names.members.lower()),
        "org": config.org_id,
    }
