"""A short write on SQLite starts as soon as another transaction's write lock is released."""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest
from django.db import IntegrityError, connection

from lejek.core.locks import atomic_when_free
from lejek.users.models import Team

pytestmark = pytest.mark.django_db(transaction=True)


def busy_timeout() -> int:
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA busy_timeout")
        return cursor.fetchone()[0]


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's write lock")
def test_a_write_waits_for_the_lock_and_runs_right_after_it_is_released():
    connection.ensure_connection()
    holder = sqlite3.connect(
        connection.settings_dict["NAME"], uri=True, isolation_level=None, check_same_thread=False
    )
    holder.execute("BEGIN IMMEDIATE")  # another writer's transaction, open
    released = []

    def release():
        time.sleep(0.2)
        released.append(time.monotonic())
        holder.execute("COMMIT")

    thread = threading.Thread(target=release)
    thread.start()
    try:
        started = time.monotonic()
        team = atomic_when_free(lambda: Team.objects.create(name="Waited"))
        finished = time.monotonic()
    finally:
        thread.join()
        holder.close()

    assert released and finished >= released[0] > started
    assert list(Team.objects.values_list("name", flat=True)) == ["Waited"]
    assert team.pk is not None
    assert busy_timeout() == 20_000  # the settings' wait, back for every other write


def test_a_failed_write_leaves_nothing_and_its_error_is_raised():
    Team.objects.create(name="Sprzedaż")

    def two_teams():
        Team.objects.create(name="Marketing")
        Team.objects.create(name="Sprzedaż")  # the name is unique

    with pytest.raises(IntegrityError):
        atomic_when_free(two_teams)
    assert list(Team.objects.values_list("name", flat=True)) == ["Sprzedaż"]
    if connection.vendor == "sqlite":
        assert busy_timeout() == 20_000
