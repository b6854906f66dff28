"""Indexes for the lexical signals of text search (visualsearch.search.lexical).

A GIN full-text index over each product's document (SKU and name, description and attributes)
a GIN trigram index (pg_trgm) over "SKU name" and a B-tree over ``upper(sku)``, all over ``catalog_product`` so they follow
every product write without an indexing task. The expressions are ``lexical.PRODUCT_DOCUMENT``
and ``lexical.PRODUCT_TRIGRAM_TEXT`` without the table alias.
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

DOCUMENT = (
    "(setweight(to_tsvector('english'::regconfig, (sku::text || ' ' || name::text)), 'A') || "
    "setweight(to_tsvector('english'::regconfig, (description || ' ' || attributes::text)), 'C'))"
)
TRIGRAM_TEXT = "(sku::text || ' ' || name::text)"


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0001_initial"),
        ("visualsearch", "0004_half_precision_indexes"),
    ]

    operations = [
        TrigramExtension(),
        migrations.RunSQL(
            f"CREATE INDEX IF NOT EXISTS product_search_document_idx ON catalog_product USING gin ({DOCUMENT})",
            "DROP INDEX IF EXISTS product_search_document_idx",
        ),
        migrations.RunSQL(
            "CREATE INDEX IF NOT EXISTS product_search_trigram_idx ON catalog_product "
            f"USING gin ({TRIGRAM_TEXT} gin_trgm_ops)",
            "DROP INDEX IF EXISTS product_search_trigram_idx",
        ),
        migrations.RunSQL(
            "CREATE INDEX IF NOT EXISTS product_sku_upper_idx ON catalog_product (upper(sku::text))",
            "DROP INDEX IF EXISTS product_sku_upper_idx",
        ),
    ]
