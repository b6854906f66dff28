"""``manage.py demo`` on an empty database: started, seeded, searchable, stopped cleanly."""

from __future__ import annotations

import http.cookiejar
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

from devtools import databases, processes
from devtools.demo_catalogue import demo_products

ROOT = Path(settings.BASE_DIR)


@pytest.fixture
def throwaway_database() -> Iterator[str]:
    """A fresh database on the test PostgreSQL server, as a DATABASE_URL; dropped afterwards."""
    name = f"demo_test_{uuid.uuid4().hex[:10]}"
    databases.create_database(name)
    yield processes.database_url({**settings.DATABASES["default"], "NAME": name})
    databases.drop_database(name)


def _multipart(fields: dict[str, str], files: dict[str, tuple[str, bytes]]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode() for k, v in fields.items()
    ]
    for key, (filename, content) in files.items():
        head = f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"; filename="{filename}"\r\n'
        parts.append(head.encode() + b"Content-Type: image/jpeg\r\n\r\n" + content + b"\r\n")
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def test_demo_starts_seeds_serves_search_and_stops_on_ctrl_c(throwaway_database, tmp_path):
    port = processes.free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": throwaway_database,
        "REDIS_URL": f"{settings.REDIS_URL}/11",
        "CELERY_BROKER_KEY_PREFIX": f"demo-test-{uuid.uuid4().hex[:8]}:",
        "CLIP_MODEL": str(tmp_path / "no-clip-here"),  # as offline: CLIP cannot load
        "HF_HUB_OFFLINE": "1",
        "DJANGO_TEST_MEDIA_ROOT": str(tmp_path / "media"),
        "PYTHONUNBUFFERED": "1",
    }
    command = [sys.executable, "manage.py", "demo", "--products", "6", "--no-worker", "--port", str(port)]
    demo = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output: list[str] = []
    try:
        deadline = time.monotonic() + 150
        assert demo.stdout is not None
        while not any("Press Ctrl+C" in line for line in output):
            line = demo.stdout.readline()
            assert line or demo.poll() is None, "".join(output)
            output.append(line)
            assert time.monotonic() < deadline, "".join(output)
        text = "".join(output)
        assert re.search(r"Admin login: admin / \S+", text)
        assert "CLIP is not available" in text
        assert f"http://127.0.0.1:{port}/search/" in text

        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        shop = opener.open(f"http://127.0.0.1:{port}/", timeout=30).read().decode()
        first = next(demo_products(count=6))
        assert first.name in shop

        page = opener.open(f"http://127.0.0.1:{port}/search/", timeout=30).read().decode()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        assert token, page
        body, content_type = _multipart({"csrfmiddlewaretoken": token.group(1)}, {"images": ("q.jpg", first.photos[3])})
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/search/",
            data=body,
            headers={"Content-Type": content_type, "Referer": f"http://127.0.0.1:{port}/search/"},
        )
        results = opener.open(request, timeout=60).read().decode()
        assert first.name in results
    finally:
        demo.send_signal(signal.SIGINT)
        try:
            rest, _ = demo.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            demo.kill()
            rest, _ = demo.communicate()
        output.append(rest or "")

    assert demo.returncode == 0, "".join(output)
    assert "Demo stopped." in "".join(output)
    assert not processes.port_in_use("127.0.0.1", port)
