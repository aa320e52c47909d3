"""A gunicorn serving Lejek for a benchmark: a free port, start it, wait for it, stop it."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(port: int, *, workers: int, env: dict[str, str]) -> subprocess.Popen:
    """gunicorn on 127.0.0.1:`port` with `workers` sync workers, once it takes connections."""
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        "lejek.wsgi:application",
        "--workers",
        str(workers),
        "--timeout",
        "120",
        "--bind",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
    ]
    server = subprocess.Popen(command, cwd=ROOT, env=env)
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return server
        except OSError:
            time.sleep(0.2)
    stop(server)
    raise RuntimeError("gunicorn did not start")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
