"""A request id for every request (the client's ``X-Request-ID`` if sane, else a new one), put in
every log line and carried into the Celery tasks that the request enqueued."""

from __future__ import annotations

import contextvars
import logging
import re
import uuid
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse

HEADER = "X-Request-ID"
TASK_HEADER = "shoplens_request_id"
_SANE = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
current_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")


class RequestIdMiddleware:
    """Outermost middleware: sets the id for the whole request and echoes it in the response."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        offered = request.headers.get(HEADER, "")
        request_id = offered if _SANE.match(offered) else uuid.uuid4().hex
        token = current_request_id.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            current_request_id.reset(token)
        response[HEADER] = request_id
        return response


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` to every log record (empty outside a request or task)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id.get()
        return True


def _stamp_task(headers: dict[str, Any] | None = None, **kwargs: Any) -> None:
    request_id = current_request_id.get()
    if request_id and headers is not None:
        headers[TASK_HEADER] = request_id


def _task_started(task: Any = None, **kwargs: Any) -> None:
    request = getattr(task, "request", None)
    current_request_id.set(str(getattr(request, TASK_HEADER, None) or ""))


def connect_celery_signals() -> None:
    from celery.signals import before_task_publish, task_prerun

    before_task_publish.connect(_stamp_task, weak=False, dispatch_uid="shoplens-request-id-publish")
    task_prerun.connect(_task_started, weak=False, dispatch_uid="shoplens-request-id-run")
