"""URL routes: storefront, search, REST API v1 with its schema, admin."""

from __future__ import annotations

from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

handler500 = "operations.views.server_error"


urlpatterns = [
    path("", include("analytics.urls")),  # before admin/: the dashboard lives under /admin/search-analytics/
    path("admin/", admin.site.urls),
    path("", include("operations.urls")),
    path("api/v1/", include("catalog.api.urls")),
    path("api/v1/", include("visualsearch.api.urls")),
    path("api/v1/", include("analytics.api.urls")),
    path("api/v1/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/v1/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/v1/redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
    path("", include("storefront.urls")),
]
handler404 = "catalog.api.errors.not_found"

if settings.DEBUG or not settings.AWS_STORAGE_BUCKET_NAME:
    # Local media in development (static() is a no-op outside DEBUG); in production the gateway
    # (deploy/nginx) serves MEDIA_ROOT, or the object store serves the bucket.
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
