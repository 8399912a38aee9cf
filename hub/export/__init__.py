"""Exporters: canonical records written out in the formats other systems read."""

from hub.export._tenant import export_tenant_oneroster_csv
from hub.export.oneroster_csv import MANIFEST_FILES, ExportResult, staged_bundle, write_bundle, write_manifest

__all__ = ["MANIFEST_FILES", "ExportResult", "export_tenant_oneroster_csv", "staged_bundle", "write_bundle", "write_manifest"]
