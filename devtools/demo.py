"""The demo shop: embedded services, migrations, an admin, a catalogue, indexing, a web server.

``manage.py demo`` is a thin command over ``DemoShop``. Indexing runs on a Celery worker (or in
this process with ``in_process``) with a progress bar; Ctrl+C or SIGTERM stops every child.
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from tqdm import tqdm

from catalog.changes import CatalogChanges, batched_changes
from catalog.importers import import_catalog
from catalog.models import IndexingStatus, Product, ProductImage
from devtools import processes
from devtools.demo_catalogue import demo_catalogue_create
from visualsearch import indexing
from visualsearch.tasks import batched, enqueue_indexing

ADMIN_USERNAME = "admin"
OFFLINE_ENCODERS = ("visual", "text")
IN_PROCESS_BATCH = 16


class DemoShop:
    """Everything ``manage.py demo`` starts; ``say`` writes one message for the person watching."""

    def __init__(self, *, say: Callable[[str], None], in_process: bool) -> None:
        self.say = say
        self.in_process = in_process
        self.children: list[processes.ChildProcess] = []

    def choose_encoders(self) -> None:
        """Use CLIP when it loads; otherwise say why and run on the offline encoders."""
        from visualsearch.encoders import EncoderUnavailable, get_encoder

        enabled = list(settings.SHOPLENS_ENABLED_ENCODERS)
        if "clip" not in enabled:
            return
        self.say("Loading the CLIP model…")
        try:
            get_encoder("clip")
        except EncoderUnavailable as exc:
            enabled = [name for name in enabled if name != "clip"] or list(OFFLINE_ENCODERS)
            self.say(
                f"CLIP is not available, so the demo runs on the offline encoders ({', '.join(enabled)}): "
                f"search by photo uses shapes and colours, search by words uses the product texts.\n  Why: {exc}"
            )
            settings.SHOPLENS_ENABLED_ENCODERS = enabled
            os.environ["SHOPLENS_ENABLED_ENCODERS"] = ",".join(enabled)  # the worker and web server inherit it

    def prepare_database(self, *, reset_admin_password: bool) -> None:
        self.say("Preparing the database…")
        call_command("migrate", interactive=False, verbosity=0)
        users = get_user_model()
        user = users.objects.filter(username=ADMIN_USERNAME).first()
        if user is not None and not reset_admin_password:
            self.say(f"Admin user '{ADMIN_USERNAME}' exists; its password is unchanged (--reset-admin-password).")
            return
        password = secrets.token_urlsafe(12)
        if user is None:
            users.objects.create_superuser(username=ADMIN_USERNAME, email="admin@example.com", password=password)
        else:
            user.set_password(password)
            user.save(update_fields=["password"])
        self.say(f"Admin login: {ADMIN_USERNAME} / {password}  (shown only now)")

    def seed(self, *, catalogue: Path | None, images_root: Path | None, products: int, seed: int) -> CatalogChanges:
        """Fill an empty shop; what the writes announce is collected and indexed by ``index``."""
        existing = Product.objects.count()
        if existing:
            self.say(f"The shop already has {existing} products; no demo catalogue added.")
            pending = ProductImage.objects.filter(indexing_status=IndexingStatus.PENDING)
            return CatalogChanges(image_ids=list(pending.values_list("pk", flat=True)))  # a demo stopped mid-way
        with batched_changes(announce_at_end=False) as changes:
            if catalogue:
                self.say(f"Importing {catalogue}…")
                summary = import_catalog(
                    source=catalogue, images_root=images_root, progress=lambda rows: tqdm(rows, desc="Importing")
                )
                self.say(summary.as_text())
            else:
                self.say(f"Drawing {products} demo products…")
                demo_catalogue_create(count=products, seed=seed)
        return changes

    def index(self, changes: CatalogChanges, *, timeout: float) -> None:
        changes = changes.deduplicated()
        image_ids = list(dict.fromkeys(changes.image_ids + changes.forced_image_ids))
        product_ids = list(dict.fromkeys(changes.product_ids + changes.forced_product_ids))
        if self.in_process:
            with tqdm(total=len(image_ids), desc="Indexing photos", unit="photo") as bar:
                for chunk in batched(image_ids, IN_PROCESS_BATCH):
                    indexing.embed_images(image_ids=chunk)
                    bar.update(len(chunk))
            for chunk in batched(product_ids, 64):
                indexing.embed_product_texts(product_ids=chunk)
            return
        enqueue_indexing(image_ids=image_ids, product_ids=product_ids, image_batch_size=IN_PROCESS_BATCH)
        deadline = time.monotonic() + timeout
        pending = ProductImage.objects.filter(pk__in=image_ids, indexing_status=IndexingStatus.PENDING)
        with tqdm(total=len(image_ids), desc="Indexing photos (worker)", unit="photo") as bar:
            while (left := pending.count()) and time.monotonic() < deadline:
                bar.update(len(image_ids) - left - bar.n)
                self.check_children()
                time.sleep(1)
            bar.update(len(image_ids) - left - bar.n)
        if left:
            self.say(f"{left} photos are still being indexed in the background.")

    def child_env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["DJANGO_SETTINGS_MODULE"] = os.environ.get("DJANGO_SETTINGS_MODULE", "config.settings.local")
        env["SHOPLENS_ENABLED_ENCODERS"] = ",".join(settings.SHOPLENS_ENABLED_ENCODERS)
        if self.in_process:
            env["SHOPLENS_INDEX_IN_PROCESS"] = "1"  # admin uploads are indexed by the web server
        return env

    def start_worker(self) -> None:
        self.say("Starting the indexing worker…")
        command = processes.worker_command(loglevel="WARNING", name="demo", quiet=False)
        self.children.append(processes.start(command, env=self.child_env()))

    def start_server(self, host: str, port: int) -> None:
        self.say("Starting the web server…")
        self.children.append(processes.start(processes.runserver_command(host, port), env=self.child_env()))
        deadline = time.monotonic() + 120
        while not processes.port_in_use(host, port):
            self.check_children()
            if time.monotonic() > deadline:
                raise CommandError("The web server did not start within 120 s.")
            time.sleep(0.2)

    def check_children(self) -> None:
        for child in self.children:
            if not child.alive:
                name = "The worker" if "celery" in child.process.args else "The web server"  # type: ignore[operator]
                raise CommandError(f"{name} exited with status {child.process.returncode}.")

    def stop(self) -> None:
        for child in self.children:
            child.stop()
        self.children.clear()
