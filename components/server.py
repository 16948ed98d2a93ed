"""Generation from an OpenAI-compatible inference server (vLLM, TGI, llama.cpp server, Ollama).

An operator configures one or more endpoints (never a visitor: the page only offers what is
configured); each becomes one more model of the generation page, keyed ``server:<id>``.

Configuration, read by :func:`endpoints_from` (nothing is configured by default):

* environment variable ``LLM_LAB_SERVERS``: a JSON list of objects, or an object
  ``{id: {...}}``;
* ``[servers.<id>]`` tables (or a ``[[servers]]`` array) in ``.streamlit/secrets.toml``.

Fields: ``id`` (``[a-z0-9_-]``, 1-40 characters), ``base_url`` (``http(s)://host[:port]/v1``),
``model`` (the name the server serves), and optionally ``name`` (label in the picker),
``api_key`` or ``api_key_env`` (name of an environment variable holding it), ``chat``
(bool, default true), ``timeout_s`` (longest silence while waiting for the next streamed
chunk, default 30), ``connect_timeout_s`` (default 5), ``retries`` (attempts after the
first on connection errors, timeouts, 429 and 502/503/504, default 2), ``top_logprobs``
(0-20 alternatives per token, default 5; 0 asks for none), ``extra_sampling`` (send
``top_k`` and ``repetition_penalty``, which vLLM and llama.cpp accept beyond the OpenAI API;
default false) and ``usage`` (ask for token counts with ``stream_options``, default true).

:class:`ServerStream` streams one sample through the ``openai`` client with the wire format
of ``POST /v1/chat/completions`` (chat mode) or ``POST /v1/completions`` (text completion)
and ``stream=true`` (server-sent events). Faults never raise: the stream stops, keeps the
text received so far and sets :attr:`ServerStream.error` to a message code the page
translates (``locales/<lang>/server.toml``, ``[error]`` table). What does not exist over this
API (attention weights, hidden states, the prompt's token ids) is named by
:data:`UNAVAILABLE` codes, also translated by the page. No streamlit here.
"""
from __future__ import annotations

import json
import math
import os
import re
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import SimpleNamespace
from urllib.parse import urlsplit

SERVERS_ENV = "LLM_LAB_SERVERS"
KEY_PREFIX = "server:"
COMPLETE, CHAT = "complete", "chat"  # the generation page's mode names
MAX_TOP_LOGPROBS = 20
"""OpenAI's cap on ``top_logprobs`` (vLLM's default ``max_logprobs`` too)."""
MAX_STOP = 4
"""Stop sequences sent at most (the OpenAI API's limit)."""
UNAVAILABLE = ("attention", "hidden_states", "lens", "prompt_tokens")
"""Views of the local models that do not exist over the API (message codes, ``server.unavailable.*``)."""
RETRY_STATUS = (429, 502, 503, 504)
OPTIONAL_FIELDS = ("logprobs", "top_logprobs", "stream_options", "seed", "frequency_penalty", "presence_penalty",
                   "top_k", "repetition_penalty")
"""Request fields a server may refuse (``transformers serve`` answers 422 to ``top_k``, other
servers 400 to ``logprobs``): the request is sent again without the fields the refusal names,
and the server is remembered as refusing them (see :class:`ServerStream`)."""
_COMPANIONS = {"logprobs": ("top_logprobs",)}  # top_logprobs is meaningless without logprobs
_ID = re.compile(r"^[a-z0-9_-]{1,40}$")

Notice = tuple[str, dict]
"""A message code (i18n key under ``server``) and its placeholder values."""


@dataclass(frozen=True)
class Endpoint:
    """One configured server. See the module docstring for the meaning of each field."""

    id: str
    base_url: str
    model: str
    name: str = ""
    api_key: str = field(default="", repr=False, compare=False)
    chat: bool = True
    timeout_s: float = 30.0
    connect_timeout_s: float = 5.0
    retries: int = 2
    top_logprobs: int = 5
    extra_sampling: bool = False
    usage: bool = True

    @property
    def key(self) -> str:
        """The model key of this endpoint in pickers and links: ``server:<id>``."""
        return KEY_PREFIX + self.id

    @property
    def origin(self) -> str:
        """``host[:port]`` of :attr:`base_url` (shown next to the name; never the path or key)."""
        return urlsplit(self.base_url).netloc

    @property
    def display_name(self) -> str:
        return self.name or self.model


def is_server_key(key: object) -> bool:
    """Whether a model key names a server endpoint (``server:<id>``)."""
    return isinstance(key, str) and key.startswith(KEY_PREFIX)


def find(endpoints, key: str) -> Endpoint | None:
    """The endpoint of ``endpoints`` whose :attr:`Endpoint.key` is ``key``, else None."""
    return next((e for e in endpoints if e.key == key), None)


def display_spec(endpoint: Endpoint) -> SimpleNamespace:
    """The two attributes of a catalog ``ModelSpec`` the generation page reads before it
    branches: ``display_name`` and ``chat``."""
    return SimpleNamespace(display_name=endpoint.display_name, chat=endpoint.chat, key=endpoint.key)


# --------------------------------------------------------------------------- configuration
def _number(raw: Mapping, name: str, default: float, lo: float, hi: float) -> float:
    value = raw.get(name, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (lo <= value <= hi):
        raise ValueError(name)
    return float(value)


def _flag(raw: Mapping, name: str, default: bool) -> bool:
    value = raw.get(name, default)
    if not isinstance(value, bool):
        raise ValueError(name)
    return value


def parse_endpoint(raw: Mapping, env: Mapping[str, str] | None = None) -> Endpoint:
    """One :class:`Endpoint` from a configuration mapping.

    Raises:
        ValueError: with the name of the first invalid field as its message (``id``,
            ``base_url``, ``model``, a number out of range, a flag that is not a bool, or
            ``api_key_env`` naming an unset variable).
    """
    env = os.environ if env is None else env
    if not isinstance(raw, Mapping):
        raise ValueError("entry")
    ident = raw.get("id")
    if not isinstance(ident, str) or not _ID.match(ident):
        raise ValueError("id")
    url = raw.get("base_url")
    parts = urlsplit(url) if isinstance(url, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise ValueError("base_url")
    model = raw.get("model")
    if not isinstance(model, str) or not model.strip():
        raise ValueError("model")
    name = raw.get("name", "")
    if not isinstance(name, str):
        raise ValueError("name")
    key = raw.get("api_key", "")
    if raw.get("api_key_env"):
        key = env.get(str(raw["api_key_env"]), "")
        if not key:
            raise ValueError("api_key_env")
    if not isinstance(key, str):
        raise ValueError("api_key")
    return Endpoint(
        id=ident, base_url=url.rstrip("/"), model=model.strip(), name=name.strip(), api_key=key,
        chat=_flag(raw, "chat", True),
        timeout_s=_number(raw, "timeout_s", 30.0, 0.1, 3600.0),
        connect_timeout_s=_number(raw, "connect_timeout_s", 5.0, 0.1, 600.0),
        retries=int(_number(raw, "retries", 2, 0, 10)),
        top_logprobs=int(_number(raw, "top_logprobs", 5, 0, MAX_TOP_LOGPROBS)),
        extra_sampling=_flag(raw, "extra_sampling", False),
        usage=_flag(raw, "usage", True),
    )


def _entries(raw) -> list:
    if isinstance(raw, Mapping):  # {id: {...}} (TOML tables) or one entry
        if "base_url" in raw:
            return [raw]
        return [{"id": k, **v} if isinstance(v, Mapping) else v for k, v in raw.items()]
    if isinstance(raw, (list, tuple)):
        return list(raw)
    return [raw]


def endpoints_from(env: Mapping[str, str] | None = None, secrets=None) -> tuple[list[Endpoint], list[Notice]]:
    """Every configured endpoint: ``LLM_LAB_SERVERS`` (JSON) first, then the ``servers``
    section of the secrets. An invalid entry is skipped with a notice
    ``("config.invalid", {"id", "field"})``, unreadable JSON with ``("config.json", {})``,
    a repeated id with ``("config.duplicate", {"id"})`` (the first one wins).

    Args:
        env: environment (default ``os.environ``).
        secrets: the ``servers`` value of ``st.secrets`` (a mapping or list), or None.
    """
    env = os.environ if env is None else env
    notices: list[Notice] = []
    raws: list = []
    text = env.get(SERVERS_ENV, "").strip()
    if text:
        try:
            raws += _entries(json.loads(text))
        except json.JSONDecodeError:
            notices.append(("config.json", {}))
    if secrets:
        raws += _entries(secrets)
    found: list[Endpoint] = []
    for raw in raws:
        try:
            endpoint = parse_endpoint(raw, env)
        except ValueError as exc:
            ident = raw.get("id") if isinstance(raw, Mapping) else None
            notices.append(("config.invalid", {"id": str(ident)[:40], "field": str(exc)}))
            continue
        if find(found, endpoint.key):
            notices.append(("config.duplicate", {"id": endpoint.id}))
            continue
        found.append(endpoint)
    return found, notices


# --------------------------------------------------------------------------- request
def request_params(endpoint: Endpoint, prompt: str, mode: str, settings, *, stop=(), frequency_penalty: float = 0.0,
                   presence_penalty: float = 0.0, sample_index: int = 0) -> tuple[dict, list[Notice]]:
    """Keyword arguments of ``client.chat.completions.create`` (``mode == "chat"``: the
    prompt as one user message, the server applies the model's chat template) or
    ``client.completions.create`` (``"complete"``: the prompt as raw text), and notices for
    the settings that are not sent.

    Args:
        settings: a ``components.generation.GenerationSettings`` (``max_new_tokens``,
            ``do_sample``, ``temperature``, ``top_p``, ``top_k``, ``repetition_penalty``,
            ``no_repeat_ngram_size``, ``seed``). Greedy is sent as ``temperature=0`` (the
            OpenAI API's greedy decoding); sample ``i`` gets seed ``seed + i`` as the local
            models do.
        stop: stop sequences (empty ones dropped, at most :data:`MAX_STOP`).
        frequency_penalty / presence_penalty: OpenAI API penalties in [-2, 2] (sent when not 0).

    Returns:
        ``(kwargs, notices)``; notice codes ``not_sent`` (``{"settings": "top-k, ..."}``) and
        ``stop_cut`` (``{"n": MAX_STOP}``).
    """
    notices: list[Notice] = []
    kwargs: dict = {"model": endpoint.model, "stream": True, "max_tokens": int(settings.max_new_tokens),
                    "seed": int(settings.seed) + int(sample_index)}
    if settings.do_sample:
        kwargs.update(temperature=float(settings.temperature), top_p=float(settings.top_p))
    else:
        kwargs.update(temperature=0.0, top_p=1.0)
    stops = [s for s in stop if s]
    if len(stops) > MAX_STOP:
        notices.append(("notice.stop_cut", {"n": MAX_STOP}))
    if stops:
        kwargs["stop"] = stops[:MAX_STOP]
    if frequency_penalty:
        kwargs["frequency_penalty"] = float(frequency_penalty)
    if presence_penalty:
        kwargs["presence_penalty"] = float(presence_penalty)
    extra, skipped = {}, []
    if settings.do_sample and settings.top_k > 0:
        (extra.__setitem__("top_k", int(settings.top_k)) if endpoint.extra_sampling else skipped.append("top-k"))
    if settings.repetition_penalty != 1.0:
        if endpoint.extra_sampling:
            extra["repetition_penalty"] = float(settings.repetition_penalty)
        else:
            skipped.append("repetition_penalty")
    if settings.no_repeat_ngram_size > 0:
        skipped.append("no_repeat_ngram_size")
    if skipped:
        notices.append(("notice.not_sent", {"settings": ", ".join(skipped)}))
    if extra:
        kwargs["extra_body"] = extra
    if mode == CHAT:
        kwargs["messages"] = [{"role": "user", "content": prompt}]
        if endpoint.top_logprobs:
            kwargs.update(logprobs=True, top_logprobs=endpoint.top_logprobs)
    else:
        kwargs["prompt"] = prompt
        if endpoint.top_logprobs:
            kwargs["logprobs"] = endpoint.top_logprobs
    if endpoint.usage:
        kwargs["stream_options"] = {"include_usage": True}
    return kwargs, notices


# --------------------------------------------------------------------------- client
_CLIENTS: dict[Endpoint, object] = {}
_CLIENTS_LOCK = threading.Lock()


def client_for(endpoint: Endpoint):
    """One ``openai.OpenAI`` client per endpoint (its connection pool is shared by every
    session), with the client's own retries off: :class:`ServerStream` retries within the
    request's time budget."""
    import openai

    with _CLIENTS_LOCK:
        found = _CLIENTS.get(endpoint)
        if found is None or getattr(found, "api_key", None) != (endpoint.api_key or "none"):
            found = openai.OpenAI(base_url=endpoint.base_url, api_key=endpoint.api_key or "none", max_retries=0,
                                  timeout=openai.Timeout(endpoint.timeout_s, connect=endpoint.connect_timeout_s))
            _CLIENTS[endpoint] = found
        return found


def _retry_after(exc) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds form), else None."""
    try:
        value = float(exc.response.headers.get("retry-after", ""))
    except (AttributeError, TypeError, ValueError):
        return None
    return value if 0 <= value < math.inf else None


def _detail(exc) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, Mapping):
        err = body.get("error", body)
        msg = err.get("message") if isinstance(err, Mapping) else err
        if not msg and isinstance(err, Mapping):  # FastAPI's HTTPException body: {"detail": ...}
            msg = err.get("detail")
        if msg:
            return str(msg)[:300]
    return str(getattr(exc, "message", "") or exc)[:300]


def classify(exc: BaseException, endpoint: Endpoint) -> tuple[str, dict, bool, float | None]:
    """``(code, values, retryable, retry_after_s)`` for an exception of the ``openai`` client.

    Codes (``server.error.<code>``): ``down`` (no connection), ``timeout`` (no answer within
    ``timeout_s``), ``rate_limited`` (429), ``unknown_model`` (404 naming the model),
    ``not_found`` (404 otherwise: wrong base URL), ``auth`` (401/403), ``rejected`` (400/422:
    the server refused the settings; its message in ``detail``), ``http`` (other status),
    ``server_error`` (an error event inside the stream), ``unexpected``.
    """
    import openai

    origin = {"origin": endpoint.origin}
    if isinstance(exc, openai.APITimeoutError):
        return "timeout", {**origin, "seconds": f"{endpoint.timeout_s:g}"}, True, None
    if isinstance(exc, openai.APIConnectionError):
        return "down", origin, True, None
    if isinstance(exc, openai.APIStatusError):
        status = int(exc.status_code)
        if status == 429:
            return "rate_limited", origin, True, _retry_after(exc)
        if status == 404:
            detail = _detail(exc)
            if "model" in detail.lower():
                return "unknown_model", {**origin, "model": endpoint.model}, False, None
            return "not_found", origin, False, None
        if status in (401, 403):
            return "auth", origin, False, None
        if status in (400, 413, 422):
            return "rejected", {**origin, "detail": _detail(exc)}, False, None
        return "http", {**origin, "status": status}, status in RETRY_STATUS, _retry_after(exc)
    if isinstance(exc, openai.APIError):
        return "server_error", {**origin, "detail": _detail(exc)}, False, None
    return "unexpected", {**origin, "detail": type(exc).__name__}, False, None


def _as_dict(chunk) -> dict:
    if isinstance(chunk, Mapping):
        return dict(chunk)
    return chunk.model_dump() if hasattr(chunk, "model_dump") else {}


def _token_logprobs(choice: Mapping) -> list[dict]:
    """The tokens of one streamed choice with their probabilities, from either wire format:
    chat (``logprobs.content[i] = {token, logprob, top_logprobs: [{token, logprob}]}``) or
    completions (``logprobs = {tokens, token_logprobs, top_logprobs: [{token: logprob}]}``).

    Returns:
        ``[{"token": str, "p": float, "top": [(token, p), ...]}]`` with ``p = exp(logprob)``,
        ``top`` sorted by descending p.
    """
    lp = choice.get("logprobs")
    if not isinstance(lp, Mapping):
        return []
    out = []
    if isinstance(lp.get("content"), list):
        for item in lp["content"]:
            if not isinstance(item, Mapping) or item.get("logprob") is None:
                continue
            top = [(str(a.get("token", "")), math.exp(float(a["logprob"])))
                   for a in item.get("top_logprobs") or [] if isinstance(a, Mapping) and a.get("logprob") is not None]
            out.append({"token": str(item.get("token", "")), "p": math.exp(float(item["logprob"])), "top": top})
    elif isinstance(lp.get("tokens"), list):
        tops = lp.get("top_logprobs") or []
        for i, (tok, logp) in enumerate(zip(lp["tokens"], lp.get("token_logprobs") or [])):
            if logp is None:
                continue
            alts = tops[i] if i < len(tops) and isinstance(tops[i], Mapping) else {}
            top = [(str(k), math.exp(float(v))) for k, v in alts.items() if v is not None]
            out.append({"token": str(tok), "p": math.exp(float(logp)), "top": top})
    for item in out:
        item["top"].sort(key=lambda a: -a[1])
    return out


# --------------------------------------------------------------------------- refused fields
_REFUSED: dict[tuple[str, str], frozenset[str]] = {}
_REFUSED_LOCK = threading.Lock()


def _route(params: Mapping) -> str:
    return "chat" if "messages" in params else "completions"


def refused_fields(endpoint: Endpoint, params: Mapping) -> frozenset[str]:
    """Optional fields this server (its ``base_url``) has refused on the route of ``params``
    (chat or text completions) in this process."""
    with _REFUSED_LOCK:
        return _REFUSED.get((endpoint.base_url, _route(params)), frozenset())


def remember_refused(endpoint: Endpoint, params: Mapping, fields) -> None:
    """Record that the server refuses ``fields`` on the route of ``params`` (for the process)."""
    key = (endpoint.base_url, _route(params))
    with _REFUSED_LOCK:
        _REFUSED[key] = _REFUSED.get(key, frozenset()) | frozenset(fields)


def forget_refused() -> None:
    """Forget every recorded refusal (a restarted or reconfigured server may accept them)."""
    with _REFUSED_LOCK:
        _REFUSED.clear()


def sent_optional(params: Mapping) -> set[str]:
    """The :data:`OPTIONAL_FIELDS` that ``params`` sends (top level or in ``extra_body``)."""
    extra = params.get("extra_body") or {}
    return {f for f in OPTIONAL_FIELDS if f in params or f in extra}


def without_fields(params: Mapping, fields) -> dict:
    """A copy of ``params`` without ``fields`` (and their companions: no ``top_logprobs``
    without ``logprobs``), at the top level and in ``extra_body``."""
    drop = set(fields)
    for name in list(drop):
        drop.update(_COMPANIONS.get(name, ()))
    out = {k: v for k, v in params.items() if k not in drop}
    if "extra_body" in out:
        extra = {k: v for k, v in out["extra_body"].items() if k not in drop}
        if extra:
            out["extra_body"] = extra
        else:
            del out["extra_body"]
    return out


def refused_in(exc: BaseException, params: Mapping) -> set[str]:
    """The optional fields sent in ``params`` that a 400/422 answer names as the reason of its
    refusal (e.g. FastAPI's ``Unexpected fields in the request: {'top_k'}``); empty for any
    other fault."""
    import openai

    if not isinstance(exc, openai.APIStatusError) or int(exc.status_code) not in (400, 422):
        return set()
    text = f"{_detail(exc)} {getattr(exc, 'message', '')}"
    return {f for f in sent_optional(params) if re.search(rf"(?<![A-Za-z0-9_]){f}(?![A-Za-z0-9_])", text)}


_FINISH = {"stop": "eos", "eos": "eos", "length": "length", "eos_token": "eos"}


class ServerStream:
    """Iterate to get the text deltas of one sample streamed by ``endpoint``; afterwards
    :attr:`text`, :attr:`tokens` (per-token probabilities, when the server returns logprobs),
    :attr:`stats` and :attr:`error` hold the result.

    Time is bounded: the whole request (retries included) ends after ``max_seconds``
    (``finish_reason == "time"``, the text so far kept); waiting for the connection after
    ``connect_timeout_s``, for a chunk after ``timeout_s`` (whichever comes first). A failure
    before the first chunk is retried up to ``retries`` times when it is transient
    (:data:`RETRY_STATUS`, connection errors, timeouts), waiting ``Retry-After`` when the
    server sends one, else 0.5 s, 1 s, 2 s... -- never past the budget. After the first chunk
    nothing is retried (the text would repeat); a fault keeps the text received so far.

    A 400/422 refusal naming optional fields it was sent (:data:`OPTIONAL_FIELDS`, e.g.
    ``logprobs``) is not a fault: the request is sent again without them, and the server is
    remembered as refusing them (:func:`refused_fields`), so later requests leave them out
    from the start. :attr:`dropped` names them (the page says the server does not take them).

    Attributes set after iteration:
        text: the generated text.
        tokens: ``[{"token", "p", "top"}]`` (see :func:`_token_logprobs`), empty without logprobs.
        stats: dict with ``prompt_tokens`` (from the server's usage, else 0), ``new_tokens``
            (usage, else tokens with logprobs, else text chunks), ``ttft_s`` (seconds from the
            call to the first text), ``tokens_per_s`` ((new_tokens - 1) / (t_last - t_first),
            as :class:`components.generation.GenerationStats`), ``total_s``, ``finish_reason``
            (``eos``, ``length``, ``time`` or ``stopped``: the consumer closed the iterator, or a
            fault ended the stream -- then :attr:`error` says which).
        error: None, or ``{"code", "values", "partial"}`` (``partial``: text had arrived).
        attempts: requests made (1 + retries used + sends without refused fields).
        dropped: sorted optional fields left out because the server refuses them.
    """

    def __init__(self, endpoint: Endpoint, params: Mapping, max_seconds: float, client=None, seed: int = 0):
        self.endpoint = endpoint
        self.params = dict(params)
        self.max_seconds = float(max_seconds)
        self.seed = int(self.params.get("seed", seed))
        self._client = client
        self.text = ""
        self.tokens: list[dict] = []
        self.stats: dict = {}
        self.error: dict | None = None
        self.attempts = 0
        self.dropped: list[str] = []

    def _leave_out(self, fields) -> None:
        before = sent_optional(self.params)
        self.params = without_fields(self.params, fields)
        self.dropped = sorted(set(self.dropped) | (before - sent_optional(self.params)))

    def _open(self, client, remaining: float):
        import openai

        timeout = openai.Timeout(max(0.05, min(self.endpoint.timeout_s, remaining)),
                                 connect=max(0.05, min(self.endpoint.connect_timeout_s, remaining)))
        params = dict(self.params)
        if "messages" in params:
            return client.chat.completions.create(**params, timeout=timeout)
        return client.completions.create(**params, timeout=timeout)

    def __iter__(self) -> Iterator[str]:
        client = self._client or client_for(self.endpoint)  # before the clock: not part of the latency
        start = time.perf_counter()
        deadline = start + self.max_seconds
        first = last = None
        chunks = 0
        usage_tokens = prompt_tokens = None
        finish = None
        stream = None
        closed_early = True
        failures = 0
        known = refused_fields(self.endpoint, self.params) & sent_optional(self.params)
        if known:
            self._leave_out(known)
        try:
            while stream is None:
                self.attempts += 1
                try:
                    stream = self._open(client, deadline - time.perf_counter())
                except Exception as exc:  # noqa: BLE001 - every fault becomes a message code
                    refused = refused_in(exc, self.params)
                    if refused and time.perf_counter() < deadline:  # each pass sends fewer fields: bounded
                        remember_refused(self.endpoint, self.params, refused)
                        self._leave_out(refused)
                        continue
                    failures += 1
                    code, values, retryable, wait = classify(exc, self.endpoint)
                    wait = wait if wait is not None else 0.5 * 2 ** (failures - 1)
                    if not retryable or failures > self.endpoint.retries \
                            or time.perf_counter() + wait >= deadline:
                        self.error = {"code": code, "values": values, "partial": False}
                        closed_early = False
                        return
                    time.sleep(wait)
            try:
                for chunk in stream:
                    data = _as_dict(chunk)
                    usage = data.get("usage")
                    if isinstance(usage, Mapping):
                        usage_tokens = usage.get("completion_tokens", usage_tokens)
                        prompt_tokens = usage.get("prompt_tokens", prompt_tokens)
                    for choice in data.get("choices") or []:
                        if not isinstance(choice, Mapping) or choice.get("index", 0) != 0:
                            continue
                        delta = choice.get("delta")
                        piece = (delta.get("content") if isinstance(delta, Mapping) else None) \
                            if "delta" in choice else choice.get("text")
                        self.tokens += _token_logprobs(choice)
                        if choice.get("finish_reason"):
                            finish = str(choice["finish_reason"])
                        if piece:
                            now = time.perf_counter()
                            first = first or now
                            last = now
                            chunks += 1
                            self.text += piece
                            yield piece
                    if time.perf_counter() >= deadline:
                        finish = "time"
                        break
                closed_early = False
            except Exception as exc:  # noqa: BLE001 - a fault mid-stream keeps the text so far
                code, values, _, _ = classify(exc, self.endpoint)
                if code == "down":
                    code = "stream_closed"
                self.error = {"code": code, "values": values, "partial": bool(self.text)}
                closed_early = False
            else:
                if finish is None and not closed_early:  # connection ended without a finish_reason
                    self.error = {"code": "incomplete", "values": {"origin": self.endpoint.origin},
                                  "partial": bool(self.text)}
        finally:
            if stream is not None:
                try:
                    stream.close()
                except Exception:  # noqa: BLE001 - closing a broken connection
                    pass
            if self.error is not None or closed_early:
                reason = "stopped"
            else:
                reason = _FINISH.get(finish or "", finish or "eos")
            n = int(usage_tokens) if isinstance(usage_tokens, int) else (len(self.tokens) or chunks)
            self.stats = {
                "prompt_tokens": int(prompt_tokens) if isinstance(prompt_tokens, int) else 0,
                "new_tokens": n,
                "ttft_s": (first - start) if first else 0.0,
                "tokens_per_s": ((n - 1) / (last - first)) if n > 1 and last > first
                else (n / max(last - start, 1e-9) if n and last else 0.0),
                "total_s": (last - start) if last else 0.0,
                "finish_reason": reason,
            }

    # ------------------------------------------------------------------ records
    def steps(self, alternatives: int = 3) -> list[dict]:
        """Per generated token (when the server returned logprobs), the shape of
        ``components.generation.GenerationStream.steps``: ``token``, ``raw_token``,
        ``token_id`` (None: ids do not come over the API), ``p``, ``rank`` (1-based position
        among the returned alternatives, or ``">k"`` when it is not among the top ``k``) and
        ``alternatives`` (``[token, p]`` pairs, the chosen token excluded)."""
        result = []
        for item in self.tokens:
            top = item["top"]
            ranks = [i for i, (tok, _) in enumerate(top) if tok == item["token"]]
            rank = ranks[0] + 1 if ranks else f">{len(top)}"
            alts = [[tok, p] for tok, p in top if tok != item["token"]][:alternatives]
            result.append({"token": item["token"], "raw_token": item["token"], "token_id": None,
                           "p": item["p"], "rank": rank, "alternatives": alts})
        return result

    def record(self) -> dict:
        """JSON-able result in the shape of ``components.generation.sample_record``
        (``text``, ``seed``, ``steps``, ``stats``) plus ``error`` (None or a message code) and
        ``dropped`` (the optional fields the server refused, see :attr:`dropped`)."""
        return {"text": self.text, "seed": self.seed, "steps": self.steps(), "stats": dict(self.stats),
                "error": self.error, "dropped": list(self.dropped)}


def distribution_record(tokens: list[dict]) -> dict | None:
    """The next-token view over the API: the alternatives the server returned for the first
    generated token (the token after the prompt), or None without logprobs.

    Returns:
        ``{"table": {"token", "raw_token", "token_id", "logprob", "p_raw"}`` (lists, by
        descending p), ``"stages": ["p_raw"]``, ``"returned"`` (alternatives sent) and
        ``"covered"`` (their total probability, in [0, 1]: the rest of the vocabulary is not
        sent)}.
    """
    if not tokens or not tokens[0]["top"]:
        return None
    top = tokens[0]["top"]
    return {
        "table": {"token": [t for t, _ in top], "raw_token": [t for t, _ in top], "token_id": ["–"] * len(top),
                  "logprob": [math.log(p) if p > 0 else -math.inf for _, p in top], "p_raw": [p for _, p in top]},
        "stages": ["p_raw"],
        "returned": len(top),
        "covered": min(1.0, sum(p for _, p in top)),
    }


def generate(endpoint: Endpoint, prompt: str, mode: str, settings, max_seconds: float, **extra) -> ServerStream:
    """Run one sample to completion (non-streaming convenience); returns the finished
    :class:`ServerStream`. ``extra``: the keyword arguments of :func:`request_params`."""
    params, _ = request_params(endpoint, prompt, mode, settings, **extra)
    stream = ServerStream(endpoint, params, max_seconds)
    for _ in stream:
        pass
    return stream
