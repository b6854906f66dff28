"""What an indexing call did, and the error that asks for a retry."""

from __future__ import annotations

from dataclasses import dataclass, field


class TransientIndexingError(RuntimeError):
    """Some photos could not be read or encoded for a reason that may pass (storage, model);
    the rest of the batch is stored, and a retry redoes only what is missing."""


@dataclass
class IndexingReport:
    """What one call did, counted in photos (or products) per encoder."""

    embedded: int = 0  # vectors computed by a model
    reused: int = 0  # vectors copied from identical bytes already embedded
    skipped: int = 0  # vector already there
    failed: int = 0  # photos marked failed
    unavailable: dict[str, str] = field(default_factory=dict)  # encoder -> why it could not load

    def add(self, other: IndexingReport) -> None:
        self.embedded += other.embedded
        self.reused += other.reused
        self.skipped += other.skipped
        self.failed += other.failed
        self.unavailable.update(other.unavailable)
