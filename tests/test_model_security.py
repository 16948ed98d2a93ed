"""Only catalogued models or operator-configured directories load, and no code shipped with a
model is ever run.

* non-catalogued ids are refused with KeyError before any file or network access;
* a scan of the app's source fails on any ``trust_remote_code`` other than a literal False
  and on any ``from_pretrained`` / ``SentenceTransformer`` call without it;
* an operator directory whose files ask for custom code is refused, and the custom module
  placed there is never imported (it would write a marker file).
"""
from __future__ import annotations

import ast
import builtins
import dataclasses
import importlib.util
import io
import json
import os
import runpy
import shutil
import socket
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest

from components import loading
from components.cache import get_model
from components.catalog import MINILM, ModelSpec, get_spec
from components.loading import ModelUnavailableError, custom_code_reasons, load_model, resolve
from components.loading import load as loader

ROOT = Path(__file__).resolve().parents[1]
BAD_IDS = ["evil/model", "../../etc", "../../etc/passwd", "gpt2@main", "", "x" * 10_000,
           "GPT2", " gpt2", "openai-community/gpt2", "/tmp", "gpt2\x00"]


# ------------------------------------------------------------------ (a) non-catalogued ids
@contextmanager
def _record_io():
    """Record (and still perform) every file-system and network call made inside the block."""
    seen: list[str] = []
    patches = [(os, "stat"), (os, "lstat"), (os, "open"), (os, "scandir"), (os, "listdir"),
               (os, "mkdir"), (builtins, "open"), (io, "open"), (socket, "getaddrinfo"),
               (socket, "create_connection"), (socket.socket, "connect"),
               (importlib.util, "find_spec")]
    originals = [(owner, name, getattr(owner, name)) for owner, name in patches]

    def wrap(name, fn):
        def recorder(*args, **kwargs):
            seen.append(name)
            return fn(*args, **kwargs)
        return recorder

    for owner, name, fn in originals:
        setattr(owner, name, wrap(name, fn))
    try:
        yield seen
    finally:
        for owner, name, fn in originals:
            setattr(owner, name, fn)


@pytest.mark.parametrize("bad", BAD_IDS, ids=lambda b: repr(b)[:20])
def test_non_catalogued_ids_are_refused_before_any_io(bad):
    for call in (get_spec, load_model, get_model):
        with _record_io() as seen, pytest.raises(KeyError) as info:
            call(bad)
        assert seen == [], f"{call.__name__}({bad[:20]!r}) touched {seen}"
        assert len(str(info.value)) < 600  # a huge id is not echoed back


def test_forged_specs_are_refused_before_any_io():
    forged = [
        dataclasses.replace(get_spec("gpt2"), hub_id="evil/model"),  # a catalog key, another repo
        dataclasses.replace(get_spec(MINILM), bundled_package="os"),
        ModelSpec(key="evil", display_name="Evil", tasks=("text-generation",), loader="causal-lm",
                  architecture="causal", licence="?", size_mb=1, params_m=1, hub_id="evil/model"),
    ]
    for spec in forged:
        with _record_io() as seen, pytest.raises(KeyError):
            load_model(spec)
        assert seen == []
    with pytest.raises(KeyError):
        load_model(None)  # type: ignore[arg-type]


def test_io_recorder_sees_real_access():
    # the control for the two tests above: resolving a bundled model does touch the disk
    with _record_io() as seen:
        assert resolve(get_spec(MINILM)).kind == "bundled"
    assert "find_spec" in seen and "stat" in seen


# ------------------------------------------------------------------ (b) source scan
LOADER_CALLS = {"from_pretrained", "SentenceTransformer", "CrossEncoder", "SparseEncoder", "pipeline"}


def _name(func: ast.AST) -> str:
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return ""


def _is_false(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value is False


def trust_violations(source: str, filename: str = "<src>") -> tuple[list[str], int]:
    """(violations, number of loader calls checked) in Python ``source``.

    Violations: a ``trust_remote_code`` keyword, dict entry or subscript assignment whose
    value is not the literal False; a loader call (``LOADER_CALLS``) without the keyword
    ``trust_remote_code=False``.
    """
    problems: list[str] = []
    checked = 0
    for node in ast.walk(ast.parse(source, filename)):
        where = f"{filename}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Call):
            keywords = {k.arg: k.value for k in node.keywords if k.arg}
            if "trust_remote_code" in keywords and not _is_false(keywords["trust_remote_code"]):
                problems.append(f"{where}: trust_remote_code is not the literal False")
            if _name(node.func) in LOADER_CALLS:
                checked += 1
                if "trust_remote_code" not in keywords:
                    problems.append(f"{where}: {_name(node.func)}(...) without trust_remote_code=False")
            if _name(node.func) == "dict":
                pass  # dict(trust_remote_code=...) is covered by the keyword rule above
        elif isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values):
                if isinstance(key, ast.Constant) and key.value == "trust_remote_code" and not _is_false(value):
                    problems.append(f"{where}: dict entry trust_remote_code is not False")
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                if (isinstance(target, ast.Subscript) and isinstance(target.slice, ast.Constant)
                        and target.slice.value == "trust_remote_code" and not _is_false(node.value)):
                    problems.append(f"{where}: [\"trust_remote_code\"] set to something else than False")
    return problems, checked


def _app_sources() -> list[Path]:
    files = [ROOT / "app.py", *sorted((ROOT / "components").rglob("*.py")), *sorted((ROOT / "app_pages").glob("*.py"))]
    assert len(files) > 10
    return files


def test_source_never_enables_remote_code():
    problems, checked = [], 0
    for path in _app_sources():
        found, n = trust_violations(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))
        problems += found
        checked += n
    assert problems == []
    assert checked >= 9, checked  # every loader call in components/loading/ was seen


@pytest.mark.parametrize("snippet", [
    "AutoModel.from_pretrained(path)",
    "AutoModel.from_pretrained(path, trust_remote_code=True)",
    "AutoTokenizer.from_pretrained(path, trust_remote_code=flag)",
    "SentenceTransformer(path, device='cpu')",
    "pipeline('text-generation', model=path)",
    "kwargs = {'trust_remote_code': True}",
    "kwargs['trust_remote_code'] = True",
    "f(**dict(trust_remote_code=True))",
])
def test_source_scan_catches_violations(snippet):
    # the control for the scan above: each of these is reported
    problems, _ = trust_violations(snippet)
    assert problems, snippet


def test_source_scan_accepts_explicit_false():
    ok = ("AutoModel.from_pretrained(path, trust_remote_code=False, **kw)\n"
          "SentenceTransformer(path, trust_remote_code=False)\n"
          "kw = {'trust_remote_code': False}\n")
    assert trust_violations(ok) == ([], 2)


# ------------------------------------------------------------------ (c) custom code in a folder
EVIL_CODE = """
from pathlib import Path
Path({marker!r}).write_text("custom model code was executed")


class EvilConfig:
    pass


class EvilModel:
    pass
"""


def _plant(folder: Path, module: str, marker: Path) -> Path:
    """Write ``<module>.py`` into ``folder``: importing it writes ``marker``. Check that it
    really would (run it once, delete the marker)."""
    path = folder / f"{module}.py"
    path.write_text(EVIL_CODE.format(marker=str(marker)))
    runpy.run_path(str(path))
    assert marker.is_file()
    marker.unlink()
    return path


def _edit_json(path: Path, edit) -> None:
    data = json.loads(path.read_text())
    edit(data)
    path.write_text(json.dumps(data, indent=2))


@pytest.fixture
def marker(tmp_path):
    path = tmp_path / "EXECUTED"
    yield path
    assert not path.exists(), "code shipped with a model was executed"


def test_operator_dir_with_auto_map_is_refused_and_nothing_runs(tiny_gpt2_dir, tmp_path, marker, as_local_model):
    folder = tmp_path / "gpt2-with-remote-code"
    shutil.copytree(tiny_gpt2_dir, folder)
    _plant(folder, "evil_code", marker)
    as_local_model("gpt2", folder)
    # control: the clean copy loads through the operator-directory source
    assert load_model(get_spec("gpt2")).source.location == str(folder)
    _edit_json(folder / "config.json", lambda c: c.update(auto_map={
        "AutoConfig": "evil_code.EvilConfig", "AutoModelForCausalLM": "evil_code.EvilModel"}))
    assert custom_code_reasons(folder)
    with pytest.raises(ModelUnavailableError) as info:
        load_model(get_spec("gpt2"))
    msg = str(info.value)
    assert "auto_map" in msg and "never runs code" in msg and str(folder) in msg
    with pytest.raises(ModelUnavailableError):
        get_model("gpt2")  # the app's getter refuses it the same way
    assert "evil_code" not in sys.modules and not marker.exists()


def test_transformers_itself_ignores_auto_map_with_trust_remote_code_false(tiny_gpt2_dir, tmp_path, marker):
    """Defence in depth: were the folder check bypassed, the loader's explicit
    trust_remote_code=False makes transformers use its own GPT-2 class, not the folder's code."""
    folder = tmp_path / "gpt2-auto-map"
    shutil.copytree(tiny_gpt2_dir, folder)
    _plant(folder, "evil_code", marker)
    _edit_json(folder / "config.json", lambda c: c.update(auto_map={
        "AutoConfig": "evil_code.EvilConfig", "AutoModelForCausalLM": "evil_code.EvilModel"}))
    model, _ = loader._load_causal_lm(str(folder), {"attn_implementation": "eager"})
    assert type(model).__name__ == "GPT2LMHeadModel" and type(model).__module__.startswith("transformers.")
    assert "evil_code" not in sys.modules and not marker.exists()


def test_operator_dir_with_tokenizer_auto_map_is_refused(tiny_gpt2_dir, tmp_path, marker, as_local_model):
    folder = tmp_path / "gpt2-custom-tokenizer"
    shutil.copytree(tiny_gpt2_dir, folder)
    _plant(folder, "evil_tokenizer", marker)
    _edit_json(folder / "tokenizer_config.json", lambda c: c.update(
        auto_map={"AutoTokenizer": ["evil_tokenizer.EvilModel", None]}))
    as_local_model("gpt2", folder)
    with pytest.raises(ModelUnavailableError, match="tokenizer_config.json"):
        load_model(get_spec("gpt2"))
    assert "evil_tokenizer" not in sys.modules


def test_sentence_transformer_dir_with_custom_module_is_refused(tiny_bert_dir, tmp_path, marker, as_local_model):
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.models import Pooling, Transformer

    folder = tmp_path / "st-custom-module"
    word = Transformer(str(tiny_bert_dir))
    SentenceTransformer(modules=[word, Pooling(word.get_word_embedding_dimension())]).save(str(folder))
    as_local_model("all-mpnet-base-v2", folder)
    # control: the clean sentence-transformers folder loads and encodes
    loaded = load_model(get_spec("all-mpnet-base-v2"))
    assert loaded.sentence_model is not None and loaded.sentence_model.encode(["hello"]).shape == (1, 32)
    _plant(folder, "evil_module", marker)
    _edit_json(folder / "modules.json", lambda m: m.append(
        {"idx": len(m), "name": "evil", "path": "", "type": "evil_module.EvilModel"}))
    with pytest.raises(ModelUnavailableError, match="modules.json"):
        load_model(get_spec("all-mpnet-base-v2"))
    assert "evil_module" not in sys.modules


def test_bundled_folders_pass_the_custom_code_check():
    for key in ("smollm2-135m-instruct", MINILM):
        folder = loading.bundled_dir(get_spec(key))
        assert folder is not None and custom_code_reasons(folder) == []
