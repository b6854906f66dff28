"""``manage.py demo``: a working shop in one command, offline.

Starts (or joins) the embedded PostgreSQL and Valkey, migrates, creates an admin, fills an empty
shop with the drawn demo catalogue (or imports ``--catalogue``), indexes it with a Celery worker
(or in this process with ``--no-worker``), starts the web server and prints where to look.
Ctrl+C or SIGTERM stops everything it started.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from catalog.demo import demo_catalogue_create
from catalog.importers import import_catalog
from catalog.models import IndexingStatus, Product, ProductImage
from visualsearch.services import IndexingBatch, indexing_batched

ADMIN_USERNAME = "admin"
OFFLINE_ENCODERS = ("visual", "text")
MANAGE_PY = Path(settings.BASE_DIR) / "manage.py"


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
        parser.add_argument(
            "--index-timeout", type=float, default=600, help="Seconds to wait for indexing before serving."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        self.children: list[subprocess.Popen[bytes]] = []
        previous = {sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            self._run(options)
        except (_Stop, KeyboardInterrupt):
            self.stdout.write("\nStopping…")
        finally:
            self._stop_children()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        self.stdout.write("Demo stopped.")

    def _run(self, options: dict[str, Any]) -> None:
        host, port = self._address(options)
        if _port_in_use(host, port):
            raise CommandError(f"Port {port} on {host} is taken; pass --port or --addrport.")
        self._choose_encoders()
        self.stdout.write("Preparing the database…")
        call_command("migrate", interactive=False, verbosity=0)
        self._ensure_admin(reset=options["reset_admin_password"])
        if not options["no_worker"]:
            self._start_worker()
        batch = self._seed(options)
        if batch is not None:
            self._index(batch, in_process=options["no_worker"], timeout=options["index_timeout"])
        self._start_server(host, port, in_process=options["no_worker"])
        base = f"http://{'127.0.0.1' if host in {'0.0.0.0', '::'} else host}:{port}"
        self.stdout.write(
            self.style.SUCCESS("\nshoplens demo is running:\n")
            + f"  Shop        {base}/\n"
            + f"  Search      {base}/search/\n"
            + f"  Admin       {base}/admin/\n"
            + f"  API docs    {base}/api/v1/docs/\n"
            + f"  Encoders    {', '.join(settings.SHOPLENS_ENABLED_ENCODERS)}\n"
            + "Press Ctrl+C to stop."
        )
        self.stdout.flush()
        while True:
            for child in self.children:
                if child.poll() is not None:
                    raise CommandError(f"{_name(child)} exited with status {child.returncode}.")
            time.sleep(0.5)

    def _address(self, options: dict[str, Any]) -> tuple[str, int]:
        if not options["addrport"]:
            return "127.0.0.1", options["port"]
        host, sep, port = str(options["addrport"]).rpartition(":")
        if not port.isdigit():
            raise CommandError("--addrport takes HOST:PORT or PORT.")
        return (host.strip("[]") if sep and host else "127.0.0.1"), int(port)

    def _choose_encoders(self) -> None:
        """Use CLIP when it loads; otherwise say why and run on the offline encoders."""
        from visualsearch.encoders import EncoderUnavailable, get_encoder

        enabled = list(settings.SHOPLENS_ENABLED_ENCODERS)
        if "clip" not in enabled:
            return
        self.stdout.write("Loading the CLIP model…")
        try:
            get_encoder("clip")
        except EncoderUnavailable as exc:
            enabled = [name for name in enabled if name != "clip"] or list(OFFLINE_ENCODERS)
            self.stdout.write(
                self.style.WARNING(
                    f"CLIP is not available, so the demo runs on the offline encoders ({', '.join(enabled)}): "
                    "search by photo uses shapes and colours, search by words uses the product texts.\n"
                    f"  Why: {exc}"
                )
            )
            settings.SHOPLENS_ENABLED_ENCODERS = enabled
            os.environ["SHOPLENS_ENCODERS"] = ",".join(enabled)  # the worker and web server inherit it

    def _ensure_admin(self, *, reset: bool) -> None:
        users = get_user_model()
        user = users.objects.filter(username=ADMIN_USERNAME).first()
        if user is not None and not reset:
            self.stdout.write(
                f"Admin user '{ADMIN_USERNAME}' exists; its password is unchanged "
                "(--reset-admin-password sets a new one)."
            )
            return
        password = secrets.token_urlsafe(12)
        if user is None:
            users.objects.create_superuser(username=ADMIN_USERNAME, email="admin@example.com", password=password)
        else:
            user.set_password(password)
            user.save(update_fields=["password"])
        self.stdout.write(self.style.SUCCESS(f"Admin login: {ADMIN_USERNAME} / {password}  (shown only now)"))

    def _seed(self, options: dict[str, Any]) -> IndexingBatch | None:
        """Fill an empty shop; the indexing the writes schedule is collected, not sent."""
        existing = Product.objects.count()
        if existing:
            self.stdout.write(f"The shop already has {existing} products; no demo catalogue added.")
            pending = IndexingBatch()  # e.g. a demo stopped while it was indexing
            pending.image_ids[False] = list(
                ProductImage.objects.filter(indexing_status=IndexingStatus.PENDING).values_list("pk", flat=True)
            )
            return pending if pending.image_ids[False] else None
        with indexing_batched(enqueue=False) as batch:
            if options["catalogue"]:
                self.stdout.write(f"Importing {options['catalogue']}…")
                summary = import_catalog(
                    source=options["catalogue"],
                    images_root=options["images_root"],
                    progress=lambda rows: tqdm(rows, desc="Importing", unit="row"),
                )
                self.stdout.write(summary.as_text())
            else:
                self.stdout.write(f"Drawing {options['products']} demo products…")
                demo_catalogue_create(count=options["products"], seed=options["seed"])
        return batch

    def _index(self, batch: IndexingBatch, *, in_process: bool, timeout: float) -> None:
        image_ids = list(dict.fromkeys(batch.image_ids[False] + batch.image_ids[True]))
        product_ids = list(dict.fromkeys(batch.product_ids[False] + batch.product_ids[True]))
        if in_process:
            from visualsearch import indexing

            with tqdm(total=len(image_ids), desc="Indexing photos", unit="photo") as bar:
                for start in range(0, len(image_ids), 16):
                    chunk = image_ids[start : start + 16]
                    indexing.embed_images(image_ids=chunk)
                    bar.update(len(chunk))
            for start in range(0, len(product_ids), 64):
                indexing.embed_product_texts(product_ids=product_ids[start : start + 64])
            return
        from visualsearch import tasks

        for start in range(0, len(product_ids), 64):
            tasks.embed_product_texts.delay(product_ids[start : start + 64])
        for start in range(0, len(image_ids), 16):
            tasks.embed_product_images.delay(image_ids[start : start + 16])
        deadline = time.monotonic() + timeout
        pending = ProductImage.objects.filter(pk__in=image_ids, indexing_status=IndexingStatus.PENDING)
        with tqdm(total=len(image_ids), desc="Indexing photos (worker)", unit="photo") as bar:
            while (left := pending.count()) and time.monotonic() < deadline:
                bar.update(len(image_ids) - left - bar.n)
                self._check_children()
                time.sleep(1)
            bar.update(len(image_ids) - left - bar.n)
        if left:
            self.stdout.write(self.style.WARNING(f"{left} photos are still being indexed in the background."))

    def _child_env(self, *, in_process: bool) -> dict[str, str]:
        env = dict(os.environ)
        env["DJANGO_SETTINGS_MODULE"] = os.environ.get("DJANGO_SETTINGS_MODULE", "config.settings.local")
        env["SHOPLENS_ENCODERS"] = ",".join(settings.SHOPLENS_ENABLED_ENCODERS)
        if in_process:
            env["SHOPLENS_INDEX_IN_PROCESS"] = "1"  # admin uploads are indexed by the web server
        return env

    def _start_worker(self) -> None:
        self.stdout.write("Starting the indexing worker…")
        command = [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", "embeddings,default"]
        command += ["--concurrency", "1", "--loglevel", "WARNING", "--hostname", f"demo-{os.getpid()}@%h"]
        self.children.append(subprocess.Popen(command, env=self._child_env(in_process=False), cwd=settings.BASE_DIR))

    def _start_server(self, host: str, port: int, *, in_process: bool) -> None:
        self.stdout.write("Starting the web server…")
        addrport = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        command = [sys.executable, str(MANAGE_PY), "runserver", addrport, "--noreload", "--skip-checks"]
        server = subprocess.Popen(command, env=self._child_env(in_process=in_process), cwd=settings.BASE_DIR)
        self.children.append(server)
        deadline = time.monotonic() + 120
        while not _port_in_use(host, port):
            self._check_children()
            if time.monotonic() > deadline:
                raise CommandError("The web server did not start within 120 s.")
            time.sleep(0.2)

    def _check_children(self) -> None:
        for child in self.children:
            if child.poll() is not None:
                raise CommandError(f"{_name(child)} exited with status {child.returncode}.")

    def _stop_children(self) -> None:
        for child in self.children:
            if child.poll() is None:
                child.terminate()
        deadline = time.monotonic() + 15
        for child in self.children:
            try:
                child.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        self.children.clear()

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        raise _Stop(signal.Signals(signum).name)


def _name(child: subprocess.Popen[bytes]) -> str:
    return "The worker" if "celery" in child.args else "The web server"  # type: ignore[operator]


def _port_in_use(host: str, port: int) -> bool:
    target = "127.0.0.1" if host in {"0.0.0.0", ""} else "::1" if host == "::" else host
    try:
        with socket.create_connection((target, port), timeout=0.3):
            return True
    except OSError:
        return False
