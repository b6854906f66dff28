"""The search selector on a small indexed catalogue of drawn products (tiny CLIP, real visual and text encoders).

The tiny CLIP is random (its image vectors are all alike), so rankings are asserted through
exact-duplicate photos, the visual encoder and the MiniLM text encoder.
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.criteria import ProductCriteria
from catalog.models import Category, ProductImage
from tests.factories import product_with_drawn_photos
from tests.search_fixtures import photo
from visualsearch.encoders import get_encoder
from visualsearch.indexing import embed_images
from visualsearch.models import EmbeddingSpace, SpaceStatus
from visualsearch.search import candidates, filtering, sql
from visualsearch.search.encoding import encode_query
from visualsearch.search.types import SIGNAL_SPACES, EmptyQuery, SearchQuery
from visualsearch.selectors import active_spaces, search_products

pytestmark = pytest.mark.django_db


def names(result) -> list[str]:
    return [hit.product.name for hit in result.hits]


def rank_of(result, product) -> int:
    ids = [hit.product.pk for hit in result.hits]
    return ids.index(product.pk) if product.pk in ids else len(ids)


def image_search(*images: bytes, negatives: tuple[bytes, ...] = (), limit: int = 20, **filters):
    query = SearchQuery(images=images, negative_images=negatives)
    return search_products(query=query, criteria=ProductCriteria(**filters), limit=limit)


def test_uploaded_catalogue_photo_finds_its_own_product_first(search_catalogue):
    result = image_search(search_catalogue.photos[("star", "blue")][1], limit=5)
    assert result.hits[0].product == search_catalogue.product("star", "blue")
    assert result.hits[0].matched_image == search_catalogue.images[("star", "blue")][1]
    assert result.hits[0].match_percent >= 95
    assert result.encoders == ("clip", "visual")


def test_second_photo_of_a_product_ranks_it_first_among_distinct_products(search_catalogue):
    new_photo = photo("car", "green", seed=999, angle=-10.0, scale=0.5)  # other framing, never stored
    result = image_search(new_photo, limit=5)
    assert result.hits[0].product == search_catalogue.product("car", "green")


def test_category_filter_includes_sub_categories_and_keeps_full_pages(search_catalogue, settings):
    angular = search_catalogue.categories["Shop/Angular"]  # square, triangle, star: 12 of 20 products
    settings.SHOPLENS_SEARCH_EXACT_MAX_PRODUCTS = 0  # through the HNSW index with iterative scan
    result = image_search(search_catalogue.photos[("circle", "red")][0], limit=10, category_id=angular.pk)
    assert len(result.hits) == 10
    assert all(hit.product.category.path.startswith(angular.path) for hit in result.hits)


def test_selective_filter_uses_an_exact_scan_with_the_same_results(search_catalogue, settings):
    angular = search_catalogue.categories["Shop/Angular"]
    query = search_catalogue.photos[("circle", "red")][0]
    settings.SHOPLENS_SEARCH_EXACT_MAX_PRODUCTS = 0
    through_index = image_search(query, limit=10, category_id=angular.pk)
    settings.SHOPLENS_SEARCH_EXACT_MAX_PRODUCTS = 1000
    exact = image_search(query, limit=10, category_id=angular.pk)
    assert names(exact) == names(through_index)


def test_brand_price_and_stock_filters_combine(search_catalogue):
    bolt = search_catalogue.brands["Bolt"]
    result = image_search(
        search_catalogue.photos[("square", "gold")][0],
        brand_ids=(bolt.pk,),
        price_min=Decimal("30"),
        price_max=Decimal("150"),
        in_stock=True,
    )
    assert result.hits
    for hit in result.hits:
        assert hit.product.brand == bolt
        assert Decimal("30") <= hit.product.price <= Decimal("150")
        assert hit.product.stock > 0


def test_inactive_products_are_not_found(search_catalogue):
    product = search_catalogue.product("triangle", "red")
    product.is_active = False
    product.save(update_fields=["is_active"])
    result = image_search(search_catalogue.photos[("triangle", "red")][0])
    assert product.pk not in [hit.product.pk for hit in result.hits]


def test_similar_products_exclude_the_product(search_catalogue):
    product = search_catalogue.product("star", "gold")
    result = search_products(query=SearchQuery(product_id=product.pk), criteria=ProductCriteria(), limit=19)
    assert product.pk not in [hit.product.pk for hit in result.hits]
    assert len(result.hits) == 19
    assert result.kind == "product"
    assert set(result.encoders) == {"clip", "visual", "text"}


def test_several_photos_find_the_products_of_each(search_catalogue):
    red_circle, blue_square = search_catalogue.product("circle", "red"), search_catalogue.product("square", "blue")
    result = image_search(search_catalogue.photos[("circle", "red")][0], search_catalogue.photos[("square", "blue")][0])
    assert {hit.product.pk for hit in result.hits[:2]} == {red_circle.pk, blue_square.pk}


def test_a_negative_example_pushes_its_look_down(search_catalogue):
    query = search_catalogue.photos[("circle", "red")][0]
    plain = image_search(query)
    runner_up = plain.hits[1].product
    shape, colour = runner_up.sku.split("-")[1:]
    with_negative = image_search(query, negatives=(search_catalogue.photos[(shape, colour)][0],))
    assert with_negative.hits[0].product == search_catalogue.product("circle", "red")
    assert rank_of(with_negative, runner_up) > rank_of(plain, runner_up)


def test_text_search_finds_products_by_their_text(search_catalogue):
    result = search_products(query=SearchQuery(text="tent for camping"), criteria=ProductCriteria(), limit=4)
    assert {hit.product.sku.split("-")[1] for hit in result.hits} == {"triangle"}
    assert "text" in result.encoders


def test_photo_plus_text_moves_towards_the_text(search_catalogue):
    query = photo("car", "green", seed=5)
    red_car = search_catalogue.product("car", "red")
    plain = image_search(query)
    with_text = search_products(query=SearchQuery(images=(query,), text="red"), criteria=ProductCriteria(), limit=20)
    assert with_text.kind == "image_text"
    assert rank_of(with_text, red_car) < rank_of(plain, red_car)


def test_an_encoder_that_cannot_load_is_skipped(search_catalogue, settings):
    settings.SHOPLENS_ENCODERS = {
        **settings.SHOPLENS_ENCODERS,
        "clip": {**settings.SHOPLENS_ENCODERS["clip"], "MODEL": "/no/such/clip"},
    }
    result = image_search(search_catalogue.photos[("star", "blue")][0], limit=3)
    assert result.encoders == ("visual",)
    assert result.hits[0].product == search_catalogue.product("star", "blue")


def test_only_active_spaces_are_searched(search_catalogue):
    EmbeddingSpace.objects.filter(encoder="clip", status=SpaceStatus.ACTIVE).update(status=SpaceStatus.RETIRED)
    result = image_search(search_catalogue.photos[("star", "blue")][0], limit=3)
    assert result.encoders == ("visual",)


def test_a_repeated_photo_is_not_encoded_again(search_catalogue, monkeypatch):
    encoder = get_encoder("visual")
    calls = []
    original = encoder.encode_images

    def counting(images):
        calls.append(len(images))
        return original(images)

    monkeypatch.setattr(encoder, "encode_images", counting)
    query = photo("star", "red", seed=77)
    first = image_search(query, limit=3)
    second = image_search(query, limit=3)
    assert calls == [1]
    assert names(first) == names(second)


def test_search_runs_a_fixed_number_of_queries(search_catalogue, django_assert_max_num_queries):
    query = search_catalogue.photos[("circle", "gold")][0]
    image_search(query, limit=2)  # warm the encoders and the query-vector cache
    counts = []
    for limit in (2, 15):
        with CaptureQueriesContext(connection) as captured:
            image_search(query, limit=limit, in_stock=True)
        counts.append(len(captured))
    assert counts[0] == counts[1]
    with django_assert_max_num_queries(8):
        image_search(query, limit=15, in_stock=True)


def _photo_search_plan(query: bytes) -> str:
    """EXPLAIN of the photo search's candidate statement."""
    with CaptureQueriesContext(connection) as captured:
        image_search(query, limit=3)
    statement = next(q["sql"] for q in captured if "MATERIALIZED" in q["sql"])
    ann = statement.split("; ", 1)[1]
    with connection.cursor() as cursor:
        # A handful of rows: left alone, the planner may well sort them instead; without plain scans
        # and sorts, only an HNSW index scan gives the ORDER BY ... LIMIT cheaply.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute(f"EXPLAIN {ann}")
        return "\n".join(row[0] for row in cursor.fetchall())


def test_nearest_neighbour_query_can_use_the_partial_hnsw_index(search_catalogue, settings):
    settings.SHOPLENS_SEARCH_EXACT_MAX_PRODUCTS = 0
    assert settings.SHOPLENS_SEARCH_RESCORED_SIGNALS == []  # by default every signal walks its own index
    plan = _photo_search_plan(search_catalogue.photos[("circle", "gold")][0])
    spaces = EmbeddingSpace.objects.filter(status=SpaceStatus.ACTIVE, modality="image")
    assert spaces.count() == 2
    for space in spaces:
        assert space.index_name in plan


def test_a_photo_query_walks_one_graph_and_scores_the_visual_signal_on_its_candidates(search_catalogue, settings):
    settings.SHOPLENS_SEARCH_EXACT_MAX_PRODUCTS = 0
    settings.SHOPLENS_SEARCH_RESCORED_SIGNALS = ["visual"]
    query = search_catalogue.photos[("circle", "gold")][0]
    plan = _photo_search_plan(query)
    spaces = active_spaces()
    assert spaces[("clip", "image")].index_name in plan
    assert spaces[("visual", "image")].index_name not in plan
    result = image_search(query, limit=5)
    assert all(set(hit.signals) == {"clip", "visual"} for hit in result.hits)  # judged by both signals


def test_the_visual_signal_walks_its_own_graph_when_it_is_alone(search_catalogue, settings):
    settings.SHOPLENS_SEARCH_EXACT_MAX_PRODUCTS = 0
    settings.SHOPLENS_SEARCH_RESCORED_SIGNALS = ["visual"]
    settings.SHOPLENS_SEARCH_WEIGHTS = {**settings.SHOPLENS_SEARCH_WEIGHTS, "image": {"visual": 1.0}}
    plan = _photo_search_plan(search_catalogue.photos[("circle", "gold")][0])
    assert active_spaces()[("visual", "image")].index_name in plan


def test_diversity_keeps_one_hit_per_category(search_catalogue, settings):
    settings.SHOPLENS_SEARCH_MAX_PER_CATEGORY = 1
    result = image_search(search_catalogue.photos[("circle", "red")][0], limit=10)
    categories = [hit.product.category_id for hit in result.hits]
    assert len(categories) == len(set(categories)) == Category.objects.filter(products__isnull=False).distinct().count()


def test_business_reranking_can_favour_products_in_stock(search_catalogue, settings):
    settings.SHOPLENS_SEARCH_RERANK = {**settings.SHOPLENS_SEARCH_RERANK, "ENABLED": True, "IN_STOCK": 10.0}
    result = image_search(search_catalogue.photos[("circle", "red")][0], limit=20)
    stock = [hit.product.stock > 0 for hit in result.hits]
    assert stock == sorted(stock, reverse=True)


def test_a_query_with_nothing_in_it_is_refused(search_catalogue):
    with pytest.raises(EmptyQuery):
        search_products(query=SearchQuery(text="   "), criteria=ProductCriteria(), limit=5)


def test_match_percent_is_a_percentage(search_catalogue):
    result = search_products(query=SearchQuery(text="gold star lamp"), criteria=ProductCriteria(), limit=20)
    assert all(0 <= hit.match_percent <= 100 for hit in result.hits)
    assert result.hits[0].match_percent >= result.hits[-1].match_percent


@pytest.mark.parametrize("exact", [False, True])
def test_candidates_and_scores_in_one_statement_match_the_two_step_path(search_catalogue, exact):
    spaces = active_spaces()
    photo_bytes = search_catalogue.photos[("square", "green")][0]
    encoded = encode_query(SearchQuery(images=(photo_bytes,)), spaces=spaces)
    signals = [
        sql.Signal(name, spaces[SIGNAL_SPACES[name]].pk, spaces[SIGNAL_SPACES[name]].dimension, "image", vector)
        for name, vector in encoded.vectors.items()
    ]
    assert len(signals) == 2
    product_filter = filtering.product_filter_sql(ProductCriteria())
    with connection.cursor() as cursor:
        scored = sql.nearest_and_scored(cursor, signals, product_filter, k=6, exact=exact)
        found = sql.nearest_products(cursor, signals, product_filter, k=6, exact=exact)
        union = sorted({row[0] for rows, _ in found.values() for row in rows})
        two_step = sql.similarities(cursor, signals, union)

    assert {name: (len(rows), read) for name, (rows, read) in found.items()} == scored.found
    for signal in signals:
        one, two = sorted(scored.similarities[signal.name]), sorted(two_step[signal.name])
        assert [row[:2] for row in one] == [row[:2] for row in two]  # the same photos of the same products
        assert [row[2] for row in one] == pytest.approx([row[2] for row in two])


def test_a_signal_whose_nearest_photos_hold_too_few_products_asks_again(search_catalogue, settings, monkeypatch):
    crowd = product_with_drawn_photos(6, sku="CROWD", shape="circle", colour="red")
    embed_images(image_ids=crowd)
    # k = 2 x limit = 4 photos, all of them CROWD's, whatever the planner's statistics say
    monkeypatch.setattr(candidates, "photos_per_product", lambda spaces, signals: 1.0)
    settings.SHOPLENS_SEARCH_CANDIDATES = 2
    settings.SHOPLENS_SEARCH_EXACT_MAX_PRODUCTS = 0
    settings.SHOPLENS_SEARCH_RESCORED_SIGNALS = []  # whichever signal's index is short asks again
    query = ProductImage.objects.get(pk=crowd[0]).image.read()
    with CaptureQueriesContext(connection) as captured:
        result = image_search(query, limit=2)
    assert [hit.product.sku for hit in result.hits][:1] == ["CROWD"]
    assert len(result.hits) == 2
    assert sum("MATERIALIZED" in query["sql"] for query in captured) >= 2, "asked the index again"


def test_the_index_is_asked_for_the_photos_of_the_wanted_products_at_once(search_catalogue, settings):
    settings.SHOPLENS_SEARCH_EXACT_MAX_PRODUCTS = 0
    settings.SHOPLENS_SEARCH_CANDIDATES = 2
    with connection.cursor() as cursor:
        # Statistics of this transaction's catalogue (ANALYZE writes pg_class in place: later tests
        # may see the same 2 photos per product, which only sizes their first index scan).
        cursor.execute("ANALYZE catalog_product, catalog_productimage")
    spaces = active_spaces()
    estimates = [space.photos_per_product for space in spaces.values()]  # type: ignore[attr-defined]  # annotated
    assert estimates == [2.0] * len(spaces)  # 40 photos, 20 products

    with CaptureQueriesContext(connection) as captured:
        result = image_search(search_catalogue.photos[("star", "blue")][0], limit=5)
    searches = [query["sql"] for query in captured if "MATERIALIZED" in query["sql"]]
    assert len(searches) == 1, "one statement, no second scan"
    assert set(re.findall(r"LIMIT (\d+)\)", searches[0])) == {"20"}  # 2 x 5 products x 2 photos each
    assert len(result.hits) == 5


def test_the_index_walk_runs_without_memoize(search_catalogue, settings):
    settings.SHOPLENS_SEARCH_EXACT_MAX_PRODUCTS = 0
    shown = "SELECT current_setting('enable_memoize'), current_setting('hnsw.ef_search')"
    with connection.cursor() as cursor:
        cursor.execute(shown)
        assert cursor.fetchone() == ("on", "40")  # the server's defaults
        image_search(search_catalogue.photos[("star", "blue")][0], limit=3)
        # The search's settings last to the end of the transaction around it, here the test's.
        # A Memoize node's hash table is sized for every product the index could return (see sql.py).
        cursor.execute(shown)
        assert cursor.fetchone() == ("off", "40")


def test_a_shop_with_many_photos_a_product_and_a_long_page_stays_within_the_index_bounds(
    search_catalogue, settings, monkeypatch
):
    settings.SHOPLENS_SEARCH_EXACT_MAX_PRODUCTS = 0
    settings.SHOPLENS_SEARCH_MAX_PER_CATEGORY = 2  # 3 x limit candidates wanted
    monkeypatch.setattr(candidates, "photos_per_product", lambda spaces, signals: 50.0)
    with CaptureQueriesContext(connection) as captured:
        result = image_search(search_catalogue.photos[("star", "blue")][0], limit=100)
    prelude = next(q["sql"] for q in captured if "MATERIALIZED" in q["sql"]).split("; ", 1)[0]
    assert "set_config('hnsw.ef_search', '1000', true)" in prelude  # pgvector's largest
    assert result.hits and result.hits[0].product == search_catalogue.product("star", "blue")
