"""OneRoster 1.2 rostering REST API (Litestar router), mounted by :func:`hub.api.create_app`."""

from hub.api.oneroster._errors import imsx_for_oneroster_paths
from hub.api.oneroster._routes import ONEROSTER_PREFIX, oneroster_router

__all__ = ["ONEROSTER_PREFIX", "imsx_for_oneroster_paths", "oneroster_router"]
