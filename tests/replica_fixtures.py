"""Pytest plugin: a real hot standby of the embedded test PostgreSQL, streaming from it
(``devtools.standby``). Only committed rows are replicated, hence transactional tests.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from devtools.standby import Standby, start_standby


@pytest.fixture
def standby(django_db_blocker) -> Iterator[Standby]:
    """A hot standby of the test database's server behind the ``replica1`` alias (which the test
    settings define as the primary under another name). Tests mark themselves
    ``django_db(transaction=True, databases=["default", "replica1"])``."""
    from django.conf import settings
    from django.db import connections

    default = connections["default"].settings_dict
    parent = Path(settings.VAR_DIR) / "test" / f"standby-{uuid.uuid4().hex[:8]}"
    parent.mkdir(parents=True)
    parent.chmod(0o755)
    server = start_standby(primary_socket_dir=str(default["HOST"]), user=str(default["USER"]), parent=parent)
    replica = connections["replica1"].settings_dict  # shared by every thread's connection
    with django_db_blocker.unblock():
        connections["replica1"].close()
    replica["HOST"], replica["NAME"] = str(server.socket_dir), default["NAME"]
    try:
        yield server
    finally:
        with django_db_blocker.unblock():
            connections["replica1"].close()
        replica["HOST"] = default["HOST"]
        server.stop()
        shutil.rmtree(parent, ignore_errors=True)
