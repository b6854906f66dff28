"""Internals of the search selector: SQL against the HNSW indexes, query vectors, scoring."""
