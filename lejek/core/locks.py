"""Locks on natural keys (an e-mail, a phone) rather than on rows that may not exist yet.

Two submissions of the same new person arriving together must not both see "no lead yet" and
both create one. On PostgreSQL a transaction-scoped advisory lock on the key serialises them;
SQLite already runs one writing transaction at a time (BEGIN IMMEDIATE, see settings).
"""

from __future__ import annotations

import hashlib

from django.db import connection


def lock_key(key: str) -> None:
    """Hold a lock on `key` until the current transaction ends. Call inside atomic()."""
    if connection.vendor != "postgresql":
        return
    digest = hashlib.blake2b(key.encode(), digest_size=8).digest()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [int.from_bytes(digest, signed=True)])
