"""Hybrid text search: the vector ranking fused with the lexical signals by reciprocal rank fusion.

    fused = sum over lists l of WEIGHTS[l] / (RRF_K + rank_l)     (lists: vector, fulltext, trigram)

An exact SKU goes first, and then the words of that SKU lift no other product's match. A product's
match (the percentage shown) is the best of its vector match and its calibrated lexical values
(``fulltext``: share of the query's words found; ``trigram``: similarity). When the query names a
colour and a product names only other colours, its fused score and match are multiplied by
``COLOUR_PENALTY``: "red running shoes" is not a strong match for purple sneakers.
Settings: ``SHOPLENS_SEARCH_HYBRID`` and ``SHOPLENS_SEARCH_HYBRID_WEIGHTS``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from visualsearch.search.lexical import LexicalMatches
from visualsearch.search.ranking import RankedProduct, calibrated

# Colour words as shoppers type them; a shade names its base colour too ("navy" is not "red").
COLOUR_WORDS = frozenset({
    "red", "orange", "yellow", "green", "blue", "navy", "teal", "turquoise", "purple", "violet", "lilac", "pink",
    "brown", "beige", "tan", "black", "white", "grey", "gray", "silver", "gold", "golden", "mustard", "maroon",
    "burgundy", "khaki", "olive", "cream", "ivory", "coral",
})  # fmt: skip
_WORD = re.compile(r"[a-z]+")


def colours_in(text: str) -> frozenset[str]:
    return frozenset(word for word in _WORD.findall(text.lower()) if word in COLOUR_WORDS)


def fuse(
    ranked: list[RankedProduct],
    lexical: LexicalMatches,
    *,
    text: str,
    settings: Mapping[str, float],
    weights: Mapping[str, float],
    calibration: Mapping[str, tuple[float, float]],
    product_texts: Mapping[int, str],
) -> list[RankedProduct]:
    """Re-order ``ranked`` (the vector ranking, best first) with the lexical signals' lists;
    ``product_texts`` (lower-cased name, description, attributes) is needed when ``text`` names a colour."""
    by_id = {entry.product_id: entry for entry in ranked}
    for product_id in lexical.product_ids - by_id.keys():  # found by words alone
        by_id[product_id] = entry = RankedProduct(product_id)
        ranked.append(entry)
    k = float(settings["RRF_K"])
    lists = {
        "vector": [entry.product_id for entry in ranked if entry.signals],
        "fulltext": [pid for pid, _ in lexical.fulltext],
        "trigram": [pid for pid, _ in lexical.trigram],
    }
    fused: dict[int, float] = dict.fromkeys(by_id, 0.0)
    for name, product_ids in lists.items():
        for rank, product_id in enumerate(product_ids, start=1):
            fused[product_id] += float(weights.get(name, 0.0)) / (k + rank)
    for name, values in (("fulltext", lexical.fulltext), ("trigram", lexical.trigram)):
        for product_id, value in values:
            entry = by_id[product_id]
            entry.signals[name] = round(value, 6)
            if not lexical.sku:  # a SKU query's words ("dummyjson-12") say little about other products
                entry.match = max(entry.match, calibrated(value, calibration.get(name, (0.0, 1.0))))
    for product_id in lexical.sku:  # above any fused score (each is below sum(WEIGHTS) / RRF_K)
        by_id[product_id].match = 1.0
        fused[product_id] += 1.0 + sum(float(w) for w in weights.values()) / k
    wanted = colours_in(text)
    if wanted:
        penalty = float(settings["COLOUR_PENALTY"])
        for product_id, words in product_texts.items():
            named = colours_in(words)
            if named and not named & wanted and product_id not in lexical.sku:
                by_id[product_id].match *= penalty
                fused[product_id] *= penalty
    for entry in by_id.values():
        entry.score = fused[entry.product_id]
    return sorted(by_id.values(), key=lambda e: (-e.score, -e.match, e.product_id))
