"""Shared fixtures: role personas, service markers, a Celery worker, a browser."""

import os
import threading
import weakref

import pytest
from celery.signals import task_postrun
from django.conf import settings
from django.contrib.auth.models import Group
from django.db import connections
from django.utils import translation

from apps.core.roles import COMPLIANCE_OFFICER
from apps.core.roles import DPO
from apps.core.roles import SALES

PASSWORD = "correct-horse-battery-staple"
CHROMIUM_PATH = "/usr/bin/chromium"

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


_database_wrappers = weakref.WeakSet()
_create_connection = type(connections).create_connection


def _create_tracked_connection(self, alias):
    wrapper = _create_connection(self, alias)
    _database_wrappers.add(wrapper)
    return wrapper


# Django keeps one connection per contextvars context, and Playwright's sync
# API leaves the main thread in more than one. The wrappers are recorded so
# that the session can close every one of them before dropping the database.
type(connections).create_connection = _create_tracked_connection


@pytest.fixture(scope="session", autouse=True)
def _connections_closed_at_end(django_db_setup):
    yield
    for wrapper in list(_database_wrappers):
        # Connections of other threads are closed by those threads.
        if wrapper._thread_ident == threading.get_ident():
            wrapper.close()


def _database_vendor() -> str:
    return settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]


def pytest_collection_modifyitems(config, items):
    in_ci = settings.IN_CI
    postgres = _database_vendor() == "postgresql"
    skip_postgres = pytest.mark.skip(
        reason="needs PostgreSQL on 127.0.0.1:5432; this run uses SQLite"
    )
    skip_redis = pytest.mark.skip(reason="needs Redis on 127.0.0.1:6379")
    skip_browser = pytest.mark.skip(
        reason=f"needs Debian's chromium at {CHROMIUM_PATH} (apt-get install chromium)"
    )
    for item in items:
        if "postgres" in item.keywords and not postgres and not in_ci:
            item.add_marker(skip_postgres)
        if "redis" in item.keywords and not settings.REDIS_REACHABLE and not in_ci:
            item.add_marker(skip_redis)
        if (
            "browser" in item.keywords
            and not os.path.exists(CHROMIUM_PATH)
            and not in_ci
        ):
            item.add_marker(skip_browser)


@pytest.fixture(autouse=True)
def english_messages():
    """Run each test with English active outside requests.

    Requests still pick their language from Accept-Language, French by
    default. The override only stops a French request in one test from leaking
    its active language into the service messages of the next.
    """
    with translation.override("en"):
        yield


def _make_user(django_user_model, username, role=None, **extra):
    user = django_user_model.objects.create_user(
        username=username, password=PASSWORD, email=f"{username}@example.test", **extra
    )
    if role:
        user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def compliance_officer(db, django_user_model):
    return _make_user(django_user_model, "camille", COMPLIANCE_OFFICER)


@pytest.fixture
def sales_user(db, django_user_model):
    return _make_user(django_user_model, "sacha", SALES)


@pytest.fixture
def dpo(db, django_user_model):
    return _make_user(django_user_model, "dominique", DPO)


@pytest.fixture
def outsider(db, django_user_model):
    return _make_user(django_user_model, "olivier")


@pytest.fixture
def client_for(client):
    """Return a function that logs ``client`` in as the given user."""

    def login(user):
        client.force_login(user)
        return client

    return login


@pytest.fixture
def celery_worker_redis(transactional_db):
    """Run a real Celery worker thread on the Redis broker for one test.

    Tasks are sent to Redis (not run eagerly) and executed by the worker,
    which opens its own database connections, so the test needs
    ``transactional_db`` to see their effects.
    """
    from celery.contrib.testing.worker import start_worker

    from config.celery import app

    previous = {
        "broker_url": app.conf.broker_url,
        "task_always_eager": app.conf.task_always_eager,
        "broker_transport_options": app.conf.broker_transport_options,
    }
    app.conf.update(
        broker_url=settings.TEST_REDIS_URL,
        task_always_eager=False,
        broker_transport_options={},
        result_backend=None,
    )
    _reset_producer_pool(app)
    app.connection_for_write().ensure_connection(max_retries=1)
    task_postrun.connect(_close_worker_connections, weak=False)
    try:
        with start_worker(
            app, pool="solo", perform_ping_check=False, shutdown_timeout=30
        ) as worker:
            yield worker
    finally:
        task_postrun.disconnect(_close_worker_connections)
        app.conf.update(previous)
        _reset_producer_pool(app)


def _close_worker_connections(**kwargs):
    # The worker thread's database connections would otherwise outlive the
    # test and stop pytest from dropping the test database at the end.
    if threading.current_thread() is not threading.main_thread():
        connections.close_all()


def _reset_producer_pool(app):
    # The producer pool keeps connections to the broker it was first used with
    # (memory:// in eager tests), so .delay() would never reach Redis.
    # Celery does the same after a fork (Celery._after_fork).
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=CHROMIUM_PATH,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield instance
        instance.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield page
    context.close()


@pytest.fixture
def login_as(page):
    """Log ``page`` in through the login form as the given user."""

    def login(user):
        page.goto("/login/")
        page.fill("input[name=username]", user.username)
        page.fill("input[name=password]", PASSWORD)
        page.click("main button[type=submit]")
        page.wait_for_url("**/")
        return page

    return login
