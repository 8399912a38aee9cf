"""OneRoster 1.1 / 1.2 REST (rostering, consumer side) as a FediFlow SIS connector."""

from connectors.oneroster_rest.connector import OneRosterRestConfig, OneRosterRestConnector

__all__ = ["OneRosterRestConfig", "OneRosterRestConnector"]
