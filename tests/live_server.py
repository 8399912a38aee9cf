"""A real HTTP server on loopback for the tests: an ASGI app under uvicorn in a daemon thread.

Imported by module name (``from live_server import ...``): ``tests/`` is on the path through its
conftest, and test folders are not packages.
"""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import uvicorn

__all__ = ["free_port", "start_server", "stop_server"]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(app: Any, port: int, **config: Any) -> tuple[uvicorn.Server, threading.Thread]:
    """Serve ``app`` on 127.0.0.1:``port`` (``config``: more uvicorn.Config options); return once it listens."""
    options: dict[str, Any] = {"log_config": None, "access_log": False, "lifespan": "on", **config}
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, **options))
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    return server, thread


def stop_server(server: uvicorn.Server, thread: threading.Thread) -> None:
    server.should_exit = True
    thread.join(timeout=30)
