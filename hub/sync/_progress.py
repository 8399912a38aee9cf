"""How the engine reports progress: a small protocol the CLI implements with rich."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

__all__ = ["NullProgress", "Progress"]


class Progress(Protocol):
    def stream_started(self, stream: str) -> None: ...

    def advance(self, stream: str, records: int) -> None: ...

    def stream_finished(self, stream: str, counts: Mapping[str, int]) -> None: ...


class NullProgress:
    def stream_started(self, stream: str) -> None:
        pass

    def advance(self, stream: str, records: int) -> None:
        pass

    def stream_finished(self, stream: str, counts: Mapping[str, int]) -> None:
        pass
