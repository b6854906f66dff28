"""Randomly initialised CLIP models saved in sentence-transformers format.

No pretrained CLIP weights exist offline, so tests use a ``tiny`` one and speed benchmarks a
``vit-b-32`` one: same architecture and vector width (512) as ``clip-ViT-B-32``, meaningless vectors.
``CLIP_MODEL=random-vit-b-32`` (local and test settings) is turned into the generated model's
directory when the devtools app loads; production never sees these names.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import tempfile
import uuid
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Final, Literal, cast, get_args

if TYPE_CHECKING:
    from transformers import CLIPTokenizer

RandomClipSize = Literal["tiny", "vit-b-32"]
RANDOM_MODEL_PREFIX: Final = "random-"
PROJECTION_DIM: Final = 512
_MARKER: Final = "shoplens-random-clip.json"
_FORMAT_VERSION: Final = 1
_MAX_TEXT_TOKENS: Final = 77

# Enough shop vocabulary that product phrases become whole-word tokens; anything else still
# tokenises byte by byte.
_SHOP_WORDS: Final = """
a an and the with for of in on to by from new set pack pair size small medium large extra
red orange yellow green blue purple pink brown black white grey gray silver gold beige navy
cream teal olive maroon turquoise khaki multicolour multicolor striped checked floral dotted
cotton wool leather denim linen silk suede canvas rubber plastic metal steel wood wooden glass
ceramic bamboo velvet polyester nylon cashmere waterproof lightweight soft hard slim classic
vintage modern casual formal sport sports running walking hiking trail training summer winter
shoe shoes sneaker sneakers boot boots sandal sandals heel heels slipper slippers loafer
shirt shirts t-shirt tee blouse top dress dresses skirt jeans trousers pants shorts jacket coat
hoodie sweater jumper cardigan suit scarf hat cap gloves socks belt tie bag bags backpack handbag
wallet purse watch watches ring necklace bracelet earrings sunglasses glasses umbrella
phone smartphone case charger cable headphones earbuds speaker laptop notebook tablet keyboard
mouse monitor screen camera lens tripod printer router console controller game drone
chair table desk sofa couch bed lamp light shelf cabinet drawer mirror rug carpet curtain
pillow cushion blanket towel mug cup plate bowl glass bottle kettle pan pot knife fork spoon
car cars bike bicycle helmet scooter skateboard tyre tire wheel toy toys doll puzzle ball
book books pen pencil paper card poster frame clock vase plant flower candle perfume soap
men women kids boys girls baby unisex
"""


def is_random_model_name(model_name: str) -> bool:
    """``random-tiny`` / ``random-vit-b-32`` name a generated model rather than a hub or path."""
    return model_name in {f"{RANDOM_MODEL_PREFIX}{size}" for size in get_args(RandomClipSize)}


def random_clip_path(model_name: str, *, seed: int = 0, cache_dir: Path | None = None) -> Path:
    """The directory of the generated model ``model_name``, built once and reused afterwards.

    Concurrent builders (several workers) each build into a private folder and rename it into
    place, so a half-written model is never loaded.
    """
    size = cast(RandomClipSize, model_name.removeprefix(RANDOM_MODEL_PREFIX))
    if not is_random_model_name(model_name):
        raise ValueError(f"{model_name!r} is not one of random-tiny, random-vit-b-32")
    root = cache_dir or Path(tempfile.gettempdir()) / "shoplens-models"
    target = root / f"{model_name}-seed{seed}-v{_FORMAT_VERSION}"
    if (target / _MARKER).is_file():
        return target
    root.mkdir(parents=True, exist_ok=True)
    staging = root / f".{target.name}.{os.getpid()}.{uuid.uuid4().hex}"
    try:
        build_random_clip(staging, size=size, seed=seed)
        try:
            staging.rename(target)
        except OSError:
            if not (target / _MARKER).is_file():
                raise  # not a lost race: a real failure
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def resolve_model_name(model_name: str) -> str:
    """``random-tiny`` / ``random-vit-b-32`` become the path of the generated model; any other
    name (a hub id, a directory) is returned as it is."""
    return str(random_clip_path(model_name)) if is_random_model_name(model_name) else model_name


def resolve_random_clip_settings() -> None:
    """Point ``SHOPLENS_ENCODERS["clip"]["MODEL"]`` (``CLIP_MODEL``) at the generated model's
    directory when it names one, so the production loader only ever sees a path or a hub id."""
    from django.conf import settings

    clip = settings.SHOPLENS_ENCODERS.get("clip")
    if clip and is_random_model_name(str(clip.get("MODEL", ""))):
        settings.SHOPLENS_ENCODERS = {
            **settings.SHOPLENS_ENCODERS,
            "clip": {**clip, "MODEL": resolve_model_name(str(clip["MODEL"]))},
        }


def build_random_clip(target_dir: Path, *, size: RandomClipSize, seed: int = 0) -> Path:
    """Save a seeded random CLIP (model, tokenizer, image processor) loadable by ``SentenceTransformer``."""
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.base.modules import Transformer
    from transformers import CLIPConfig, CLIPModel, CLIPProcessor

    if size not in get_args(RandomClipSize):
        raise ValueError(f"size must be one of {get_args(RandomClipSize)}, not {size!r}")
    target_dir = Path(target_dir)
    target_dir.mkdir(parents=True, exist_ok=True)

    tokenizer = _train_tokenizer()
    image_size = 224 if size == "vit-b-32" else 32
    config = CLIPConfig(
        text_config=_text_config(size, tokenizer),
        vision_config=_vision_config(size, image_size),
        projection_dim=PROJECTION_DIM,
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = CLIPModel(config).eval()
    processor = CLIPProcessor(image_processor=_image_processor(image_size), tokenizer=tokenizer)
    model.save_pretrained(target_dir)
    processor.save_pretrained(target_dir)

    # Let sentence-transformers write its own module files (modules.json, sentence_bert_config.json)
    # so the directory loads as a multimodal Transformer module on this library version.
    transformer = Transformer(
        str(target_dir),
        model_kwargs={"local_files_only": True},
        processor_kwargs={"local_files_only": True},
        config_kwargs={"local_files_only": True},
        max_seq_length=_MAX_TEXT_TOKENS,
    )
    SentenceTransformer(modules=[transformer], device="cpu").save(str(target_dir))
    (target_dir / _MARKER).write_text(
        json.dumps({"size": size, "seed": seed, "format": _FORMAT_VERSION}), encoding="utf-8"
    )
    return target_dir


def _train_tokenizer() -> CLIPTokenizer:
    """A CLIP byte-level BPE tokenizer whose merges are learned from ``_SHOP_WORDS``.

    tokenizers' ``BpeTrainer`` breaks count ties in hash order, which differs run to run, so the
    merges come from ``_learn_merges``; splitting and the tokenizer itself are CLIP's own.
    """
    from tokenizers import pre_tokenizers
    from transformers import CLIPTokenizer

    start, end = "<|startoftext|>", "<|endoftext|>"
    splitter = CLIPTokenizer().backend_tokenizer
    assert splitter.normalizer is not None and splitter.pre_tokenizer is not None
    pieces = [
        piece
        for word in _SHOP_WORDS.split()
        for piece, _ in splitter.pre_tokenizer.pre_tokenize_str(splitter.normalizer.normalize_str(word))
    ]
    merges = _learn_merges(pieces)
    alphabet = sorted(pre_tokenizers.ByteLevel.alphabet())
    # Every byte also exists as a word ending, or an unseen final letter would become <unk>.
    tokens = [start, end, *alphabet, *(f"{symbol}</w>" for symbol in alphabet)]
    tokens += [left + right for left, right in merges]
    vocab = {token: index for index, token in enumerate(dict.fromkeys(tokens))}
    return CLIPTokenizer(
        vocab=vocab,
        merges=merges,  # type: ignore[arg-type]  # (left, right) pairs are what tokenizers' BPE takes
        bos_token=start,
        eos_token=end,
        unk_token=end,
        pad_token=end,
        model_max_length=_MAX_TEXT_TOKENS,
    )


def _learn_merges(pieces: list[str]) -> list[tuple[str, str]]:
    """Plain BPE until every piece is one token; ties go to the alphabetically first pair."""
    words = Counter((*piece[:-1], piece[-1] + "</w>") for piece in pieces)
    merges: list[tuple[str, str]] = []
    while True:
        pairs: Counter[tuple[str, str]] = Counter()
        for symbols, count in words.items():
            for pair in itertools.pairwise(symbols):
                pairs[pair] += count
        if not pairs:
            return merges
        best = min(pairs, key=lambda pair: (-pairs[pair], pair))
        merges.append(best)
        merged: Counter[tuple[str, ...]] = Counter()
        for symbols, count in words.items():
            merged[_apply_merge(symbols, best)] += count
        words = merged


def _apply_merge(symbols: tuple[str, ...], pair: tuple[str, str]) -> tuple[str, ...]:
    out: list[str] = []
    index = 0
    while index < len(symbols):
        if symbols[index : index + 2] == pair:
            out.append(pair[0] + pair[1])
            index += 2
        else:
            out.append(symbols[index])
            index += 1
    return tuple(out)


def _text_config(size: RandomClipSize, tokenizer: CLIPTokenizer) -> dict[str, object]:
    tokens = {
        "vocab_size": len(tokenizer),
        "bos_token_id": tokenizer.bos_token_id,
        "eos_token_id": tokenizer.eos_token_id,
        "pad_token_id": tokenizer.pad_token_id,
        "max_position_embeddings": _MAX_TEXT_TOKENS,
    }
    if size == "vit-b-32":
        return tokens  # transformers' defaults are the ViT-B/32 text tower
    return tokens | {
        "hidden_size": 32,
        "intermediate_size": 64,
        "num_hidden_layers": 2,
        "num_attention_heads": 2,
    }


def _vision_config(size: RandomClipSize, image_size: int) -> dict[str, object]:
    if size == "vit-b-32":
        return {"image_size": image_size, "patch_size": 32}  # defaults: 12 layers, 768 wide
    return {
        "image_size": image_size,
        "patch_size": 8,
        "hidden_size": 48,
        "intermediate_size": 96,
        "num_hidden_layers": 2,
        "num_attention_heads": 2,
    }


def _image_processor(image_size: int) -> object:
    from transformers.models.clip.image_processing_pil_clip import CLIPImageProcessorPil

    return CLIPImageProcessorPil(
        size={"shortest_edge": image_size}, crop_size={"height": image_size, "width": image_size}
    )
