"""LDAP directories (ldap3, simple paged results) as a FediFlow identity connector."""

from connectors.ldap._config import GroupAttributes, LdapConfig, UserAttributes
from connectors.ldap.connector import ConnectionFactory, LdapConnector

__all__ = ["ConnectionFactory", "GroupAttributes", "LdapConfig", "LdapConnector", "UserAttributes"]
