"""Rebuild every space's HNSW index over half-precision vectors (``halfvec_cosine_ops``).

The stored vectors keep full precision; only the index graph holds half-precision copies, and
results are re-scored with the full-precision vectors. The index is half the size (391 MB instead
of 781 MB for 100 000 photos of the 1308-d visual space), so a large catalogue's graph stays in
memory, with the same recall and speed in ``bench_search``; encoders up to 4000 dimensions can be
indexed (2000 with ``vector``).

The new index is built beside the old one (``CREATE INDEX CONCURRENTLY``), then swapped in, so the
shop keeps searching and saving while it builds: about a minute per 100 000 photos of a 1308-d
space on two cores, with ``SHOPLENS_INDEX_BUILD_MEMORY`` (1GB) as ``maintenance_work_mem``.
"""

from django.conf import settings
from django.db import migrations

TABLES = {"image": "visualsearch_imageembedding", "text": "visualsearch_producttextembedding"}


def _rebuild(apps, schema_editor, *, vector_type: str) -> None:
    space_model = apps.get_model("visualsearch", "EmbeddingSpace")
    schema_editor.execute(
        "SELECT set_config('maintenance_work_mem', %s, false)", [settings.SHOPLENS_INDEX_BUILD_MEMORY]
    )
    for space in space_model.objects.using(schema_editor.connection.alias).order_by("pk"):
        table = TABLES[space.modality]
        name = f"{table}_hnsw_{space.pk}"
        building = f"{name}_new"
        schema_editor.execute(f'DROP INDEX CONCURRENTLY IF EXISTS "{building}"')  # left by an interrupted run
        schema_editor.execute(
            f'CREATE INDEX CONCURRENTLY "{building}" ON "{table}" '
            f"USING hnsw ((vector::{vector_type}({int(space.dimension)})) {vector_type}_cosine_ops) "
            f"WITH (m = 16, ef_construction = 64) WHERE space_id = {int(space.pk)}"
        )
        schema_editor.execute(f'DROP INDEX CONCURRENTLY IF EXISTS "{name}"')
        schema_editor.execute(f'ALTER INDEX "{building}" RENAME TO "{name}"')


def to_halfvec(apps, schema_editor) -> None:
    _rebuild(apps, schema_editor, vector_type="halfvec")


def to_vector(apps, schema_editor) -> None:
    _rebuild(apps, schema_editor, vector_type="vector")


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run in a transaction
    dependencies = [("visualsearch", "0003_vectors_inline")]

    operations = [migrations.RunPython(to_halfvec, to_vector)]
