"""Exporters: canonical records written out in the formats other systems read."""

from hub.export._tenant import export_tenant_oneroster_csv
from hub.export.oneroster_csv import ExportResult, write_bundle

__all__ = ["ExportResult", "export_tenant_oneroster_csv", "write_bundle"]
