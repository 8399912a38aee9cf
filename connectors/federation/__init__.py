"""Hub to hub: the catalogue (and, when approved, rosters) another FediFlow hub sends over ActivityPub."""

from connectors.federation.connector import FederationConfig, FederationConnector

__all__ = ["FederationConfig", "FederationConnector"]
