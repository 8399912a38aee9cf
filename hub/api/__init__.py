"""The REST API (Litestar): the only package of the hub that imports a web framework."""

from hub.api.app import API_PREFIX, create_app

__all__ = ["API_PREFIX", "create_app"]
