"""Rate limiting per API client (or per remote address before authentication)."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.middleware.rate_limit import RateLimitConfig, get_remote_address
from litestar.stores.base import Store
from litestar.stores.memory import MemoryStore

from hub.auth import Principal
from hub.settings import ApiSettings

__all__ = ["STORE_NAME", "rate_limit_config", "rate_limit_identifier", "rate_limit_store"]

STORE_NAME = "rate_limit"


def rate_limit_identifier(request: Request[Any, Any, Any]) -> str:
    """The client id of the authenticated caller, else the remote address."""
    user = request.scope.get("user")
    if isinstance(user, Principal):
        return f"client:{user.client_id}"
    return f"addr:{get_remote_address(request)}"


def rate_limit_config(settings: ApiSettings) -> RateLimitConfig:
    return RateLimitConfig(
        rate_limit=("minute", settings.rate_limit_per_minute),
        identifier_for_request=rate_limit_identifier,
        exclude_opt_key="exclude_from_rate_limit",
        store=STORE_NAME,
    )


def rate_limit_store(settings: ApiSettings) -> Store:
    """Redis when ``api.redis_url`` is set (shared by every API node), memory otherwise."""
    if settings.redis_url:
        from litestar.stores.redis import RedisStore

        return RedisStore.with_client(url=settings.redis_url, namespace="fediflow")
    return MemoryStore()
