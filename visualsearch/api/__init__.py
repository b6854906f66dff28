"""REST API of search (``/api/v1/search/...`` and ``/api/v1/products/{id}/similar/``)."""
