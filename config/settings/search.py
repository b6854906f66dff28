"""Settings of search results a shopper can trust (imported by ``base``): the relevance floor,
hybrid text search, and how long query vectors and photo searches are kept. Documented in README (Configuration)."""

from __future__ import annotations

import environ

__all__ = [
    "SHOPLENS_INDEX_HNSW_EF_CONSTRUCTION",
    "SHOPLENS_INDEX_HNSW_M",
    "SHOPLENS_QUERY_EMBEDDING_CACHE_SECONDS",
    "SHOPLENS_QUERY_PHOTO_MAX_SIDE",
    "SHOPLENS_SEARCH_HYBRID",
    "SHOPLENS_SEARCH_HYBRID_WEIGHTS",
    "SHOPLENS_SEARCH_LEXICAL_CALIBRATION",
    "SHOPLENS_SEARCH_MAX_PER_CATEGORY",
    "SHOPLENS_SEARCH_RELEVANCE_FLOOR",
    "SHOPLENS_SEARCH_RERANK",
    "SHOPLENS_SEARCH_RESCORED_SIGNALS",
]

env = environ.Env()

# Match percent under which a hit is not a match ("No close match", the API's below_floor), per
# query kind; "image=50,text=45" in the environment. Calibrated with eval_search (README).
SHOPLENS_SEARCH_RELEVANCE_FLOOR: dict[str, int] = env.dict(
    "SHOPLENS_SEARCH_RELEVANCE_FLOOR",
    cast={"value": int},
    default={"image": 45, "text": 45, "image_text": 45, "product": 45},
)
# Hybrid text search (visualsearch.search.hybrid): reciprocal rank fusion of the vector ranking with
# full-text and trigram matches; a product naming only colours other than the query's is penalised.
SHOPLENS_SEARCH_HYBRID: dict[str, float] = {
    "ENABLED": env.bool("SHOPLENS_SEARCH_HYBRID", default=True),  # off: vectors only (for comparison)
    "RRF_K": env.int("SHOPLENS_SEARCH_RRF_K", default=60),
    "TRIGRAM_THRESHOLD": 0.5,  # pg_trgm.word_similarity_threshold: lower finds more misspellings
    "COLOUR_PENALTY": 0.5,
}
SHOPLENS_SEARCH_HYBRID_WEIGHTS: dict[str, float] = {"vector": 1.0, "fulltext": 1.0, "trigram": 0.5}
# The lexical signals' values onto 0-100 % like SHOPLENS_SEARCH_MATCH_CALIBRATION: share of the
# query's words found in the product, and trigram word similarity of the query to "SKU name".
SHOPLENS_SEARCH_LEXICAL_CALIBRATION: dict[str, tuple[float, float]] = {"fulltext": (0.34, 1.0), "trigram": (0.5, 0.9)}
SHOPLENS_QUERY_EMBEDDING_CACHE_SECONDS = 7 * 24 * 60 * 60  # query vectors (visualsearch.search.query_cache)
# A photo search's photos are kept (longest side capped) as long as their query vectors, so that
# /search/?query=<id> shows the same results after Back, reload or a shared link.
SHOPLENS_QUERY_PHOTO_MAX_SIDE = env.int("SHOPLENS_QUERY_PHOTO_MAX_SIDE", default=768)

# Business re-ranking (added to the score) and diversity; both off by default.
SHOPLENS_SEARCH_RERANK: dict[str, float | bool] = {
    "ENABLED": False,
    "RATING": 0.02,  # x rating / 5
    "IN_STOCK": 0.02,
    "NEWNESS": 0.02,  # products created within NEWNESS_DAYS
    "NEWNESS_DAYS": 30,
}
SHOPLENS_SEARCH_MAX_PER_CATEGORY = env.int("SHOPLENS_SEARCH_MAX_PER_CATEGORY", default=0)  # 0: no limit

# Signals scored only on the candidates the other signals' indexes find (one HNSW walk per photo
# query: CLIP's); a listed signal still walks its own index when it is the only one (visual alone,
# offline). Empty: every signal walks its index. Measured with bench_search (README).
SHOPLENS_SEARCH_RESCORED_SIGNALS: list[str] = env.list("SHOPLENS_SEARCH_RESCORED_SIGNALS", default=[])
# Build parameters of new HNSW indexes (a space's index keeps those it was built with); the table
# of build time, size, recall and latency per setting is in README (Search speed).
SHOPLENS_INDEX_HNSW_M = env.int("SHOPLENS_INDEX_HNSW_M", default=16)
SHOPLENS_INDEX_HNSW_EF_CONSTRUCTION = env.int("SHOPLENS_INDEX_HNSW_EF_CONSTRUCTION", default=64)
