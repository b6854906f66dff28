"""What a page shows of a text or photo search: the matches, the products under the relevance floor
under their own heading, a sort menu and "more results" (up to the API's limit)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.http import HttpRequest, QueryDict

from catalog.criteria import ProductCriteria
from visualsearch.cards import ResultCard, hit_cards, run_search
from visualsearch.search.ordering import RELEVANCE, SORTS, sorted_hits
from visualsearch.search.types import SearchQuery, SearchResult

OTHERS_SHOWN = 4  # the best few products under the floor, under their own heading


@dataclass
class ResultsPage:
    """One page of search results, ready for ``partials/search_results.html``."""

    result: SearchResult | None
    search_error: str = ""
    cards: list[ResultCard] = field(default_factory=list)  # the matches, in the chosen order
    others: list[ResultCard] = field(default_factory=list)  # "Other products you might like"
    sort: str = RELEVANCE
    shown: int = 0
    more_url: str = ""  # the same search with more results; empty when there are no more
    keep: list[tuple[str, str]] = field(default_factory=list)  # the request's other parameters, for the sort form

    @property
    def sorts(self) -> list[tuple[str, str]]:
        return list(SORTS.items())


def requested_sort(data: QueryDict) -> str:
    sort = data.get("sort", RELEVANCE)
    return sort if sort in SORTS else RELEVANCE


def requested_shown(data: QueryDict) -> int:
    """How many results the page shows: ``shown`` rounded to whole pages, within the API's limit."""
    page = int(settings.SHOPLENS_UI_SEARCH_LIMIT)
    try:
        shown = int(data.get("shown", page))
    except ValueError:
        shown = page
    pages = max(1, -(-shown // page))
    return min(pages * page, int(settings.SHOPLENS_SEARCH_MAX_LIMIT))


def results_page(request: HttpRequest, *, query: SearchQuery, criteria: ProductCriteria) -> ResultsPage:
    """Search, sort, split at the floor and link to more results, from the request's parameters."""
    sort, shown = requested_sort(request.GET), requested_shown(request.GET)
    result, error = run_search(query=query, criteria=criteria, limit=shown, request=request)
    keep = [(name, value) for name, values in request.GET.lists() if name not in ("sort", "shown") for value in values]
    page = ResultsPage(result=result, search_error=error, sort=sort, shown=shown, keep=keep)
    if result is None:
        return page
    ordered = sorted_hits(result.hits, sort)
    page.cards = hit_cards([hit for hit in ordered if not hit.below_floor], search_id=result.search_id)
    others = [hit for hit in ordered if hit.below_floor][:OTHERS_SHOWN]
    page.others = hit_cards(others, search_id=result.search_id, first_position=len(page.cards) + 1)
    full = len(result.hits) >= shown and len(result.matches) == len(result.hits)
    if full and shown < int(settings.SHOPLENS_SEARCH_MAX_LIMIT):  # more matches may follow
        more = request.GET.copy()
        more["shown"] = str(shown + int(settings.SHOPLENS_UI_SEARCH_LIMIT))
        page.more_url = f"{request.path}?{more.urlencode()}"
    return page
