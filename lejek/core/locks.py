"""Locks on natural keys (an e-mail, a phone) rather than on rows that may not exist yet.

Two submissions of the same new person arriving together must not both see "no lead yet" and
both create one. On PostgreSQL a transaction-scoped advisory lock on the key serialises them;
SQLite already runs one writing transaction at a time (BEGIN IMMEDIATE, see settings).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable

from django.db import OperationalError, connection, transaction


def lock_key(key: str) -> None:
    """Hold a lock on `key` until the current transaction ends. Call inside atomic()."""
    if connection.vendor != "postgresql":
        return
    digest = hashlib.blake2b(key.encode(), digest_size=8).digest()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [int.from_bytes(digest, signed=True)])


# How often a write polls SQLite's lock while another transaction writes (seconds), and for
# how long it keeps trying (the busy timeout of the settings).
POLL = 0.001
WAIT = 20.0


def atomic_when_free[T](work: Callable[[], T]) -> T:
    """Run `work` in one transaction; on SQLite, start it the moment the write lock is free.

    SQLite lets one transaction write at a time. Its own wait for the lock (the busy
    timeout) sleeps 1, 2, 5, 10 … up to 100 ms between tries, so a short write that arrives
    during a worker's batch often starts tens of milliseconds after the batch ended. Here
    the transaction is begun without waiting and tried again every millisecond instead. For
    short writes on hot paths (the public form endpoint); PostgreSQL needs none of it.
    """
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        with transaction.atomic():
            return work()
    deadline = time.monotonic() + WAIT
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA busy_timeout = 0")
    try:
        while True:
            try:
                with transaction.atomic():
                    return work()
            except OperationalError as error:
                if "locked" not in str(error) or time.monotonic() > deadline:
                    raise
            time.sleep(POLL)
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA busy_timeout = {int(WAIT * 1000)}")
