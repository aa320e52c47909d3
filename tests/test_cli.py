"""The `lejek` command: help, pass-through to Django's commands, and `lejek run`."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from lejek import cli
from lejek.demo.data import build_demo
from lejek.demo.scenario import DEMO_PASSWORD


class FakeProcess:
    """Stands in for a child process: `lejek run` starts a worker and a server."""

    def __init__(self, argv: list[str]):
        self.argv = argv
        self.returncode = None

    def wait(self, timeout=None):
        self.returncode = 0
        return 0

    def poll(self):
        return self.returncode

    def terminate(self):
        self.returncode = -15

    def kill(self):
        self.returncode = -9


@pytest.fixture
def spawned(monkeypatch) -> list[FakeProcess]:
    started: list[FakeProcess] = []

    def spawn(argv):
        started.append(FakeProcess(argv))
        return started[-1]

    monkeypatch.setattr(cli, "spawn", spawn)
    return started


def test_help_lists_the_lejek_commands(capsys):
    assert cli.main(["--help"]) == 0
    out = capsys.readouterr().out
    for name in ("run", "demo", "worker"):
        assert f"\n  {name} " in out
    assert "lejek migrate" in out


def test_no_arguments_shows_help(capsys):
    assert cli.main([]) == 0
    assert "Usage: lejek COMMAND" in capsys.readouterr().out


@pytest.mark.django_db
def test_other_commands_pass_through_to_django(capsys):
    assert cli.main(["check"]) == 0
    assert "System check identified no issues" in capsys.readouterr().out


def test_worker_runs_the_database_task_worker(db, monkeypatch):
    seen = []
    monkeypatch.setattr(cli, "manage", lambda argv: seen.append(argv) or 0)
    cli.main(["worker", "--batch", "--max-tasks", "3"])
    assert seen == [["db_worker", "--batch", "--max-tasks", "3"]]


def test_a_starting_worker_queues_a_run_for_submissions_left_waiting(
    marketer, north, monkeypatch, capsys
):
    import json

    from django.core.cache import cache
    from django.test import Client, override_settings
    from django.urls import reverse
    from django_tasks_db.models import DBTaskResult

    from tests.test_webforms import make_form

    monkeypatch.setattr(cli, "manage", lambda argv: 0)
    cli.main(["worker"])
    assert "were waiting" not in capsys.readouterr().out  # nothing waits: nothing queued
    cache.clear()
    form = make_form(marketer, team=north)
    with override_settings(LEJEK_FORM_RATE_LIMIT="off"):
        sent = Client().post(
            reverse("public-form", args=[form.key]),
            data=json.dumps({"first_name": "Zofia", "email": "zofia@przyklad.pl"}),
            content_type="application/json",
        )
    assert sent.status_code == 202
    DBTaskResult.objects.all().delete()  # the run asked for is lost, as in a crash

    cli.main(["worker"])

    assert "Web-form submissions were waiting" in capsys.readouterr().out
    assert DBTaskResult.objects.filter(task_path__endswith="process_form_submissions").count() == 1


def test_console_script_module_runs(tmp_path):
    env = {**os.environ, "LEJEK_VAR_DIR": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "-m", "lejek.cli", "demo", "--help"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "--seed" in result.stdout
    assert "--if-empty" in result.stdout


def test_banner_shows_the_address_and_the_demo_logins():
    text = cli.banner(
        "http://127.0.0.1:8000/",
        [("anna@lejek.demo", "sales rep", "Sprzedaż Północ"), ("admin@lejek.demo", "admin", "")],
    )
    assert "http://127.0.0.1:8000/" in text
    assert "anna@lejek.demo" in text
    assert "admin@lejek.demo" in text
    assert DEMO_PASSWORD in text
    assert "Ctrl+C" in text


def test_banner_without_demo_users_says_how_to_sign_in():
    assert "createsuperuser" in cli.banner("http://127.0.0.1:8000/", [])


def test_addresses_for_ipv6_and_all_interfaces():
    assert cli.server_url("0.0.0.0", 8000) == "http://127.0.0.1:8000/"
    assert cli.server_url("::1", 9000) == "http://[::1]:9000/"
    assert cli.runserver_args("::1", 9000) == ["[::1]:9000", "--noreload", "--ipv6"]


def test_run_prints_banner_and_starts_worker_and_server(db, spawned, capsys):
    build_demo(leads=30)
    assert cli.main(["run", "--port", "8123"]) == 0
    out = capsys.readouterr().out
    assert "http://127.0.0.1:8123/" in out
    assert "manager@lejek.demo" in out
    assert DEMO_PASSWORD in out
    worker, server = spawned
    assert worker.argv[0] == "worker"
    assert server.argv[:3] == ["runserver", "127.0.0.1:8123", "--noreload"]
    assert worker.returncode is not None, "the worker is stopped when the server exits"


def test_run_on_an_empty_database_loads_the_demo_data(db, spawned, capsys, monkeypatch):
    loaded = []
    monkeypatch.setattr(cli, "load_demo", lambda: loaded.append(True))
    cli.main(["run"])
    assert loaded == [True]
    assert "createsuperuser" in capsys.readouterr().out
