"""SCIM 2.0 connectors: ``scim_push`` (an IdP pushes into the hub's SCIM server) and ``scim`` (pull from a SCIM server)."""

from connectors.scim.client import ScimClientConfig, ScimClientConnector, ScimPaging
from connectors.scim.push import ScimPushConfig, ScimPushConnector

__all__ = ["ScimClientConfig", "ScimClientConnector", "ScimPaging", "ScimPushConfig", "ScimPushConnector"]
