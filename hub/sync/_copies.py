"""Copies of one stable id within one read of a stream: which one the sync keeps.

``StreamSpec.duplicates == "error"``: the first copy is kept, a later one is a record error
(decided in the read loop). ``"last_wins"`` (harvest protocols, where a record changed or deleted
during the read is listed again, later): a later copy in the same batch replaces the earlier one;
a later copy in a later batch is marked ``again`` and classified against what the earlier batch
committed (so it becomes an update or a deletion of it).

Crash resume: a resumed run replays the records up to the committed position, and the store holds
what the *last* of the replayed copies made of each record. A replayed copy that differs from the
store is therefore held back instead of being written (and logged) again; a later copy of the same
record drops it, and what is still held when the replayed part ends differs from the last copy
read (the upstream changed since the interrupted attempt) and is written then.
"""

from __future__ import annotations

from hub.store._sync_ops import ExistingEntity
from hub.sync._batches import Batch, Pending

__all__ = ["Copies"]


class Copies:
    """The copies bookkeeping of one stream's read; ``mapped_ids`` are the stable ids mapped so far."""

    def __init__(self, last_wins: bool, dry_run: bool, mapped_ids: set[str]) -> None:
        self.last_wins = last_wins
        self.dry_run = dry_run
        self.mapped_ids = mapped_ids
        #: replaying a resumed last_wins read: copies that differ from the store are held back
        self.holding = False
        #: entity id -> the last replayed copy that differs from the store
        self.held: dict[int, Pending] = {}
        #: dry run of a last_wins read: stable ids counted as created (nothing was written)
        self.dry_inserted: set[str] = set()

    def is_duplicate(self, stable_id: str) -> bool:
        """Whether a copy of ``stable_id`` is a record error (a stream without ``last_wins``)."""
        return not self.last_wins and stable_id in self.mapped_ids

    def add(self, batch: Batch, item: Pending) -> None:
        """Put ``item`` in ``batch``, replacing an earlier copy in the batch or marking it ``again``."""
        index = batch.index.get(item.stable_id)
        if index is not None:
            item.again = batch.records[index].again
            batch.records[index] = item
            if not item.replay:
                batch.delta["unchanged"] += 1  # the replaced copy changes nothing
            return
        if item.stable_id in self.mapped_ids:
            item.again = True
        else:
            self.mapped_ids.add(item.stable_id)
        if self.last_wins:
            batch.index[item.stable_id] = len(batch.records)
        batch.records.append(item)

    def absent(self, item: Pending) -> str | None:
        """For a copy whose stable id the store does not hold: the count it takes without being
        written, or ``None`` when it is to be inserted. A deleted record never had creates nothing
        (``unchanged``); in a dry run, a later copy of one counted as created counts as its change."""
        if self.dry_run and item.stable_id in self.dry_inserted:
            return "deleted" if item.status == "tobedeleted" else "updated"
        if item.status == "tobedeleted":
            return "unchanged"
        if self.last_wins and self.dry_run:
            self.dry_inserted.add(item.stable_id)
        return None

    def hold(self, found: ExistingEntity, item: Pending) -> bool:
        """Whether ``item`` is held back (a replayed copy differing from the store); any other copy
        of the entity drops one held before."""
        if self.holding and item.replay and found.hash != item.hash:
            self.held[found.id] = item
            return True
        self.held.pop(found.id, None)
        return False

    def end_replay(self) -> list[Pending]:
        """The replayed part is read: stop holding, and give the held copies (marked ``again``)."""
        self.holding = False
        held, self.held = list(self.held.values()), {}
        for item in held:
            item.again = True  # classified against the store once what came before committed
        return held
