"""What crosses the loader's layers: the progress callback type, where a model comes from
(:class:`Source`), a loaded model (:class:`LoadedModel`), the error when no source works
(:class:`ModelUnavailableError`, worded by :func:`framed`), and the server-log line
(:func:`log_event`). No streamlit here.
"""
from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from components.catalog import ModelSpec
from components.locks import FairRLock
from components.messages import Message

Progress = Callable[[float, str], None]
"""Progress callback: (fraction done in [0, 1], stage code). Stage codes (the UI translates
them, ``ui.model.stage.<code>``): ``waiting`` (another load holds the loader), ``libraries``
(importing torch / transformers), ``tokenizer``, ``dequantize``, ``write``, ``check`` (the
one-time GGUF conversion), ``load`` (reading the weights), ``done``."""


class ModelUnavailableError(RuntimeError):
    """No source of a catalog model can be used here.

    Attributes:
        spec: the model asked for.
        alternative: a bundled model of the same task to offer instead, or None.
        markdown: the English message for a markdown element: the app's own formatting (code
            spans around ids and commands) kept, inserted values (library messages, paths)
            escaped (:func:`components.textio.markdown_literal`). Defaults to the whole message escaped.
        wording: the same message as a :class:`~components.messages.Message` (a
            ``loading.error.*`` code and its literal details: model key, source kind, paths,
            library message) for the UI to word in its language
            (:func:`components.loading_wording.error_markdown`), or None (English only).
    """

    def __init__(self, spec: ModelSpec, message: str, alternative: ModelSpec | None = None,
                 markdown: str | None = None, wording: Message | None = None):
        from components.textio import markdown_literal

        super().__init__(message)
        self.spec = spec
        self.alternative = alternative
        self.markdown = markdown if markdown is not None else markdown_literal(message)
        self.wording = wording


def framed(code: str, spec: ModelSpec, **values: str) -> Message:
    """A :class:`ModelUnavailableError` ``wording``: ``loading.<code>`` with the model's key,
    ``source`` (a :class:`Source` kind) and every other value (exception text, paths) as given;
    the UI inserts the model's name and the source in its language and the rest literally."""
    return Message(f"loading.{code}", {"model": spec.key, **values})


@dataclass(frozen=True)
class Source:
    """Where a model's files come from: ``kind`` is "bundled", "local" or "hub"."""

    kind: str
    location: str  # a directory for bundled/local, a Hub repo id for hub
    gguf_file: str | None = None

    @property
    def label(self) -> str:
        return {"bundled": "bundled package", "local": "local directory", "hub": "Hugging Face Hub"}[
            self.kind
        ]


@dataclass
class LoadedModel:
    """A loaded catalog model, shared read-only by every session.

    Attributes:
        spec: the catalog entry.
        source: where it was loaded from.
        model: the ``torch.nn.Module`` in eval mode (for sentence-transformers, the inner
            ``transformers`` model, so attentions and hidden states can be read).
        tokenizer: its (fast) tokenizer.
        sentence_model: the ``SentenceTransformer`` for that loader kind, else None.
        load_seconds: wall time of the load, seconds.
        notices: human-readable sentences about how the load went when it was not the normal
            path (e.g. "the model cache directory cannot be written: loaded directly from the
            GGUF"); pages show them as info boxes. Empty normally.
        lock: re-entrant model lock granted in request order (:class:`components.locks.FairRLock`);
            hold it around forward passes only (one decode step, one batch), so sessions
            take turns step by step instead of queueing behind a whole generation.
            Different models run in parallel.
        tokenizer_lock: re-entrant lock held only while tokenizing/decoding: the shared fast
            tokenizer is not safe across threads ("Already borrowed" RuntimeError). Lock
            order: ``lock`` before ``tokenizer_lock`` (calls that tokenize inside the model
            call, e.g. ``SentenceTransformer.encode``, hold both), never the reverse.
    """

    spec: ModelSpec
    source: Source
    model: Any
    tokenizer: Any
    sentence_model: Any = None
    load_seconds: float = 0.0
    notices: list[str] = field(default_factory=list)
    lock: FairRLock = field(default_factory=FairRLock, repr=False)
    tokenizer_lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    @property
    def context_length(self) -> int:
        """Maximum sequence length in tokens (position embeddings or tokenizer limit)."""
        cfg = self.model.config
        for name in ("max_position_embeddings", "n_positions", "max_seq_len"):
            value = getattr(cfg, name, None)
            if isinstance(value, int) and value > 0:
                if self.sentence_model is not None:
                    return min(value, int(self.sentence_model.max_seq_length))
                return value
        return int(getattr(self.tokenizer, "model_max_length", 512))


def log_event(message: str) -> None:
    """Write ``[llm-lab] <message>`` to stderr (the server log): model loads are rare and
    slow, so operators (and tests) see each one."""
    print(f"[llm-lab] {message}", file=sys.stderr, flush=True)
