"""``catalog_changed``: the catalogue's one announcement that photos or product texts changed.

The services announce once the write commits, so a listener (the search index) never looks for
rows that are not there yet, and a write that rolls back announces nothing. Inside
``batched_changes()`` (a bulk import) the announcements are merged and sent as one when the
block ends. Receivers get ``changes``, a ``CatalogChanges``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from django.db import transaction
from django.dispatch import Signal

catalog_changed = Signal()


@dataclass
class CatalogChanges:
    """Photos whose bytes are new and products whose text changed; ``force`` asks listeners to
    recompute what they already hold (a re-index), per id."""

    image_ids: list[int] = field(default_factory=list)
    product_ids: list[int] = field(default_factory=list)
    forced_image_ids: list[int] = field(default_factory=list)
    forced_product_ids: list[int] = field(default_factory=list)

    def add(self, *, image_ids: Sequence[int], product_ids: Sequence[int], force: bool) -> None:
        (self.forced_image_ids if force else self.image_ids).extend(image_ids)
        (self.forced_product_ids if force else self.product_ids).extend(product_ids)

    def __bool__(self) -> bool:
        return bool(self.image_ids or self.product_ids or self.forced_image_ids or self.forced_product_ids)

    def deduplicated(self) -> CatalogChanges:
        return CatalogChanges(*(list(dict.fromkeys(ids)) for ids in self._lists()))

    def _lists(self) -> tuple[list[int], ...]:
        return (self.image_ids, self.product_ids, self.forced_image_ids, self.forced_product_ids)


_batch: ContextVar[CatalogChanges | None] = ContextVar("catalog_changes_batch", default=None)


def announce(*, image_ids: Sequence[int] = (), product_ids: Sequence[int] = (), force: bool = False) -> None:
    """Send ``catalog_changed`` once the current transaction commits (now, in autocommit)."""
    image_ids, product_ids = list(image_ids), list(product_ids)
    if not image_ids and not product_ids:
        return
    batch = _batch.get()
    if batch is not None:  # inside batched_changes(): merged, sent when the block ends
        transaction.on_commit(lambda: batch.add(image_ids=image_ids, product_ids=product_ids, force=force))
        return
    changes = CatalogChanges()
    changes.add(image_ids=image_ids, product_ids=product_ids, force=force)
    transaction.on_commit(lambda: send(changes))


def send(changes: CatalogChanges) -> None:
    if changes:
        catalog_changed.send(sender=CatalogChanges, changes=changes.deduplicated())


@contextmanager
def batched_changes(*, announce_at_end: bool = True) -> Iterator[CatalogChanges]:
    """Merge the announcements of the writes committed inside the block into one, sent when it
    ends (after the enclosing commit, if any). With ``announce_at_end=False`` nothing is sent and
    the caller acts on the yielded changes itself. A nested block joins the outer one."""
    outer = _batch.get()
    if outer is not None:
        yield outer
        return
    batch = CatalogChanges()
    token = _batch.set(batch)
    try:
        yield batch
    finally:
        _batch.reset(token)
        if announce_at_end:
            transaction.on_commit(lambda: send(batch))
