"""The API's error responses in its OpenAPI document, so generated clients know every 4xx/5xx body.

A drf-spectacular postprocessing hook (``SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]``): every
operation gets the statuses ``catalog.api.errors`` can answer for it, each with the one error shape.
"""

from __future__ import annotations

from typing import Any

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "code": {"type": "string", "description": "Machine-readable reason, e.g. invalid, not_image."},
                "message": {"type": "string", "description": "What went wrong, for people."},
                "fields": {
                    "type": "object",
                    "additionalProperties": True,
                    "description": "Messages per input field (empty when no field is to blame).",
                },
            },
            "required": ["code", "message", "fields"],
        }
    },
    "required": ["error"],
}
_REASONS = {
    "400": "Invalid input; `fields` names each field and why.",
    "401": "Credentials were given but are not valid.",
    "403": "Only staff may change the catalogue.",
    "404": "No such object (or page).",
    "405": "Method not allowed.",
    "413": "A photo over the upload byte or pixel limit.",
    "415": "Unsupported request content type.",
    "429": "Too many requests; retry after the time in `Retry-After`.",
    "500": "An unexpected error; it has been logged, its details are never sent.",
    "503": "Search, or the whole shop while its database is down, is unavailable; see `Retry-After`.",
}
_WRITES = {"post", "put", "patch", "delete"}


def document_error_responses(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if method not in _WRITES | {"get"}:
                continue
            statuses = ["400", "401", "404", "405", "429", "500", "503"]  # 503: the database is down
            if method in _WRITES and not path.endswith("/search/image"):
                statuses.append("403")
            if "requestBody" in operation:
                statuses += ["413", "415"]
            if "/search/" in path or path.endswith("/similar/"):
                statuses += ["413"] if path.endswith("/search/image") else []
            responses = operation.setdefault("responses", {})
            for status in sorted(set(statuses)):
                responses.setdefault(
                    status,
                    {
                        "description": _REASONS[status],
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
                    },
                )
    return result
