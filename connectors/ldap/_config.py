"""Config of the ``ldap`` connector: where the directory is, how to bind, what to read."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from hub.sdk import ConnectorConfig

__all__ = ["GroupAttributes", "LdapConfig", "UserAttributes"]

#: attributes that hold password hashes: never requested, whatever the config says
PASSWORD_ATTRIBUTES = frozenset(
    name.lower()
    for name in ("userPassword", "unicodePwd", "authPassword", "sambaNTPassword", "sambaLMPassword", "ntPwdHistory")
)

_NESTED = ConfigDict(frozen=True, extra="forbid")


class UserAttributes(BaseModel):
    """Which LDAP attribute holds each part of a user. Defaults: inetOrgPerson + eduPerson (OpenLDAP).

    For Active Directory use ``id: objectGUID``, ``username: sAMAccountName``,
    ``principal_name: userPrincipalName``, ``identifier: employeeID``. An attribute the directory
    does not have is simply absent from the records.
    """

    model_config = _NESTED

    id: str = "entryUUID"
    username: str = "uid"
    given_name: str = "givenName"
    family_name: str = "sn"
    display_name: str = "cn"
    email: str = "mail"
    phone: str = "telephoneNumber"
    identifier: str = "employeeNumber"
    principal_name: str = "eduPersonPrincipalName"
    primary_affiliation: str = "eduPersonPrimaryAffiliation"
    affiliations: str = "eduPersonAffiliation"
    member_of: str = "memberOf"
    extra: tuple[str, ...] = Field(default=(), description="More attributes copied into the record's `attributes`.")


class GroupAttributes(BaseModel):
    """Which LDAP attribute holds each part of a group. Defaults: groupOfNames."""

    model_config = _NESTED

    id: str = "entryUUID"
    name: str = "cn"
    description: str = "description"
    members: str = "member"


class LdapConfig(ConnectorConfig):
    """An LDAP directory (OpenLDAP, 389, Active Directory ...) read with simple paged results."""

    server_uri: str = Field(pattern=r"^ldaps?://[^/\s]+/?$", description="ldap://host[:389] or ldaps://host[:636].")
    bind_dn: str | None = Field(default=None, min_length=1, description="DN to bind as; none for an anonymous bind.")
    bind_password: SecretStr | None = None
    base_dn: str = Field(min_length=1)
    user_base_dn: str | None = Field(default=None, description="Where users are searched (default base_dn).")
    user_filter: str = Field(default="(objectClass=inetOrgPerson)", min_length=3)
    user_attributes: UserAttributes = UserAttributes()
    group_filter: str | None = Field(default=None, description="Set to also read groups, e.g. (objectClass=groupOfNames).")
    group_base_dn: str | None = None
    group_attributes: GroupAttributes = GroupAttributes()
    org_sourced_id: str | None = Field(default=None, description="sourcedId of the org users' roles point to (default base_dn).")
    page_size: int = Field(default=500, ge=1, le=10_000)
    use_ssl: bool = Field(default=False, description="LDAPS (implied by an ldaps:// server_uri).")
    start_tls: bool = False
    verify_tls: bool = True
    ca_certs_file: str | None = None
    connect_timeout: float = Field(default=10.0, gt=0)
    receive_timeout: float = Field(default=60.0, gt=0)

    @model_validator(mode="after")
    def _consistent(self) -> LdapConfig:
        if self.bind_dn and self.bind_password is None:
            raise ValueError("bind_dn needs bind_password (or remove bind_dn for an anonymous bind)")
        if self.bind_password is not None and not self.bind_dn:
            raise ValueError("bind_password is set but bind_dn is not")
        if self.start_tls and self.ssl:
            raise ValueError("use either LDAPS (use_ssl / ldaps://) or start_tls, not both")
        asked = [
            *self.user_attributes.model_dump(exclude={"extra"}).values(),
            *self.user_attributes.extra,
            *self.group_attributes.model_dump().values(),
        ]
        bad = sorted({name for name in asked if name.lower() in PASSWORD_ATTRIBUTES})
        if bad:
            raise ValueError(f"password attributes are never read: {', '.join(bad)}")
        return self

    @property
    def ssl(self) -> bool:
        return self.use_ssl or self.server_uri.lower().startswith("ldaps://")

    @property
    def org_id(self) -> str:
        return self.org_sourced_id or self.base_dn
