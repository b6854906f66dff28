"""A synthetic catalogue for ``bench_search``, in its own database (``<name>_bench``, made the
default connection by ``devtools.databases.database_beside``).

Products get realistic filter columns (100 leaf categories of 1 % each under 10 roots, 50
brands, prices, stock) and one photo each; every encoder's space gets random unit vectors with
the cluster structure real embeddings have: product p of cluster c (``CLUSTERS`` random centres,
the same cluster in every space) is ``normalise(centre_c + SPREAD * u)`` with ``u`` a random unit
vector, i.e. cosine ~0.86 to its centre and ~0.74 to its cluster-mates. Uniform random vectors
would make every neighbour equally far and recall meaningless.
Rows go in with COPY (vectors in binary) and the HNSW indexes are built after loading.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Collection
from datetime import UTC, datetime
from typing import NamedTuple

import numpy as np
from django.db import connection
from pgvector import HalfVector

from devtools.bench import vectors
from visualsearch.encoders.whitening import fit_rotation
from visualsearch.models import EmbeddingSpace, SpaceStatus
from visualsearch.spaces import hnsw_index_sql

logger = logging.getLogger(__name__)

ROOT_CATEGORIES = 10
LEAVES_PER_ROOT = 10
BRANDS = 50
CHUNK = 5000
CLUSTERS = 2000
SPREAD = 0.6
DATA_VERSION = "bench-clustered-v3"  # stored as the spaces' model_version; a change forces a rebuild


class SpaceSpec(NamedTuple):
    """One embedding space of the synthetic catalogue; with ``index_dimension`` its vectors are
    rotated as a fitted rotation would store them and its HNSW index covers that many leading
    components (``EmbeddingSpace.index_dimension``)."""

    encoder: str
    modality: str
    dimension: int
    index_dimension: int | None = None


def data_version(storage: str, data: str = "random") -> str:
    version = DATA_VERSION if data == "random" else vectors.DATA_VERSION
    return version if storage == "default" else f"{version}-{storage}"


def catalogue_size(specs: list[SpaceSpec], *, storage: str = "default", data: str = "random") -> int | None:
    """The number of products when the stored catalogue is complete for ``specs``, else None."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM catalog_product")
        products = cursor.fetchone()[0]
    spaces = EmbeddingSpace.objects.filter(status=SpaceStatus.ACTIVE)
    version = data_version(storage, data)
    have = {(s.encoder, s.modality, s.dimension, s.index_dimension) for s in spaces if s.model_version == version}
    return products if have == set(specs) and products else None


HNSW_INDEX_NAMES = "%\\_hnsw\\_%"  # LIKE pattern of the spaces' index names (EmbeddingSpace.index_name)


def build_catalogue(
    *,
    products: int,
    specs: list[SpaceSpec],
    seed: int = 0,
    storage: str = "default",
    maintenance_work_mem: str = "1500MB",
    data: str = "random",
    m: int | None = None,
    ef_construction: int | None = None,
    hnsw: bool = True,
) -> dict[str, float]:
    """``hnsw`` False leaves the HNSW indexes out (the exact path does not read them).
    ``data``: "random" clusters (below) or "structured" (devtools/bench/vectors.py).
    ``storage``: "default" is the schema the migrations create (vectors inline, STORAGE MAIN);
    "external" is pgvector's own default (vectors in TOAST), "plain" forces them inline.
    ``m``/``ef_construction``: the HNSW build parameters (default: the settings'). Returns the
    seconds taken by loading and by each index build."""
    from pgvector.psycopg import register_vector

    connection.ensure_connection()
    raw = connection.connection
    register_vector(raw)
    rng = np.random.default_rng(seed)
    now = datetime.now(tz=UTC)
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    with raw.cursor() as cursor:
        # Indexes are built after loading; an HNSW index left from an earlier build would make COPY crawl.
        cursor.execute("SELECT indexname FROM pg_indexes WHERE indexname LIKE %s", [HNSW_INDEX_NAMES])
        for (index_name,) in cursor.fetchall():
            cursor.execute(f'DROP INDEX IF EXISTS "{index_name}"')
        cursor.execute(
            "TRUNCATE visualsearch_imageembedding, visualsearch_producttextembedding, visualsearch_embeddingspace, "
            "catalog_productimage, catalog_product, catalog_category, catalog_brand RESTART IDENTITY CASCADE"
        )
        for table in ("visualsearch_imageembedding", "visualsearch_producttextembedding"):
            mode = {"default": "MAIN", "external": "EXTERNAL", "plain": "PLAIN"}[storage]
            cursor.execute(f"ALTER TABLE {table} ALTER COLUMN vector SET STORAGE {mode}")
        _load_categories_and_brands(cursor)
        leaves = ROOT_CATEGORIES * LEAVES_PER_ROOT
        with cursor.copy(
            "COPY catalog_product (id, sku, name, slug, description, category_id, brand_id, price, currency, "
            "stock, rating, is_active, attributes, created_at, updated_at) FROM STDIN"
        ) as copy:
            for pid in range(1, products + 1):
                copy.write_row(
                    [
                        pid, f"B{pid:08d}", f"Bench product {pid}", f"bench-{pid}", "",
                        ROOT_CATEGORIES + 1 + pid % leaves,
                        1 + pid % BRANDS, f"{rng.uniform(1, 500):.2f}", "USD", int(rng.integers(0, 4)) * 5,
                        f"{rng.uniform(1, 5):.2f}", True, "{}", now, now,
                    ]
                )  # fmt: skip
        with cursor.copy(
            "COPY catalog_productimage (id, product_id, image, position, alt_text, width, height, sha256, "
            "indexing_status, indexing_error, created_at) FROM STDIN"
        ) as copy:
            for pid in range(1, products + 1):
                copy.write_row([pid, pid, f"bench/{pid}.jpg", 0, "", 512, 512, f"{pid:064x}", "ready", "", now])
        for table in ("catalog_product", "catalog_productimage"):
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        for spec in specs:
            cursor.execute(
                "INSERT INTO visualsearch_embeddingspace (encoder, model_name, model_version, dimension, "
                "index_dimension, modality, status, created_at, activated_at) "
                "VALUES (%s, %s, %s, %s, %s, %s, 'active', %s, %s) RETURNING id",
                [
                    spec.encoder, f"random-{spec.encoder}", data_version(storage, data), spec.dimension,
                    spec.index_dimension, spec.modality, now, now,
                ],
            )  # fmt: skip
            space_id = cursor.fetchone()[0]
            source = (
                vectors.for_space(
                    spec.encoder, spec.dimension, products=products, seed=seed, rotated=bool(spec.index_dimension)
                )
                if data != "random"
                else None
            )
            _load_vectors(cursor, spec, space_id, products, rng, now, source)
        seconds["load"] = round(time.perf_counter() - started, 1)
    if hnsw:
        seconds |= rebuild_indexes(m=m, ef_construction=ef_construction, maintenance_work_mem=maintenance_work_mem)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return seconds


def hnsw_missing() -> bool:
    """Whether a space of the bench catalogue has no HNSW index (built with ``hnsw=False``)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE indexname LIKE %s", [HNSW_INDEX_NAMES])
        present = {name for (name,) in cursor.fetchall()}
    return any(space.index_name not in present for space in EmbeddingSpace.objects.all())


def rebuild_indexes(
    *, m: int | None, ef_construction: int | None, maintenance_work_mem: str, encoders: Collection[str] | None = None
) -> dict[str, float]:
    """(Re)build the HNSW index of every space (or those of ``encoders``) with these build
    parameters (None: the settings'); seconds per index."""
    seconds: dict[str, float] = {}
    with connection.cursor() as cursor:
        # HNSW builds several times faster while the whole graph fits in maintenance_work_mem.
        cursor.execute("SELECT set_config('maintenance_work_mem', %s, false)", [maintenance_work_mem])
        cursor.execute("SET max_parallel_maintenance_workers = 1")
        for space in EmbeddingSpace.objects.all():
            if encoders is not None and space.encoder not in encoders:
                continue
            logger.info("Building HNSW index of %s", space)
            started = time.perf_counter()
            cursor.execute(f'DROP INDEX IF EXISTS "{space.index_name}"')
            cursor.execute(
                hnsw_index_sql(
                    table=space.table, index_name=space.index_name, dimension=space.dimension, space_id=space.pk,
                    m=m, ef_construction=ef_construction, index_dimension=space.index_dimension,
                )
            )  # fmt: skip
            seconds[f"index_{space.encoder}"] = round(time.perf_counter() - started, 1)
    return seconds


def _load_categories_and_brands(cursor) -> None:
    with cursor.copy("COPY catalog_category (id, name, slug, parent_id, path) FROM STDIN") as copy:
        for root in range(1, ROOT_CATEGORIES + 1):
            copy.write_row([root, f"Root {root}", f"root-{root}", None, f"root-{root}/"])
        for leaf in range(ROOT_CATEGORIES * LEAVES_PER_ROOT):
            root = 1 + leaf // LEAVES_PER_ROOT
            copy.write_row(
                [ROOT_CATEGORIES + 1 + leaf, f"Leaf {leaf}", f"leaf-{leaf}", root, f"root-{root}/leaf-{leaf}/"]
            )
    with cursor.copy("COPY catalog_brand (id, name, slug) FROM STDIN") as copy:
        for brand in range(1, BRANDS + 1):
            copy.write_row([brand, f"Brand {brand}", f"brand-{brand}"])
    for table in ("catalog_category", "catalog_brand"):
        cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")


def _load_vectors(cursor, spec: SpaceSpec, space_id: int, products: int, rng, now: datetime, source=None) -> None:
    if spec.modality == "image":
        statement = (
            "COPY visualsearch_imageembedding (space_id, image_id, product_id, content_sha256, vector, created_at) "
            "FROM STDIN WITH (FORMAT BINARY)"
        )
        types = ["bigint", "bigint", "bigint", "varchar", "halfvec", "timestamptz"]
    else:
        statement = (
            "COPY visualsearch_producttextembedding (space_id, product_id, text_sha256, vector, created_at) "
            "FROM STDIN WITH (FORMAT BINARY)"
        )
        types = ["bigint", "bigint", "varchar", "halfvec", "timestamptz"]
    centres = random_unit_vectors(rng, CLUSTERS, spec.dimension)
    if spec.index_dimension and source is None:  # rotated: the centres (the noise is isotropic)
        sample_ids = np.arange(1, min(products, vectors.ROTATION_SAMPLE) + 1)
        sample = centres[cluster_of(sample_ids)] + SPREAD * random_unit_vectors(
            np.random.default_rng([spec.dimension, 2]), len(sample_ids), spec.dimension
        )
        centres = centres @ fit_rotation(sample, source_version="bench").projection
    with cursor.copy(statement) as copy:
        copy.set_types(types)
        for start in range(1, products + 1, CHUNK):
            stop = min(products + 1, start + CHUNK)
            if source is not None:
                block = source.vectors(np.arange(start, stop))
            else:
                block = centres[cluster_of(np.arange(start, stop))] + SPREAD * random_unit_vectors(
                    rng, stop - start, spec.dimension
                )
                block /= np.linalg.norm(block, axis=1, keepdims=True)
            for offset, pid in enumerate(range(start, stop)):
                sha = hashlib.sha256(b"%d" % pid).hexdigest()  # random hex, as a photo's: zero-padded ids compress
                vector = HalfVector(block[offset])
                if spec.modality == "image":
                    copy.write_row([space_id, pid, pid, sha, vector, now])
                else:
                    copy.write_row([space_id, pid, sha, vector, now])


def cluster_of(product_ids: np.ndarray) -> np.ndarray:
    """A product's cluster: a fixed hash of its id, so clusters cut across categories and brands."""
    return (product_ids * 2654435761 % 2**32) % CLUSTERS


def random_unit_vectors(rng: np.random.Generator, n: int, dimension: int) -> np.ndarray:
    block = rng.standard_normal((n, dimension), dtype=np.float32)
    return block / np.linalg.norm(block, axis=1, keepdims=True)
