"""``manage.py demo``: a working shop in one command, offline (see ``devtools.demo``)."""

from __future__ import annotations

import signal
import time
from pathlib import Path
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from devtools import processes
from devtools.demo import DemoShop


class _Stop(Exception):
    """SIGINT or SIGTERM arrived."""


class Command(BaseCommand):
    help = "Run a demo shop: database, admin user, demo catalogue, indexing and web server, offline."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--catalogue", type=Path, help="Import this catalogue (DummyJSON or CSV) instead.")
        parser.add_argument("--images-root", type=Path, help="With --catalogue: see import_catalog --images-root.")
        parser.add_argument("--products", type=int, default=48, help="Size of the drawn demo catalogue.")
        parser.add_argument("--seed", type=int, default=2024, help="Seed of the drawn demo catalogue.")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--addrport", help="Address and port of the web server, e.g. 0.0.0.0:8000.")
        parser.add_argument("--no-worker", action="store_true", help="Index in this process, no Celery worker.")
        parser.add_argument("--reset-admin-password", action="store_true", help="Give the admin a new password.")
        parser.add_argument("--index-timeout", type=float, default=600, help="Seconds to wait for indexing.")

    def handle(self, *args: Any, **options: Any) -> None:
        shop = DemoShop(say=self.stdout.write, in_process=options["no_worker"])
        previous = {sig: signal.signal(sig, _on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            self._run(shop, options)
        except (_Stop, KeyboardInterrupt):
            self.stdout.write("\nStopping…")
        finally:
            shop.stop()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        self.stdout.write("Demo stopped.")

    def _run(self, shop: DemoShop, options: dict[str, Any]) -> None:
        host, port = _address(options)
        if processes.port_in_use(host, port):
            raise CommandError(f"Port {port} on {host} is taken; pass --port or --addrport.")
        shop.choose_encoders()
        shop.prepare_database(reset_admin_password=options["reset_admin_password"])
        if not options["no_worker"]:
            shop.start_worker()
        changes = shop.seed(
            catalogue=options["catalogue"], images_root=options["images_root"],
            products=options["products"], seed=options["seed"],
        )  # fmt: skip
        if changes:
            shop.index(changes, timeout=options["index_timeout"])
        shop.start_server(host, port)
        base = f"http://{'127.0.0.1' if host in {'0.0.0.0', '::'} else host}:{port}"
        self.stdout.write(
            self.style.SUCCESS("\nshoplens demo is running:\n")
            + f"  Shop        {base}/\n  Search      {base}/search/\n  Admin       {base}/admin/\n"
            + f"  API docs    {base}/api/v1/docs/\n  Encoders    {', '.join(settings.SHOPLENS_ENABLED_ENCODERS)}\n"
            + "Press Ctrl+C to stop."
        )
        self.stdout.flush()
        while True:
            shop.check_children()
            time.sleep(0.5)


def _address(options: dict[str, Any]) -> tuple[str, int]:
    if not options["addrport"]:
        return "127.0.0.1", options["port"]
    host, sep, port = str(options["addrport"]).rpartition(":")
    if not port.isdigit():
        raise CommandError("--addrport takes HOST:PORT or PORT.")
    return (host.strip("[]") if sep and host else "127.0.0.1"), int(port)


def _on_signal(signum: int, frame: FrameType | None) -> None:
    raise _Stop(signal.Signals(signum).name)
