"""ldap3, imported once with its known import-time DeprecationWarnings silenced by name.

ldap3 2.9.1 imports ``tagMap``/``typeMap`` from pyasn1, which pyasn1 0.6.1 deprecated; the warning
is harmless and unrelated to FediFlow, and under ``-W error`` it would break the import. Every
module of this package imports ldap3 from here.
"""

from __future__ import annotations

import warnings

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", r"(tagMap|typeMap) is deprecated", DeprecationWarning)
    import ldap3
    from ldap3.core import exceptions as ldap_errors

__all__ = ["ldap3", "ldap_errors"]
