"""The `lejek` command.

`lejek run` sets up a local Lejek in one step (database, demo data, worker, web server);
`lejek worker` runs background tasks; every other command is a Django management command
under the same name, so `lejek X args` is `manage.py X args`.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys

# Shown by `lejek --help`; commands that other parts of Lejek provide appear once they exist.
COMMANDS = {
    "run": "set up the database, load demo data if it is empty, start a worker and the web server",
    "demo": "create the deterministic demo data set (--seed N, --size small|large, --reset)",
    "worker": "run background tasks (e-mails, imports, scoring, web-form leads)",
    "import": "import leads, contacts, companies or deals from CSV or XLSX",
    "export": "export records as CSV, XLSX or JSON",
    "bench-data": "generate a large realistic data set for benchmarks",
    "token": "create or revoke a personal API token",
}
BUILT_IN = ("run", "worker")
# `import` is a Python keyword, so its management command has another name.
ALIASES = {"import": "import_records", "bench-data": "bench_data"}
WORKER_COMMAND = "db_worker"


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lejek.settings")
    if not argv or argv[0] in ("-h", "--help"):
        print(usage())
        return 0
    command, rest = argv[0], argv[1:]
    if command == "run":
        return run(rest)
    if command == "worker":
        if "-h" not in rest and "--help" not in rest:
            catch_up()
        return manage([WORKER_COMMAND, *rest])
    return manage([ALIASES.get(command, command), *rest])


def catch_up() -> None:
    """Work left from before the worker started: web-form submissions still waiting."""
    import django

    django.setup()
    from lejek.leads.capture import catch_up as submissions_catch_up

    if submissions_catch_up():
        print("Web-form submissions were waiting: queued for this worker.", flush=True)


def manage(argv: list[str]) -> int:
    from django.core.management import execute_from_command_line

    execute_from_command_line(["lejek", *argv])
    return 0


def usage() -> str:
    available = management_commands()
    lines = ["Usage: lejek COMMAND [options]", "", "Commands:"]
    for name, text in COMMANDS.items():
        if name in BUILT_IN or available is None or ALIASES.get(name, name) in available:
            lines.append(f"  {name:<11} {text}")
    lines += [
        "",
        "Any other Django management command works too: lejek migrate, lejek createsuperuser,",
        "lejek check ... `lejek help` lists them all; `lejek COMMAND --help` explains one.",
    ]
    return "\n".join(lines)


def management_commands() -> set[str] | None:
    """Names of the installed management commands, or None when settings cannot load."""
    try:
        import django
        from django.core.management import get_commands

        django.setup()
        return set(get_commands())
    except Exception:
        # Help must work even when the environment is not configured yet (e.g. DEBUG=0 and
        # no SECRET_KEY): then every command is listed.
        return None


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="lejek run",
        description="Migrate the database, load the demo data if it is empty, and serve Lejek "
        "with a background worker. For local use; production runs gunicorn (see README).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8000, help="port to listen on")
    args = parser.parse_args(argv)

    import django
    from django.core.management import call_command

    django.setup()
    from lejek.demo.data import demo_logins, has_data

    print("Preparing the database…", flush=True)
    call_command("migrate", interactive=False, verbosity=0)
    if not has_data():
        load_demo()
    print(banner(server_url(args.host, args.port), demo_logins()), flush=True)

    worker = server = None
    # A supervisor's SIGTERM must not orphan the children: exit through `finally` instead.
    previous_handler = signal.signal(signal.SIGTERM, exit_on_signal)
    try:
        worker = spawn(["worker", "--no-reload", "--queue-name", "*"])
        server = spawn(["runserver", *runserver_args(args.host, args.port)])
        return server.wait()
    except KeyboardInterrupt:
        # Ctrl+C reached the server and the worker too (one process group), so both are
        # already shutting down: give them a moment before `stop` insists.
        for process in (server, worker):
            if process is not None:
                wait_briefly(process)
        return 0
    finally:
        for process in (server, worker):
            if process is not None:
                stop(process)
        signal.signal(signal.SIGTERM, previous_handler)


def exit_on_signal(signum: int, frame) -> None:
    sys.exit(128 + signum)


def load_demo() -> None:
    from django.core.management import call_command

    print("Loading the demo data set…", flush=True)
    call_command("demo", if_empty=True, verbosity=0)


def spawn(argv: list[str]) -> subprocess.Popen:
    """Start `lejek ARGV` as a child process with this interpreter and environment."""
    return subprocess.Popen([sys.executable, "-m", "lejek.cli", *argv])


def wait_briefly(process: subprocess.Popen, timeout: float = 5) -> None:
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=timeout)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def server_url(host: str, port: int) -> str:
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else host
    if ":" in shown:
        shown = f"[{shown.strip('[]')}]"
    return f"http://{shown}:{port}/"


def runserver_args(host: str, port: int) -> list[str]:
    args = ["--noreload"]
    if ":" in host:
        host = f"[{host.strip('[]')}]"
        args.append("--ipv6")
    return [f"{host}:{port}", *args]


def banner(url: str, logins: list[tuple[str, str, str]]) -> str:
    """What `lejek run` prints before serving: where Lejek is and who can sign in."""
    from lejek.demo.scenario import DEMO_PASSWORD

    rule = "─" * 72
    lines = [rule, f"  Lejek is running at {url}", ""]
    if logins:
        lines.append(f"  Demo logins (password for all: {DEMO_PASSWORD})")
        for email, role, teams in logins:
            lines.append(f"    {email:<24} {role:<14} {teams}".rstrip())
    else:
        lines.append("  Sign in with your account (`lejek createsuperuser` creates one).")
    lines += ["", "  Background tasks run in a worker alongside. Stop both with Ctrl+C.", rule]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
