"""The sync engine, its safeguards and the per-source lock.

What other packages use (the API, the CLI, the scheduler) is exported here; the ``_``-modules
are private to this package (tests/unit/architecture/test_architecture.py checks it).
"""

from hub.sync._engine import SyncEngine, order_streams
from hub.sync._holds import HoldRecord, approve_run, discard_run, get_hold, list_holds
from hub.sync._locks import source_lock, source_lock_free
from hub.sync._lookups import build_lookup_tables
from hub.sync._progress import NullProgress, Progress
from hub.sync._purge import purge_deleted
from hub.sync._safeguard_policy import Safeguards, clear_safeguards, evaluate, get_safeguards, set_safeguards
from hub.sync._safeguards import SafeguardOutcome, run_with_safeguards

__all__ = [
    "HoldRecord",
    "NullProgress",
    "Progress",
    "SafeguardOutcome",
    "Safeguards",
    "SyncEngine",
    "approve_run",
    "build_lookup_tables",
    "clear_safeguards",
    "discard_run",
    "evaluate",
    "get_hold",
    "get_safeguards",
    "list_holds",
    "order_streams",
    "purge_deleted",
    "run_with_safeguards",
    "set_safeguards",
    "source_lock",
    "source_lock_free",
]
