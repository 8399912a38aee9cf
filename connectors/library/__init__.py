"""Library connectors: OAI-PMH 2.0 repositories and SRU catalogues, and the LibraryItem type.

Records in Dublin Core (``oai_dc``, SRU ``dc``) or MARCXML are flattened into one Dublin Core
shaped dict (:func:`dc_to_flat`, :func:`marc_to_flat`), mapped to :class:`LibraryItem`.
"""

from connectors.library._dc import classify_identifier, dc_to_flat
from connectors.library._marc import marc_records, marc_to_flat
from connectors.library._model import IdentifierType, ItemIdentifier, LibraryItem
from connectors.library._oai import OaiError, RepositoryInfo
from connectors.library.oai_pmh import OaiPmhConfig, OaiPmhConnector
from connectors.library.sru import SruConfig, SruConnector, SruError

__all__ = [
    "IdentifierType",
    "ItemIdentifier",
    "LibraryItem",
    "OaiError",
    "OaiPmhConfig",
    "OaiPmhConnector",
    "RepositoryInfo",
    "SruConfig",
    "SruConnector",
    "SruError",
    "classify_identifier",
    "dc_to_flat",
    "marc_records",
    "marc_to_flat",
]
