"""Why the sync's SQLite writes run in a process of their own: the GIL convoy of a writer thread.

    python -m bench.sqlite_gil --batches 5

Measured in the same run: ``--batches`` inserts of 2,000 rows (an integer, 400 characters and a
16-byte blob with an index on it, one commit each) with ``sqlite3.executemany`` in a thread, first
alone, then beside a thread that runs pure-Python work the whole time (as the sync's mapping
does). sqlite3 releases the GIL around each row's step and must take it back for the next row;
beside a busy thread every row waits for the GIL (up to the 5 ms switch interval).
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import tempfile
import threading
import time
from pathlib import Path


def insert_batches(path: Path, batches: int) -> float:
    conn = sqlite3.connect(path, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, k INTEGER, d TEXT, h BLOB)")
    conn.execute("CREATE INDEX IF NOT EXISTS t_h ON t (h)")
    start = time.perf_counter()
    for _ in range(batches):
        conn.executemany("INSERT INTO t (k, d, h) VALUES (?, ?, ?)",
                         [(i, "x" * 400, os.urandom(16)) for i in range(2000)])
        conn.commit()
    conn.close()
    return time.perf_counter() - start


def timed_in_thread(path: Path, batches: int) -> float:
    result: list[float] = []
    worker = threading.Thread(target=lambda: result.append(insert_batches(path, batches)))
    worker.start()
    worker.join()
    return result[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batches", type=int, default=5)
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        alone = timed_in_thread(Path(folder) / "alone.db", opts.batches)
        stop = threading.Event()

        def busy() -> None:
            total = 0
            while not stop.is_set():
                for i in range(1000):
                    total += i * i

        burner = threading.Thread(target=busy)
        burner.start()
        try:
            beside = timed_in_thread(Path(folder) / "beside.db", opts.batches)
        finally:
            stop.set()
            burner.join()
    rows = opts.batches * 2000
    print(f"writer thread alone:             {alone:8.2f} s ({rows / alone:,.0f} rows/s)")
    print(f"writer thread beside a busy one: {beside:8.2f} s ({rows / beside:,.0f} rows/s)")
    print(f"slow-down: {beside / alone:,.0f}x")


if __name__ == "__main__":
    main()
