"""Exporters: canonical records written out in the formats other systems read."""

from hub.export.oneroster_csv import ExportResult, write_bundle

__all__ = ["ExportResult", "write_bundle"]
