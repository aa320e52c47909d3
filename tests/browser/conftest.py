"""A real Chromium (Debian's package) driven by Playwright against a live Lejek server."""

from __future__ import annotations

import os
import shutil
import threading
import time

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        if os.environ.get("LEJEK_REQUIRE_BROWSER"):
            pytest.fail(f"Chromium not found at {CHROMIUM}; install Debian's chromium package.")
        pytest.skip("Chromium is not installed (apt-get install chromium).")
    # Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
    # between browser steps are still synchronous and safe.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS
        )
        yield browser
        browser.close()


class ServedRequests:
    """Wraps the live server's application: counts the requests it is serving, and serves them
    one at a time when the server threads share the test's in-memory SQLite connection.

    A page that fetches several parts at once (the reports dashboard) would otherwise run
    queries on that one connection from several threads together ("database table is
    locked"), and a request still running when a test ends would meet the database being
    flushed. PostgreSQL gives each thread its own connection, so there requests run in
    parallel as in production."""

    def __init__(self, server, *, one_at_a_time: bool):
        self.application = server.get_app()
        self.lock = threading.Lock() if one_at_a_time else None
        self.busy = 0
        self.count_lock = threading.Lock()
        server.set_app(self)

    def __call__(self, environ, start_response):
        with self.count_lock:
            self.busy += 1
        try:
            if self.lock is None:
                return self.serve(environ, start_response)
            with self.lock:
                return self.serve(environ, start_response)
        finally:
            with self.count_lock:
                self.busy -= 1

    def serve(self, environ, start_response):
        # The whole body, and the response closed (request_finished: database work), while
        # this request is counted and holds the lock.
        result = self.application(environ, start_response)
        try:
            return list(result)
        finally:
            if hasattr(result, "close"):
                result.close()

    def wait_until_idle(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while self.busy and time.monotonic() < deadline:
            time.sleep(0.02)


@pytest.fixture(scope="session")
def served_requests(live_server):
    shares_connection = bool(live_server.thread.connections_override)
    return ServedRequests(live_server.thread.httpd, one_at_a_time=shares_connection)


@pytest.fixture
def page(browser, live_server, served_requests):
    context = browser.new_context(
        base_url=live_server.url, locale="en-GB", viewport={"width": 1280, "height": 900}
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()
    # Requests the closed page had started finish before the database is flushed.
    served_requests.wait_until_idle()


def log_in(page, email: str, password: str) -> None:
    page.goto("/login/")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/")
