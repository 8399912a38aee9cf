"""OneRoster 1.1 / 1.2 CSV bundles (a folder or a .zip) as a FediFlow SIS connector."""

from connectors.oneroster_csv.connector import OneRosterCsvConfig, OneRosterCsvConnector

__all__ = ["OneRosterCsvConfig", "OneRosterCsvConnector"]
