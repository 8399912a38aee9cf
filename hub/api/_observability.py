"""Request ids, the access log, Prometheus metrics and the health endpoints.

:class:`RequestContext` wraps the whole ASGI app (so unknown paths are counted and logged too):
it takes ``X-Request-ID`` from the request when it is sane, otherwise makes one, returns it in
the response, puts it in every log line of the request (``hub.logging.request_id_var``) and
writes one access log line per request.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from litestar import Response, get
from litestar.datastructures import State
from litestar.openapi.datastructures import ResponseSpec
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from hub.api._problems import problem_responses
from hub.errors import HubError
from hub.logging import request_id_var
from hub.store import HubStats, hub_stats

__all__ = ["HealthStatus", "Metrics", "RequestContext", "live", "metrics_endpoint", "ready"]

access_log = logging.getLogger("fediflow.api.access")
log = logging.getLogger("fediflow.api")
_SANE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


class _StatsCollector(Collector):
    """Hub-wide sync counters, read from the database at scrape time (true for every process)."""

    def __init__(self) -> None:
        self.stats: HubStats | None = None

    def collect(self) -> Iterator[Metric]:
        stats = self.stats
        if stats is None:
            return
        runs = GaugeMetricFamily("fediflow_sync_runs", "Sync runs by status", labels=["status"])
        for status in ("queued", "running", "succeeded", "failed", *sorted(set(stats.runs_by_status) - {
                "queued", "running", "succeeded", "failed"})):
            runs.add_metric([status], stats.runs_by_status.get(status, 0))
        yield runs
        written = CounterMetricFamily("fediflow_records_written", "Canonical records written by syncs", labels=["op"])
        for op, count in stats.records_written.items():
            written.add_metric([op], count)
        yield written
        yield CounterMetricFamily("fediflow_record_errors", "Records rejected by syncs", value=stats.record_errors)
        queue = GaugeMetricFamily("fediflow_queue_depth", "Work waiting in a queue", labels=["queue"])
        queue.add_metric(["sync_runs"], stats.queued_runs)
        yield queue


class Metrics:
    """The Prometheus registry of one app (one per app, so several apps can live in one process)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter("fediflow_http_requests", "HTTP requests", ["method", "route", "status"],
                                registry=self.registry)
        self.latency = Histogram("fediflow_http_request_duration_seconds", "HTTP request latency",
                                 ["method", "route"], registry=self.registry)
        self.sync_stats = _StatsCollector()
        self.registry.register(self.sync_stats)

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(seconds)

    async def render(self, hub: Any) -> bytes:
        try:
            self.sync_stats.stats = await hub_stats(hub.db)
        except (HubError, OSError) as exc:
            log.warning("metrics: cannot read sync counters", extra={"error": str(exc)})
        return generate_latest(self.registry)


class RequestContext:
    """Outermost ASGI wrapper: request id in and out, one access log line, request metrics."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"x-request-id"), "")
        request_id = incoming if _SANE_ID.match(incoming) else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"x-request-id"]
                headers.append((b"x-request-id", request_id.encode()))
                message["headers"] = headers  # type: ignore[typeddict-unknown-key]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            elapsed = time.perf_counter() - started
            route = scope.get("path_template") or "<unmatched>"
            method = scope.get("method", "")
            self.metrics.observe(method, route, status, elapsed)
            user = scope.get("user")
            access_log.info(
                "request",
                extra={
                    "method": method,
                    "path": scope.get("path", ""),
                    "route": route,
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 2),
                    "client_id": getattr(user, "client_id", None),
                    "remote": (scope.get("client") or ("", 0))[0],
                },
            )
            request_id_var.reset(token)


@dataclass
class HealthStatus:
    status: str
    checks: dict[str, str]


_PUBLIC = {"exclude_from_auth": True}


@get("/health/live", tags=["health"], summary="Liveness: the process answers", opt=_PUBLIC,
     responses=problem_responses(429, 500))
async def live() -> HealthStatus:
    return HealthStatus("ok", {})


@get("/health/ready", tags=["health"], summary="Readiness: database reachable and migrations current", opt=_PUBLIC,
     responses={503: ResponseSpec(
         HealthStatus, description="Not ready: the failing check is named", generate_examples=False),
         **problem_responses(429, 500)})
async def ready(state: State) -> Response[HealthStatus]:
    db = state.hub.db
    checks: dict[str, str] = {}
    try:
        current = await db.is_current()
        checks["database"] = "ok"
        checks["migrations"] = "ok" if current else "pending: run `fediflow init` (migrations)"
    except Exception as exc:  # any driver error means: not ready; the reason is reported, not raised
        log.warning("readiness check failed", extra={"error": f"{type(exc).__name__}: {exc}"})
        checks["database"] = f"unreachable ({type(exc).__name__})"
    ok = all(v == "ok" for v in checks.values()) and len(checks) == 2
    return Response(HealthStatus("ok" if ok else "unavailable", checks), status_code=200 if ok else 503)


@get("/metrics", tags=["health"], summary="Prometheus metrics (text format)", opt=_PUBLIC,
     media_type=CONTENT_TYPE_LATEST, responses=problem_responses(429, 500))
async def metrics_endpoint(state: State) -> Response[bytes]:
    body = await state.metrics.render(state.hub)
    return Response(body, media_type=CONTENT_TYPE_LATEST)


