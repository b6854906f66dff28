"""Store the vectors themselves in half precision (``halfvec``), not only the HNSW graphs.

A 1308-d visual vector takes 2.6 KB instead of 5.2 KB, so three rows share an 8 KB page instead of
one filling it, and the vector tables shrink by about half: what decides whether a large catalogue's
vectors stay in memory. Scores are computed from the half-precision values; measured with
``bench_search``, no top 10 changed against full precision (README, Benchmark data).

The tables are rewritten under a lock (searches and indexing wait): about 20 s per 100 000 photos
of the three spaces on two cores, plus the rebuild of each space's HNSW index (about a minute per
100 000 photos of a 1308-d space with ``SHOPLENS_INDEX_BUILD_MEMORY``). The type change resets the
column's storage, so vectors are kept inline again (``STORAGE MAIN``, migration 0003).
"""

from django.conf import settings
from django.db import migrations

import visualsearch.fields

TABLES = ("visualsearch_imageembedding", "visualsearch_producttextembedding")
BUILD_MEMORY = ("SELECT set_config('maintenance_work_mem', %s, true)", [settings.SHOPLENS_INDEX_BUILD_MEMORY])
INLINE = [f"ALTER TABLE {table} ALTER COLUMN vector SET STORAGE MAIN" for table in TABLES]


class Migration(migrations.Migration):
    dependencies = [("visualsearch", "0005_lexical_indexes")]

    operations = [
        # Run in this order forwards and backwards: memory for the index rebuilds, type, storage.
        migrations.RunSQL(sql=[BUILD_MEMORY], reverse_sql=INLINE),
        migrations.AlterField(
            model_name="imageembedding",
            name="vector",
            field=visualsearch.fields.HalfPrecisionVectorField(),
        ),
        migrations.AlterField(
            model_name="producttextembedding",
            name="vector",
            field=visualsearch.fields.HalfPrecisionVectorField(),
        ),
        migrations.RunSQL(sql=INLINE, reverse_sql=[BUILD_MEMORY]),
    ]
