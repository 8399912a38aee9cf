"""Settings of the worker and scheduler roles: ``Settings.scheduler`` (``FEDIFLOW_SCHEDULER__...``)."""

from __future__ import annotations

from typing import Any

from hub.settings import SchedulerSettings

__all__ = ["SchedulerSettings", "scheduler_settings"]


def scheduler_settings(hub: Any) -> SchedulerSettings:
    """The scheduler settings of a hub."""
    return hub.settings.scheduler
