"""The sync engine."""

from hub.sync._engine import SyncEngine, order_streams
from hub.sync._progress import NullProgress, Progress

__all__ = ["NullProgress", "Progress", "SyncEngine", "order_streams"]
