"""Moodle web services (REST protocol, JSON) as a FediFlow LMS connector: site, users, courses, enrolments."""

from connectors.moodle.connector import MoodleConfig, MoodleConnector

__all__ = ["MoodleConfig", "MoodleConnector"]
