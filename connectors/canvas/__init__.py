"""Canvas LMS (REST API v1) as a FediFlow LMS connector: accounts, users, courses, sections, enrollments."""

from connectors.canvas.connector import CanvasConfig, CanvasConnector

__all__ = ["CanvasConfig", "CanvasConnector"]
