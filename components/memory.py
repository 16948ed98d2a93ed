"""Process memory: keep the C heap of a many-threaded server small.

Streamlit runs every session's script in a thread of its own, and each generation decodes in a
worker thread. glibc's ``malloc`` gives threads separate arenas (up to 8 per core), and a
tensor freed in one arena is not reused by a thread allocating in another, so memory freed
after one session's forward pass stays resident while the next session grows its own arena.
Two arenas for all threads and a ``malloc_trim`` after every script run keep that retained
memory down; measured with ``bench/sessions.py --malloc`` (8 browser sessions on one server),
the gain at the peak is small (docs/performance.md, "Many sessions at once"), since the peak is
made of tensors alive during a computation.

Both calls are glibc ``malloc`` tuning (``mallopt(3)``, ``malloc_trim(3)``); on any other C
library or OS (macOS, Windows, musl) they do nothing and return False. They never change a
computed value, only where freed memory goes.
"""
from __future__ import annotations

import ctypes
import os
import platform
import sys
import threading

M_ARENA_MAX = -8  # glibc <malloc.h>
DEFAULT_ARENAS = 2
"""Arenas for the whole process (``$LLM_LAB_MALLOC_ARENAS``; 0 = glibc's default, 8 per core)."""

_lock = threading.Lock()
_libc: ctypes.CDLL | None = None
_libc_checked = False
_arenas_set = False


def glibc() -> ctypes.CDLL | None:
    """The running glibc (``ctypes.CDLL``), or None on any other platform or C library."""
    global _libc, _libc_checked
    with _lock:
        if not _libc_checked:
            _libc_checked = True
            if sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc":
                try:
                    lib = ctypes.CDLL("libc.so.6")
                    lib.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
                    lib.malloc_trim.argtypes = [ctypes.c_size_t]
                    _libc = lib
                except (OSError, AttributeError):
                    _libc = None
        return _libc


def limit_malloc_arenas() -> bool:
    """Cap glibc's malloc arenas for this process, once; True if the cap was set.

    The cap is ``$LLM_LAB_MALLOC_ARENAS`` (default :data:`DEFAULT_ARENAS`; ``0`` or an invalid
    value leaves glibc's default). It applies to arenas created afterwards: call it before the
    sessions' threads start allocating (glibc fixes its arena limit when the 9th arena is
    created). Threads beyond the cap share arenas, taking turns on a lock per ``malloc``.
    Source: ``mallopt(3)``, ``M_ARENA_MAX``.
    """
    global _arenas_set
    lib = glibc()
    if lib is None or _arenas_set:
        return False
    _arenas_set = True
    try:
        arenas = int(os.environ.get("LLM_LAB_MALLOC_ARENAS", DEFAULT_ARENAS))
    except ValueError:
        return False
    if arenas <= 0:
        return False
    return bool(lib.mallopt(M_ARENA_MAX, arenas))


def release_free_memory() -> bool:
    """Give the C heap's free pages back to the OS (``malloc_trim(0)``: every arena, also
    whole free pages inside it); True if any memory was released. Nothing when
    ``$LLM_LAB_MALLOC_TRIM`` is ``0`` or not on glibc. Source: ``malloc_trim(3)``.
    """
    lib = glibc()
    if lib is None or os.environ.get("LLM_LAB_MALLOC_TRIM", "").strip() == "0":
        return False
    return bool(lib.malloc_trim(0))
