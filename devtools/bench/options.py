"""The options of ``manage.py bench_search`` (devtools/management/commands/bench_search.py)."""

from __future__ import annotations

from django.core.management.base import CommandParser

from devtools.bench.clients import parse_clients


def add_arguments(parser: CommandParser) -> None:
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--json", action="store_true", help="print one JSON object only")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the catalogue even if it exists")
    parser.add_argument(
        "--spaces", default="clip,visual,text", help="spaces to build (photo queries use clip and visual only)"
    )
    parser.add_argument("--visual-dim", type=int, default=1308, help="visual encoder width (1280 CNN + 28 colour)")
    parser.add_argument(
        "--visual-index-dimensions", type=int, default=None, metavar="P",
        help="store the visual vectors rotated (fit_visual_whitening --rotation) and index their first P components",
    )  # fmt: skip
    parser.add_argument("--ef-search", type=int, default=None)
    parser.add_argument("--max-scan-tuples", type=int, default=None)
    parser.add_argument("--exact-max-products", type=int, default=None)
    parser.add_argument("--exact-max-share", type=float, default=None)
    parser.add_argument("--candidates", type=int, default=None)
    parser.add_argument("--noise", type=float, default=0.5, help="query noise relative to a unit vector")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--vector-storage", choices=["default", "external", "plain"], default="default",
        help="default: the schema's (vectors inline, STORAGE MAIN); external: pgvector's default, in TOAST",
    )  # fmt: skip
    parser.add_argument(
        "--maintenance-work-mem", default="1500MB", help="for building the HNSW indexes (e.g. 8GB for 1M products)"
    )
    parser.add_argument(
        "--without-hnsw", action="store_true",
        help="build without HNSW indexes, to measure the exact path of filters only (needs --only filtered)",
    )  # fmt: skip
    parser.add_argument("--m", type=int, default=None, help="HNSW m (default SHOPLENS_INDEX_HNSW_M)")
    parser.add_argument("--ef-construction", type=int, default=None, help="HNSW ef_construction")
    parser.add_argument(
        "--reindex", default=None, metavar="ENCODERS",
        help="rebuild these spaces' indexes (e.g. clip) with --m/--ef-construction before measuring",
    )  # fmt: skip
    parser.add_argument(
        "--only", choices=["unfiltered", "filtered", "clients"], default=None,
        help="run one half of the latency queries only, or only the client sweep",
    )  # fmt: skip
    parser.add_argument("--clients", type=parse_clients, default=None, help="e.g. 1,2,4: searches/s with K clients")
    parser.add_argument("--client-seconds", type=float, default=10.0, help="at most this long per K clients")
    parser.add_argument("--client-searches", type=int, default=2000, help="at most this many searches per K")
    parser.add_argument("--replica", action="store_true", help="the sweep again on the primary + a standby")
    parser.add_argument("--replica-shared-buffers", default=None, help="the standby's (default: 2GB or less)")
    parser.add_argument(
        "--data", choices=["structured", "random"], default="structured",
        help="structured: families fitted to real vectors (devtools/bench/vectors.py); random: isotropic clusters",
    )  # fmt: skip
