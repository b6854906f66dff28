"""The search selector: the one read path behind the REST API and the HTML pages.

``search_products`` encodes the query (visualsearch.search.encoding), then ``search_vectors``
does the rest, which the benchmark calls directly with pre-computed vectors:

1. The nearest photo (or product-text) vectors that pass the filters: by an exact scan for
   every signal when the filter matches at most ``SHOPLENS_SEARCH_EXACT_MAX_SHARE`` of the
   catalogue (and at least ``SHOPLENS_SEARCH_EXACT_MAX_PRODUCTS``) products, else from the HNSW
   index (iterative scan) of every signal but those only scored (``SHOPLENS_SEARCH_RESCORED_SIGNALS``,
   empty by default: every signal walks its graph); grouped to one row per product. Each index
   is asked for enough photos to hold the page's products when every product has the
   catalogue's average number of photos.
2. The union of those candidates is scored by every signal exactly, so a product found by one
   signal is judged by all; a product's score is its best photo. Steps 1 and 2 are one
   statement; only when a signal's nearest vectors hold too few distinct products does it ask
   the index again, with a larger k, and score in a second statement.
3. Weighted sum, optional business re-ranking and diversity (visualsearch.search.ranking), then the
   hits are loaded with everything a product card shows in a fixed number of queries.
"""

from __future__ import annotations

import dataclasses
import functools
import time
from collections.abc import Mapping, Sequence

import numpy as np
from django.conf import settings
from django.db import connections, transaction
from django.db.models.expressions import RawSQL

from catalog import replicas
from catalog.criteria import ProductCriteria
from catalog.models import Product, ProductImage
from visualsearch import events
from visualsearch.models import EmbeddingSpace, SpaceStatus
from visualsearch.search import candidates, filtering, hybrid, lexical, ranking, sql
from visualsearch.search.encoding import encode_query
from visualsearch.search.types import (
    IMAGE_SIGNALS,
    SIGNAL_SPACES,
    SearchHit,
    SearchQuery,
    SearchResult,
    SearchTimings,
    normalise,
)


def active_spaces() -> dict[tuple[str, str], EmbeddingSpace]:
    """The searched space of each (encoder, modality), each with ``photos_per_product``: the
    catalogue's photos per product by the planner's statistics (1 until they are gathered),
    read in the same query."""
    spaces = EmbeddingSpace.objects.filter(status=SpaceStatus.ACTIVE).annotate(
        photos_per_product=RawSQL(PHOTOS_PER_PRODUCT_SQL, [])
    )
    return {(space.encoder, space.modality): space for space in spaces}


# reltuples is -1 for a table never vacuumed or analysed: the ratio then falls back to 1.
PHOTOS_PER_PRODUCT_SQL = (
    "SELECT greatest(1, i.reltuples / nullif(p.reltuples, 0)) FROM pg_class i, pg_class p "
    "WHERE i.oid = 'catalog_productimage'::regclass AND p.oid = 'catalog_product'::regclass"
)


def search_products(*, query: SearchQuery, criteria: ProductCriteria, limit: int = 24) -> SearchResult:
    """Return up to ``limit`` products most similar to ``query`` that pass ``criteria``.

    Raises ``EmptyQuery`` for a query with nothing in it, ``ValueError`` for a bad limit,
    ``catalog.imaging.ImageRejected`` for an upload that is not an acceptable image and
    ``SearchUnavailable`` when no encoder can embed a photo or text query.
    """
    started = time.perf_counter()
    _check_limit(limit)
    spaces = active_spaces()
    encoded = encode_query(query, spaces=spaces)
    encode_ms = _elapsed_ms(started)
    result = search_vectors(
        vectors=encoded.vectors,
        kind=encoded.kind,
        criteria=criteria,
        limit=limit,
        exclude_product_ids=encoded.exclude_product_ids,
        spaces=spaces,
        started=started,
        text=query.text.strip() if encoded.kind == "text" and settings.SHOPLENS_SEARCH_HYBRID["ENABLED"] else "",
    )
    timings = dataclasses.replace(result.timings, encode_ms=encode_ms, total_ms=result.query_time_ms)
    result = dataclasses.replace(result, timings=timings)
    events.search_completed.send(sender=SearchResult, result=result)
    return result


def search_vectors(
    *,
    vectors: Mapping[str, np.ndarray],
    kind: str,
    criteria: ProductCriteria,
    limit: int,
    exclude_product_ids: Sequence[int] = (),
    spaces: Mapping[tuple[str, str], EmbeddingSpace] | None = None,
    started: float | None = None,
    text: str = "",
) -> SearchResult:
    """Search with query vectors already computed (signal name -> unit vector), on a read
    replica when one is usable, else (or when it fails mid-search) on the primary. With ``text``,
    the lexical signals join in (visualsearch.search.hybrid)."""
    search = functools.partial(
        _search_vectors, vectors=vectors, kind=kind, criteria=criteria, limit=limit,
        exclude_product_ids=exclude_product_ids, spaces=spaces,
        started=time.perf_counter() if started is None else started, text=text,
    )  # fmt: skip
    return replicas.read_with_fallback(search)


def _search_vectors(
    *,
    vectors: Mapping[str, np.ndarray],
    kind: str,
    criteria: ProductCriteria,
    limit: int,
    exclude_product_ids: Sequence[int],
    spaces: Mapping[tuple[str, str], EmbeddingSpace] | None,
    started: float,
    text: str,
) -> SearchResult:
    searching = time.perf_counter()
    _check_limit(limit)
    spaces = active_spaces() if spaces is None else spaces
    signals = [
        sql.Signal(name, space.pk, int(space.dimension), space.modality, normalise(vector), space.index_dimension)
        for name, vector in vectors.items()
        if (space := spaces.get(SIGNAL_SPACES[name])) is not None and len(vector) == space.dimension
    ]
    weights = ranking.renormalised(settings.SHOPLENS_SEARCH_WEIGHTS[kind], [s.name for s in signals])
    signals = [signal for signal in signals if signal.name in weights]
    if not signals:
        return SearchResult(hits=[], query_time_ms=_elapsed_ms(started), encoders=(), kind=kind)

    boosts = settings.SHOPLENS_SEARCH_RERANK
    per_category = int(settings.SHOPLENS_SEARCH_MAX_PER_CATEGORY)
    wanted = limit * 3 if per_category else limit  # diversity drops some candidates
    k = candidates.first_k(wanted, photos_per_product=candidates.photos_per_product(spaces, signals))
    product_filter = filtering.product_filter_sql(criteria, exclude_product_ids=exclude_product_ids)
    database = replicas.current_database()  # raw SQL where the ORM reads (config/routers.py)
    with transaction.atomic(using=database), connections[database].cursor() as cursor:
        exact = product_filter.selective and filtering.exact_scan_fits(
            cursor, product_filter, floor=int(settings.SHOPLENS_SEARCH_EXACT_MAX_PRODUCTS),
            share=float(settings.SHOPLENS_SEARCH_EXACT_MAX_SHARE),
        )  # fmt: skip
        prelude = None
        if not exact:
            prelude = sql.index_scan_settings_sql(
                ef_search=candidates.ef_search(k),
                iterative_scan=settings.SHOPLENS_SEARCH_ITERATIVE_SCAN,
                max_scan_tuples=int(settings.SHOPLENS_SEARCH_MAX_SCAN_TUPLES),
            )
        rows_by_signal = None
        walking = signals if exact else candidates.walking(signals)
        if len(signals) > 1:  # the usual case in one statement; a short signal asks again below
            scored = sql.nearest_and_scored(
                cursor, signals, product_filter, k=k, exact=exact, prelude=prelude, walking=walking
            )
            if all(products >= wanted or read < k for products, read in scored.found.values()):
                rows_by_signal = scored.similarities
        if rows_by_signal is None:
            found = candidates.nearest(
                cursor, walking, product_filter, wanted=wanted, k=k, exact=exact, prelude=prelude
            )
            if len(signals) == 1:
                rows_by_signal = found  # the index rows already hold each product's best photo
            else:
                candidate_ids = sorted({row[0] for rows in found.values() for row in rows})
                rows_by_signal = sql.similarities(cursor, signals, candidate_ids)
        words = None
        if text:  # products found by their words are scored by the vectors too
            hybrid_settings = settings.SHOPLENS_SEARCH_HYBRID
            words = lexical.lexical_matches(
                cursor,
                text,
                product_filter,
                k=candidates.first_k(wanted),
                trigram_threshold=hybrid_settings["TRIGRAM_THRESHOLD"],
            )
            seen = {row[0] for rows in rows_by_signal.values() for row in rows}
            if missing := sorted(words.product_ids - seen):
                for name, rows in sql.similarities(cursor, signals, missing).items():
                    rows_by_signal[name] = [*rows_by_signal[name], *rows]
            found_ids = {row[0] for rows in rows_by_signal.values() for row in rows} | words.product_ids
            texts = lexical.product_texts(cursor, sorted(found_ids)) if hybrid.colours_in(text) else {}

    ranked = ranking.combine(
        rows_by_signal,
        weights=weights,
        calibration=settings.SHOPLENS_SEARCH_MATCH_CALIBRATION,
        image_signals=IMAGE_SIGNALS,
    )
    if words is not None:
        ranked = hybrid.fuse(
            ranked,
            words,
            text=text,
            settings=settings.SHOPLENS_SEARCH_HYBRID,
            weights=settings.SHOPLENS_SEARCH_HYBRID_WEIGHTS,
            calibration=settings.SHOPLENS_SEARCH_LEXICAL_CALIBRATION,
            product_texts=texts,
        )
    if boosts.get("ENABLED") or per_category:
        facts = _business_facts([entry.product_id for entry in ranked])
        if boosts.get("ENABLED"):
            ranked = ranking.rerank(ranked, facts, boosts=boosts)
        if per_category:
            ranked = ranking.diversify(ranked, facts, per_category=per_category)
    ranked = ranked[:limit]
    loading = time.perf_counter()
    products = Product.objects.with_listing_data().in_bulk([entry.product_id for entry in ranked])
    floor = int(settings.SHOPLENS_SEARCH_RELEVANCE_FLOOR.get(kind, 0))
    hits = [
        SearchHit(
            product=product,
            score=round(entry.score, 6),
            match_percent=shown,
            matched_image=_image(product, entry.image_id),
            signals={name: round(value, 6) for name, value in entry.signals.items()},
            below_floor=shown < floor,
        )
        for entry, shown in zip(ranked, ranking.shown_percents(ranked), strict=True)
        if (product := products.get(entry.product_id)) is not None
    ]
    total_ms = _elapsed_ms(started)
    return SearchResult(
        relevance_floor=floor,
        hits=hits,
        query_time_ms=total_ms,
        timings=SearchTimings(search_ms=_ms(loading - searching), load_ms=_elapsed_ms(loading), total_ms=total_ms),
        encoders=tuple(sorted({SIGNAL_SPACES[signal.name][0] for signal in signals})),
        kind=kind,
        signals=tuple(signal.name for signal in signals),
    )


def _business_facts(product_ids: list[int]) -> dict[int, ranking.BusinessFacts]:
    rows = Product.objects.filter(pk__in=product_ids).values_list("pk", "rating", "stock", "created_at", "category_id")
    return {
        pk: ranking.BusinessFacts(rating, stock, created, category) for pk, rating, stock, created, category in rows
    }


def _image(product: Product, image_id: int | None) -> ProductImage | None:
    images = list(product.images.all())  # prefetched
    return next((image for image in images if image.pk == image_id), images[0] if images else None)


def _check_limit(limit: int) -> None:
    if not 1 <= limit <= int(settings.SHOPLENS_SEARCH_MAX_LIMIT):
        raise ValueError(f"limit must be between 1 and {settings.SHOPLENS_SEARCH_MAX_LIMIT}.")


def _elapsed_ms(started: float) -> float:
    return _ms(time.perf_counter() - started)


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 2)
