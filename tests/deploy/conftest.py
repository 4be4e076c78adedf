"""A PostgreSQL server per test session for the distributed deployment's tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.deploy.pg_server import PgServer, available


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    reason = available()
    if reason:
        pytest.skip(reason)
    server = PgServer()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def pg_dsn(pg_server: PgServer) -> str:
    return pg_server.new_database()
