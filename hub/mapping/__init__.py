"""The declarative mapping engine: YAML mapping files compiled once into fast record functions.

A mapping file names a connector's stream, the canonical target type, how the stable id is built
and one rule per target field (docs/mappings.md is the reference)::

    connector: oneroster_csv
    stream: users
    target: User
    id: {path: sourcedId}
    fields:
      givenName: givenName
      enabledUser: {path: enabledUser, type: bool, default: true}

:func:`load_mapping` checks the file against the target pydantic model and compiles it into a
:class:`CompiledMapping` whose ``apply`` maps one raw record; errors are
:class:`~hub.errors.MappingError` (file:line) at load time and :class:`~hub.errors.RecordError`
(field) per record. :class:`MappingRegistry` finds files with overrides; :func:`preview` shows
a mapping's output on real records.
"""

from hub.mapping._compiled import (
    ENGINE_VERSION,
    ID_NAMESPACE,
    CompiledMapping,
    check_mapping,
    load_mapping,
    stable_id,
    validation_to_record_error,
)
from hub.mapping._expr import FUNCTIONS
from hub.mapping._lookup import LookupSpec, build_lookup_table
from hub.mapping._preview import PreviewRow, preview
from hub.mapping._registry import MappingInfo, MappingRegistry

__all__ = [
    "ENGINE_VERSION",
    "FUNCTIONS",
    "ID_NAMESPACE",
    "CompiledMapping",
    "LookupSpec",
    "MappingInfo",
    "MappingRegistry",
    "PreviewRow",
    "build_lookup_table",
    "check_mapping",
    "load_mapping",
    "preview",
    "stable_id",
    "validation_to_record_error",
]
