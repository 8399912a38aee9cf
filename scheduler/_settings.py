"""Settings of the worker and scheduler roles (``FEDIFLOW_SCHEDULER__...``).

Meant to become ``Settings.scheduler`` in :mod:`hub.settings`; until then :func:`scheduler_settings`
takes it from there when present, else reads the same environment variables itself.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["SchedulerSettings", "scheduler_settings"]


class SchedulerSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FEDIFLOW_SCHEDULER__", extra="forbid", frozen=True)

    #: a claimed run whose heartbeat is older than this is taken to be dead and is re-queued
    lease_seconds: float = Field(default=60.0, gt=0, le=3600)
    #: how often a worker bumps the heartbeat of its runs (well below the lease)
    heartbeat_seconds: float = Field(default=10.0, gt=0, le=600)
    #: idle wait of the claim loop between looks at the queue
    poll_seconds: float = Field(default=1.0, gt=0, le=60)
    #: runs one worker process executes at once (always 1 on SQLite)
    concurrency: int = Field(default=2, ge=1, le=64)
    #: on SIGTERM, how long running syncs may finish before they are interrupted (and re-queued)
    shutdown_grace_seconds: float = Field(default=20.0, ge=0, le=3600)
    #: how often the scheduler re-reads the schedules table (changes made on other nodes)
    reload_seconds: float = Field(default=15.0, gt=0, le=3600)
    #: at start, slots this far in the past are claimed too (the ledger drops ones already taken)
    catchup_seconds: float = Field(default=300.0, ge=0, le=86400)


def scheduler_settings(hub: Any) -> SchedulerSettings:
    own = getattr(hub.settings, "scheduler", None)
    return own if isinstance(own, SchedulerSettings) else SchedulerSettings()
