"""Build a :class:`~components.loading.records.LoadedModel` from the first usable source of a
catalog model (:func:`load_model`): float32, eager attention, eval mode, through the GGUF cache
for the bundled SmolLM2. No streamlit here.
"""
from __future__ import annotations

import shutil
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from components.catalog import CAUSAL_LM, ENCODER, SENTENCE_TRANSFORMER, SEQUENCE_CLASSIFICATION, ModelSpec
from components.loading.gguf_cache import cache_unwritable_reason, ensure_gguf_converted
from components.loading.libraries import LOAD_LOCK, configure_torch_threads, import_libraries, libraries_ready
from components.loading.records import LoadedModel, ModelUnavailableError, Progress, Source, framed, log_event
from components.loading.safety import catalogued, custom_code_reasons
from components.loading.sources import alternative, resolve


def _from_pretrained_kwargs(source: Source, spec: ModelSpec) -> dict:
    """Model ``from_pretrained`` kwargs besides ``dtype`` and ``trust_remote_code`` (which
    every call passes literally, so a scan of the source can check it)."""
    kwargs: dict[str, Any] = {"attn_implementation": "eager"}
    if source.kind == "hub" and spec.hub_revision:
        kwargs["revision"] = spec.hub_revision
    return kwargs


def _tokenizer_kwargs(model_kwargs: dict) -> dict:
    """The part of the model's ``from_pretrained`` kwargs a tokenizer takes (the Hub revision)."""
    return {k: v for k, v in model_kwargs.items() if k == "revision"}


def _load_causal_lm(location: str, kwargs: dict, gguf_file: str | None = None):
    """(model, tokenizer) of a causal LM folder or Hub id; with ``gguf_file``, dequantized
    straight from that GGUF file in ``location`` (15-30 s, nothing cached)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    gguf = {"gguf_file": gguf_file} if gguf_file else {}
    tokenizer = AutoTokenizer.from_pretrained(
        location, trust_remote_code=False, **gguf, **_tokenizer_kwargs(kwargs)
    )
    model = AutoModelForCausalLM.from_pretrained(
        location, dtype=torch.float32, trust_remote_code=False, **gguf, **kwargs
    )
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    return model, tokenizer


def _no_cache_notice(spec: ModelSpec, reason: str) -> str:
    return (
        f"The model cache directory cannot be written ({reason}), so {spec.display_name} was "
        "loaded directly from its GGUF file: this works, but takes 15-30 s again after every "
        "server restart. Set LLM_LAB_CACHE_DIR to a writable directory to keep the converted "
        "model between restarts."
    )


def _load_bundled_gguf(spec: ModelSpec, gguf_dir: Path, kwargs: dict, progress: Progress | None):
    """(model, tokenizer, notices) of a bundled GGUF model, through the converted cache.

    * cache valid -> read it (~1 s);
    * missing / partial / corrupt (manifest check) -> convert, then read;
    * the cache passed the check but reading it raises -> delete it, convert once more, read;
    * the cache cannot be written (OSError: read-only, not a directory, disk full) -> load
      straight from the GGUF, with a notice saying so.
    """
    try:
        folder = ensure_gguf_converted(spec, gguf_dir, progress)
    except OSError as exc:
        log_event(f"model-cache unwritable key={spec.key}: {exc}")
        model, tokenizer = _load_causal_lm(str(gguf_dir), kwargs, gguf_file=spec.gguf_file)
        return model, tokenizer, [_no_cache_notice(spec, cache_unwritable_reason() or str(exc))]
    try:
        model, tokenizer = _load_causal_lm(str(folder), kwargs)
        return model, tokenizer, []
    except ImportError:  # a missing library, not a bad cache
        raise
    except Exception as exc:  # damage the quick check cannot see: rebuild once
        log_event(f"model-cache unreadable key={spec.key}: {type(exc).__name__}: {exc}"[:400])
        try:
            shutil.rmtree(folder)
            folder = ensure_gguf_converted(spec, gguf_dir, progress)
        except OSError as exc2:
            model, tokenizer = _load_causal_lm(str(gguf_dir), kwargs, gguf_file=spec.gguf_file)
            return model, tokenizer, [_no_cache_notice(spec, cache_unwritable_reason() or str(exc2))]
        model, tokenizer = _load_causal_lm(str(folder), kwargs)
        return model, tokenizer, [
            f"The cached conversion of {spec.display_name} could not be read "
            f"({type(exc).__name__}) and was rebuilt from the bundled GGUF."
        ]


def load_model(
    spec: ModelSpec | str,
    configured: Mapping[str, str] | None = None,
    progress: Progress | None = None,
) -> LoadedModel:
    """Load the catalog model ``spec`` from its first usable source.

    Args:
        spec: a catalog entry (``CATALOG``) or its key.
        configured: operator directories by catalog key (from ``secrets.toml``), optional.
        progress: (fraction, stage code) callback, see :data:`Progress`.

    Returns:
        A :class:`LoadedModel` in eval mode, float32, eager attention; ``notices`` lists
        anything unusual about the load (e.g. no writable cache).

    Raises:
        KeyError: ``spec`` is not a catalog entry (checked before any file or network access).
        ModelUnavailableError: no source usable, the source asks for custom code, or every
            usable source failed to load (the message carries the library's reason).
    """
    spec = catalogued(spec)
    source = resolve(spec, configured)
    report = progress or (lambda f, m: None)
    # before the lock: the warm-up may hold it while importing the libraries
    report(0.0, "waiting" if libraries_ready() else "libraries")
    with LOAD_LOCK:
        report(0.02, "libraries")
        import_libraries()
        return _load_from(spec, source, progress)


def _load_from(spec: ModelSpec, source: Source, progress: Progress | None) -> LoadedModel:
    """Load ``spec`` from ``source`` (see :func:`load_model`); caller holds ``LOAD_LOCK``."""
    import torch

    configure_torch_threads()

    start = time.perf_counter()
    # one line per real load in the server log: the browser concurrency test counts these to
    # check that sessions asking for the same model at once share one load
    log_event(f"model-load start key={spec.key} source={source.kind}")
    kwargs = _from_pretrained_kwargs(source, spec)
    sentence_model = None
    notices: list[str] = []
    report = progress or (lambda f, m: None)
    report(0.05, "load")
    try:
        if source.kind in ("bundled", "local"):
            reasons = custom_code_reasons(Path(source.location))
            if reasons:
                raise ModelUnavailableError(
                    spec,
                    f"{spec.display_name} was not loaded from the {source.label} ({source.location}): "
                    + "; ".join(reasons) + ". LLM Lab never runs code shipped with a model "
                    "(trust_remote_code is always off); use a standard transformers model folder.",
                    alternative(spec),
                    wording=framed("error.custom_code", spec, source=source.kind, location=source.location,
                                   reasons="; ".join(reasons)),
                )
        if source.kind == "bundled" and spec.gguf_file:
            def conversion(fraction: float, stage: str) -> None:  # the conversion fills 5-90 %
                report(0.05 + 0.85 * fraction, "load" if stage == "done" else stage)

            model, tokenizer, notices = _load_bundled_gguf(spec, Path(source.location), kwargs, conversion)
        elif spec.loader == CAUSAL_LM:
            model, tokenizer = _load_causal_lm(source.location, kwargs)
        elif spec.loader == SENTENCE_TRANSFORMER:
            from sentence_transformers import SentenceTransformer

            st_kwargs = {"revision": kwargs["revision"]} if "revision" in kwargs else {}
            sentence_model = SentenceTransformer(
                source.location,
                device="cpu",
                trust_remote_code=False,
                model_kwargs={"attn_implementation": "eager"},
                **st_kwargs,
            )
            sentence_model.eval()
            model = sentence_model[0].auto_model
            tokenizer = sentence_model.tokenizer
        elif spec.loader == SEQUENCE_CLASSIFICATION:
            from transformers import AutoModelForSequenceClassification, AutoTokenizer

            tokenizer = AutoTokenizer.from_pretrained(
                source.location, trust_remote_code=False, **_tokenizer_kwargs(kwargs)
            )
            model = AutoModelForSequenceClassification.from_pretrained(
                source.location, dtype=torch.float32, trust_remote_code=False, **kwargs
            )
        elif spec.loader == ENCODER:
            from transformers import AutoModel, AutoTokenizer

            tokenizer = AutoTokenizer.from_pretrained(
                source.location, trust_remote_code=False, **_tokenizer_kwargs(kwargs)
            )
            model = AutoModel.from_pretrained(
                source.location, dtype=torch.float32, trust_remote_code=False, **kwargs
            )
        else:  # pragma: no cover - catalog is validated by tests
            raise ValueError(f"Unknown loader {spec.loader!r} for {spec.key}")
    except ModelUnavailableError:
        log_event(f"model-load failed key={spec.key}")
        raise
    except Exception as exc:  # network drop mid-download, missing files, bad config ...
        log_event(f"model-load failed key={spec.key}: {type(exc).__name__}: {exc}"[:400])
        raise ModelUnavailableError(
            spec,
            f"{spec.display_name} could not be loaded from the {source.label} "
            f"({source.location}): {type(exc).__name__}: {exc}",
            alternative(spec),
            wording=framed("error.load_failed", spec, source=source.kind, location=source.location,
                           error=f"{type(exc).__name__}: {exc}"),
        ) from exc
    except BaseException as exc:  # not an error of the model: e.g. the thread is being stopped
        log_event(f"model-load aborted key={spec.key}: {type(exc).__name__}")
        raise
    model.eval()
    seconds = time.perf_counter() - start
    log_event(f"model-load done key={spec.key} seconds={seconds:.1f}")
    return LoadedModel(
        spec=spec,
        source=source,
        model=model,
        tokenizer=tokenizer,
        sentence_model=sentence_model,
        load_seconds=seconds,
        notices=list(notices),
    )
