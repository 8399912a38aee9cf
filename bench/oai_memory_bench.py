"""Benchmark: peak memory of a sync harvesting an oversized OAI-PMH response, with and without the caps.

    python -m bench.oai_memory_bench                      # the issue's shape: 600k small elements, ~50 MB
    python -m bench.oai_memory_bench --subjects 200000 --pad 0

The loopback OAI-PMH server of the library tests streams one ListRecords response (chunked, no
Content-Length) holding three records, the second of which has ``--subjects`` ``<dc:subject>``
elements. Each mode syncs it into a fresh SQLite store in a child process and reports that
process's peak RSS (``ru_maxrss``), the run's outcome and the bytes of JSON stored (entities +
change log):

* ``no caps``: ``max_response_bytes`` and ``sync.max_record_bytes`` at 1 GiB (what the hub did
  before it had them: the whole body read, the huge record stored twice);
* ``SDK default 64 MiB``: 64 MiB per response (HttpSourceConfig's default), 4 MiB per record (the
  record is refused, the others land);
* ``OAI default 16 MiB``: the oai_pmh connector's own default ``max_response_bytes``, below the
  body: the read stops there.

Figures go to docs/data-quality.md ("Harvests and oversized input").
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet

LIBRARY_TESTS = Path(__file__).parents[1] / "tests" / "unit" / "connectors" / "library"
GIB, MIB = 1024**3, 1024**2
MODES = {"no caps": (GIB, GIB), "SDK default 64 MiB": (64 * MIB, 4 * MIB), "OAI default 16 MiB": (16 * MIB, 4 * MIB)}


async def child(base_url: str, max_response: int) -> dict[str, Any]:
    from sqlalchemy import func, select

    from connectors.library import OaiPmhConfig
    from hub.context import Hub
    from hub.errors import HubError
    from hub.settings import load_settings
    from hub.store._tables import changes, entities
    from hub.sync import SyncEngine

    hub = Hub.from_settings(load_settings())
    await hub.db.migrate()
    await hub.store.ensure_tenant("default")
    store = await hub.store.tenant("default")
    config = store.validate_config(OaiPmhConfig, {"base_url": base_url, "max_response_bytes": max_response})
    await store.add_source("lib", "oai_pmh", config)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    result: dict[str, Any]
    try:
        summary = await SyncEngine(hub).sync(store, "lib")
        _, errors = await store.run_errors(summary.run_id)
        result = {"status": summary.status, "created": summary.created, "errors": summary.errors,
                  "message": errors[0].message if errors else ""}
    except HubError as exc:
        result = {"status": "failed", "message": str(exc)[:160]}
    result["seconds"] = round(time.perf_counter() - started, 2)
    result["rss_before_mb"] = round(before)
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    async with hub.db.connect() as conn:
        stored = 0
        for table in (entities, changes):
            stored += (await conn.execute(select(func.coalesce(func.sum(func.length(table.c.data)), 0)))).scalar_one()
    result["stored_json_mb"] = round(stored / MIB, 1)
    await hub.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subjects", type=int, default=600_000)
    parser.add_argument("--pad", type=int, default=40, help="extra characters per subject (40: a ~50 MB body)")
    parser.add_argument("--child", nargs=2, metavar=("URL", "MAX_RESPONSE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(asyncio.run(child(args.child[0], int(args.child[1])))))
        return

    sys.path.insert(0, str(LIBRARY_TESTS))
    from library_fakeserver import FakeLibraryServer, Streamed, generated_list_records

    body_size = sum(len(c) for c in generated_list_records(1, args.subjects, pad=args.pad))
    print(f"ListRecords body: ~{body_size / MIB:.1f} MiB, {args.subjects} subject elements in one record")
    results = {}
    with FakeLibraryServer() as server:
        server.streamed["/bench/oai"] = Streamed(lambda: _three(generated_list_records, args.subjects, args.pad))
        for mode, (max_response, max_record) in MODES.items():
            with tempfile.TemporaryDirectory() as tmp:
                env = {**os.environ, "FEDIFLOW_DATA_DIR": tmp, "FEDIFLOW_SECURITY__SECRET_KEY": Fernet.generate_key().decode(),
                       "FEDIFLOW_DATABASE__URL": f"sqlite+aiosqlite:///{tmp}/hub.db", "FEDIFLOW_LOG_LEVEL": "ERROR",
                       "FEDIFLOW_SYNC__MAX_RECORD_BYTES": str(max_record)}
                out = subprocess.run([sys.executable, "-m", "bench.oai_memory_bench", "--child",
                                      server.url + "/bench/oai", str(max_response)],
                                     env=env, capture_output=True, text=True, check=True)
                results[mode] = json.loads(out.stdout.strip().splitlines()[-1])
                print(f"{mode:22} {json.dumps(results[mode])}")


def _three(generate: Any, subjects: int, pad: int) -> Any:
    """Records 1 and 3 small, record 2 with ``subjects`` subjects, as one streamed ListRecords body."""
    small = list(generate(1, 1))
    huge = generate(1, subjects, pad=pad)
    yield small[0]
    yield small[1].replace(b"oai:generated:1", b"oai:generated:small-1")
    yield from list(huge)[1:-1]
    yield small[1].replace(b"oai:generated:1", b"oai:generated:small-3")
    yield small[-1]


if __name__ == "__main__":
    main()
