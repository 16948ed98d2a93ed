"""glibc malloc tuning of the server (components/memory.py): it releases freed heap pages, it
is a no-op (never an error) on other platforms, and no generated text or probability changes."""
from __future__ import annotations

import ctypes
import threading

import pytest

from components import memory
from components.generation import COMPLETE, GenerationSettings, GenerationStream, prepare_inputs

glibc_only = pytest.mark.skipif(memory.glibc() is None, reason="glibc malloc only")


def _anon_kb() -> int:
    """This process's anonymous resident memory, kB (Linux)."""
    with open("/proc/self/smaps_rollup") as f:
        for line in f:
            if line.startswith("Anonymous:"):
                return int(line.split()[1])
    raise AssertionError("no Anonymous line in smaps_rollup")


@pytest.fixture
def fresh_state(monkeypatch):
    """The module as in a new process (its once-only flags reset, restored afterwards)."""
    monkeypatch.setattr(memory, "_libc", None)
    monkeypatch.setattr(memory, "_libc_checked", False)
    monkeypatch.setattr(memory, "_arenas_set", False)
    monkeypatch.delenv("LLM_LAB_MALLOC_ARENAS", raising=False)
    monkeypatch.delenv("LLM_LAB_MALLOC_TRIM", raising=False)


@glibc_only
def test_release_gives_freed_heap_pages_back(fresh_state):
    libc = ctypes.CDLL("libc.so.6")
    libc.malloc.restype = ctypes.c_void_p
    libc.malloc.argtypes = [ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]
    # 48 MB in 64 kB blocks (below the mmap threshold: they live in the heap), all touched;
    # the last block stays allocated, so plain free() cannot shrink the heap past it
    blocks = [libc.malloc(64 << 10) for _ in range(768)]
    for b in blocks:
        ctypes.memset(b, 1, 64 << 10)
    for b in blocks[:-1]:
        libc.free(b)
    before = _anon_kb()
    assert memory.release_free_memory() is True
    after = _anon_kb()
    libc.free(blocks[-1])
    assert before - after > 32 << 10, f"anonymous memory {before} kB -> {after} kB"


@glibc_only
def test_trim_switched_off_and_arenas_left_to_glibc(fresh_state, monkeypatch):
    monkeypatch.setenv("LLM_LAB_MALLOC_TRIM", "0")
    monkeypatch.setenv("LLM_LAB_MALLOC_ARENAS", "0")
    assert memory.release_free_memory() is False
    assert memory.limit_malloc_arenas() is False


@glibc_only
def test_arena_cap_is_set_once(fresh_state, monkeypatch):
    calls = []
    lib = memory.glibc()
    monkeypatch.setattr(memory, "_libc", type("Lib", (), {"mallopt": lambda self, p, v: calls.append((p, v)) or 1})())
    assert lib is not None
    assert memory.limit_malloc_arenas() is True
    assert memory.limit_malloc_arenas() is False  # once per process
    assert calls == [(memory.M_ARENA_MAX, memory.DEFAULT_ARENAS)]


@pytest.mark.parametrize("plat, libc", [("darwin", ("", "")), ("win32", ("", "")), ("linux", ("musl", "1.2"))])
def test_other_platforms_do_nothing(fresh_state, monkeypatch, plat, libc):
    monkeypatch.setattr(memory.sys, "platform", plat)
    monkeypatch.setattr(memory.platform, "libc_ver", lambda *a, **k: libc)
    assert memory.glibc() is None
    assert memory.limit_malloc_arenas() is False
    assert memory.release_free_memory() is False


def _run(loaded, settings, prompt):
    prepared = prepare_inputs(loaded, prompt, COMPLETE, settings.max_new_tokens)
    # unbatched: concurrent streams would share decode steps, whose logits differ from solo ones by
    # float32 rounding (components.decode_batch); this test isolates the allocator
    stream = GenerationStream(loaded, prepared, settings, max_seconds=3600, batch_decode=False)
    for _ in stream:
        memory.release_free_memory()  # between steps, while other threads allocate
    return stream.text, stream.token_ids, [round(s["p"], 7) for s in stream.steps()]


@glibc_only
def test_outputs_identical_with_capped_arenas_and_trims(smollm2, fresh_state):
    prompts = ["The three primary colours are", "Once upon a time, in a small village by the sea,"]
    greedy = GenerationSettings(max_new_tokens=12, do_sample=False)
    seeded = GenerationSettings(max_new_tokens=12, do_sample=True, seed=7, temperature=0.9, top_k=40, top_p=0.95)
    jobs = [(s, p) for s in (greedy, seeded) for p in prompts]
    reference = [_run(smollm2, s, p) for s, p in jobs]
    assert memory.limit_malloc_arenas() is True
    results: dict[int, tuple] = {}
    threads = [threading.Thread(target=lambda i=i, job=job: results.__setitem__(i, _run(smollm2, *job)))
               for i, job in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [results[i] for i in range(len(jobs))] == reference
    assert all(r[1] for r in reference)  # every job generated tokens
