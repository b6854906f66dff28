"""The search index follows the catalogue: ``catalog_changed`` becomes task-sized indexing batches."""

from __future__ import annotations

import pytest

from catalog.changes import announce, batched_changes
from visualsearch import tasks

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(monkeypatch) -> list[tuple[str, list[int], bool]]:
    calls: list[tuple[str, list[int], bool]] = []
    monkeypatch.setattr(
        tasks.embed_product_images, "delay", lambda ids, force=False: calls.append(("images", ids, force))
    )
    monkeypatch.setattr(
        tasks.embed_product_texts, "delay", lambda ids, force=False: calls.append(("texts", ids, force))
    )
    return calls


def test_an_announcement_is_queued_in_task_sized_batches(sent, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        announce(image_ids=range(1, tasks.IMAGE_BATCH_SIZE + 6), product_ids=[7, 8])

    assert [(kind, len(ids), force) for kind, ids, force in sent] == [
        ("images", tasks.IMAGE_BATCH_SIZE, False),
        ("images", 5, False),
        ("texts", 2, False),
    ]


def test_nothing_is_queued_before_the_transaction_commits(sent, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        announce(image_ids=[1])

    assert sent == [] and len(callbacks) == 1


def test_a_batched_block_sends_one_deduplicated_announcement_with_forced_ids_apart(
    sent, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True), batched_changes():
        announce(image_ids=[1, 2])
        announce(image_ids=[2, 3], product_ids=[9])
        announce(image_ids=[4], force=True)

    assert sent == [("images", [1, 2, 3], False), ("texts", [9], False), ("images", [4], True)]


def test_a_broker_that_cannot_be_reached_is_logged_not_raised(monkeypatch, caplog) -> None:
    import kombu.exceptions

    def refuse(ids, force=False):
        raise kombu.exceptions.OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(tasks.embed_product_images, "delay", refuse)

    assert tasks.enqueue_indexing(image_ids=[1, 2], product_ids=[3]) is False
    assert "Broker unreachable; indexing of 2 photos and 1 products is left to the sweep" in caplog.text


def test_a_visibility_timeout_shorter_than_a_task_may_run_is_refused(settings) -> None:
    from visualsearch.checks import running_tasks_are_not_redelivered

    assert running_tasks_are_not_redelivered() == []  # the defaults: 600 s against 360 s
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {**settings.CELERY_BROKER_TRANSPORT_OPTIONS, "visibility_timeout": 300}

    assert [error.id for error in running_tasks_are_not_redelivered()] == ["visualsearch.E002"]
