"""The site's URLs plus its uploaded photos, for the live test server (which runs with DEBUG off,
where ``django.conf.urls.static.static`` serves nothing)."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.urls import re_path
from django.views.static import serve

from config.urls import urlpatterns as site_urlpatterns


def media(request: HttpRequest, path: str) -> HttpResponseBase:
    # MEDIA_ROOT changes per test (tests/conftest.py), so it is read per request.
    return serve(request, path, document_root=settings.MEDIA_ROOT)


urlpatterns = [
    re_path(rf"^{settings.MEDIA_URL.lstrip('/')}(?P<path>.*)$", media),
    *site_urlpatterns,
]
