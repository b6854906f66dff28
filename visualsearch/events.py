"""Announcements of what search and indexing did, for whoever measures them (the ops app's metrics).

Plain Django signals: visualsearch sends them and knows nothing of who listens.
"""

from __future__ import annotations

from django.dispatch import Signal

# kwargs: result (SearchResult). Sent after every search_products call that returned.
search_completed = Signal()
# kwargs: encoder (name), hit (bool). Sent on every query-vector cache lookup.
query_vector_cache_lookup = Signal()
# kwargs: encoder (name), seconds (float). Sent when a model has loaded in this process.
encoder_loaded = Signal()
