"""One error shape for every API response: ``{"error": {"code", "message", "fields"}}``.

Set as ``REST_FRAMEWORK["EXCEPTION_HANDLER"]``; the API views also name it themselves
(``ErrorShapeMixin``) so the shape holds whatever the settings say.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.fields import get_error_detail
from rest_framework.response import Response
from rest_framework.views import exception_handler, set_rollback

from catalog.imaging import ImageRejected

logger = logging.getLogger(__name__)
DATABASE_DOWN_MESSAGE = "The shop is briefly unavailable; please try again in a minute."

# Upload problems that are about size answer 413 Payload Too Large; the rest 400.
IMAGE_REJECTION_STATUS = {"too_large": status.HTTP_413_REQUEST_ENTITY_TOO_LARGE, "too_many_pixels": 413}


class ImageNotAccepted(exceptions.APIException):
    status_code: int = status.HTTP_400_BAD_REQUEST
    default_code = "not_image"

    def __init__(self, rejected: ImageRejected, *, field: str = "images") -> None:
        super().__init__(detail=rejected.message, code=rejected.code)
        self.status_code = IMAGE_REJECTION_STATUS.get(rejected.code, status.HTTP_400_BAD_REQUEST)
        self.field = field


class ServiceUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "unavailable"
    default_detail = "Search is unavailable right now; please try again later."


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, ImageRejected):
        exc = ImageNotAccepted(exc)
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(detail=get_error_detail(exc))
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = exception_handler(exc, context)
    if response is None:
        return _unexpected_error(exc, context)
    response.data = {"error": _error_body(exc, response.data)}
    return response


def _unexpected_error(exc: Exception, context: dict[str, Any]) -> Response:
    """Any other exception: the envelope with 500 (503 when the database is gone), the
    traceback in the log and never in the answer."""
    set_rollback()
    if isinstance(exc, OperationalError | InterfaceError):
        logger.error("Database unavailable: %s", exc)
        body = {"code": "unavailable", "message": DATABASE_DOWN_MESSAGE, "fields": {}}
        return Response({"error": body}, status=503, headers={"Retry-After": "30"})
    request = context.get("request")
    logger.error("Unexpected error in %s", getattr(request, "path", "the API"), exc_info=exc)
    body = {"code": "server_error", "message": "Something went wrong on our side; it has been logged.", "fields": {}}
    return Response({"error": body}, status=500)


def _error_body(exc: Exception, data: Any) -> dict[str, Any]:
    if isinstance(exc, exceptions.ValidationError):
        fields = data if isinstance(data, dict) else {"non_field_errors": data}
        return {"code": "invalid", "message": _first_message(fields) or "Some values are not valid.", "fields": fields}
    if isinstance(exc, ImageNotAccepted):
        return {
            "code": getattr(exc.detail, "code", exc.default_code),
            "message": str(exc.detail),
            "fields": {exc.field: [str(exc.detail)]},
        }
    if isinstance(exc, exceptions.APIException):
        return {"code": exc.get_codes() if isinstance(exc.get_codes(), str) else exc.default_code,
                "message": str(exc.detail), "fields": {}}  # fmt: skip
    return {"code": "error", "message": str(data), "fields": {}}


def _first_message(fields: dict[str, Any]) -> str:
    for name, messages in fields.items():
        message = messages
        while isinstance(message, list | dict) and message:
            message = message[0] if isinstance(message, list) else next(iter(message.values()))
        if message:
            return f"{name}: {message}" if name != "non_field_errors" else str(message)
    return ""


class ErrorShapeMixin:
    def get_exception_handler(self) -> Callable[[Exception, dict[str, Any]], Response | None]:
        return api_exception_handler


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """``handler404``: an unknown URL under ``/api/`` answers the API's JSON shape, pages Django's page."""
    if request.path.startswith("/api/"):
        body = {"code": "not_found", "message": "No such API endpoint or object.", "fields": {}}
        return JsonResponse({"error": body}, status=404)
    return defaults.page_not_found(request, exception)
