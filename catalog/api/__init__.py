"""REST API of the catalogue: products, categories, brands (``/api/v1/``)."""
