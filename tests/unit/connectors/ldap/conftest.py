"""Import ldap3 through the connector, which silences its known pyasn1 DeprecationWarnings by name."""

import connectors.ldap._ldap3  # noqa: F401
