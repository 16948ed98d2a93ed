"""The bundled SmolLM2 GGUF converted once into a safetensors folder ``<cache>/<key>/``
(config + tokenizer + ``manifest.json`` written last), checked on every load (file sizes,
head/tail and sampled digests) and rebuilt when missing, partial or corrupt; two processes
converting at once wait for each other on a ``filelock`` lock. No streamlit here.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

from filelock import FileLock

from components.catalog import ModelSpec
from components.loading.libraries import LOAD_LOCK, import_libraries
from components.loading.records import Progress
from components.loading.sources import bundled_dir, cache_root

MANIFEST = "manifest.json"
MANIFEST_FORMAT = 1
SAMPLE_CHUNKS = 32  # sampled digest: this many 64 KiB chunks spread over the file


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
    with LOAD_LOCK:  # the conversion imports transformers model code: never beside another import
        import_libraries()
        return _convert_locked(spec, gguf_dir, report)


def _convert_locked(spec: ModelSpec, gguf_dir: Path, report: Progress) -> Path:
    """Body of :func:`ensure_gguf_converted`; caller holds ``LOAD_LOCK``."""
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
