"""Import contract, read from the source with ``ast`` (nothing is imported):

* compute modules (every ``components/*`` module except :data:`STREAMLIT_MODULES`) never
  import streamlit -- they return numbers, records and message codes, the UI shows them;
* compute modules take no ``lang`` parameter and no translator callable (``tr``, ``t``,
  ``say``, a ``Callable[..., str]``): they return :class:`components.messages.Message` codes and
  code-keyed records, and only the translating modules (:data:`TRANSLATING_MODULES`) word them;
* pages (``app_pages/*``) never import each other;
* the ``components`` modules import each other without a cycle, counting imports inside
  functions too (a function-local import only hides a cycle from the interpreter).
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _component_files() -> dict[str, Path]:
    """``components`` module name -> its file: a top-level module by its stem, a package's
    module as ``<package>.<module>`` and the package itself (its ``__init__``) as ``<package>``."""
    found = {}
    for path in sorted((ROOT / "components").rglob("*.py")):
        parts = path.relative_to(ROOT / "components").with_suffix("").parts
        parts = parts[:-1] if parts[-1] == "__init__" else parts
        if parts:
            found[".".join(parts)] = path
    return found


COMPONENT_FILES = _component_files()
COMPONENTS = sorted(COMPONENT_FILES)
PAGES = sorted(p.stem for p in (ROOT / "app_pages").glob("*.py") if p.stem != "__init__")

STREAMLIT_MODULES = {
    "ui": "the UI layer: widgets, session state, translation in the session's language",
    "cache": "st.cache_resource around the loader, spinner / progress bar while a model loads",
    "views_classification": "UI side of the classification page: its input blocks and result views",
    "views_sentiment": "UI side of the sentiment page: its result, batch and evaluation views",
    "runs_sentiment": "the sentiment page's cached runs (st.cache_data) and the benchmark's progress bar",
    "views_generation": "UI side of the generation page: streamed text with live meters, token and next-token "
                        "views, settings side by side, the model-server panel, the presenter example",
    "runs_generation": "the generation page's cached runs (st.cache_data) on catalog id, prompt ids and settings",
    "views_embeddings": "UI side of the embedding explorer: its input blocks, cached runs (st.cache_data) and map views",
    "views_attention": "UI side of the attention page: its input block, head / overview / aggregate / formula views, "
                       "the presenter example",
    "runs_attention": "the attention page's cached runs: st.cache_data on catalog id and input, st.cache_resource "
                      "for a curated example's figures",
    "views_lens": "UI side of the lens page: the lens grid, position, ablation and head scan views (scan progress "
                  "bar), the report sections, the presenter example",
    "runs_lens": "the lens page's cached runs (st.cache_data) on catalog id, text or input ids and settings",
}
"""The only ``components`` modules allowed to import streamlit, and why."""


def imported_modules(path: Path) -> set[str]:
    """Every absolute module name ``path`` imports, anywhere in the file (top level, inside
    functions, under ``if TYPE_CHECKING``); ``from a import b`` yields ``a`` and ``a.b``.
    ``importlib.import_module("x")`` with a literal name counts too; a relative import is
    reported as ``.<name>`` so a test can reject it."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = ("." * node.level) + (node.module or "")
            found.add(base)
            found.update(f"{base}.{alias.name}" if node.module else f"{base}{alias.name}" for alias in node.names)
        elif (isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", None))
              in ("import_module", "__import__") and node.args and isinstance(node.args[0], ast.Constant)
              and isinstance(node.args[0].value, str)):
            found.add(node.args[0].value)
    return found


def component_deps(name: str) -> set[str]:
    """The ``components`` modules that module ``name`` imports (itself excluded); an import of
    ``components.pkg.mod.X`` counts as the longest module name it starts with (``pkg.mod``)."""
    deps = set()
    for mod in imported_modules(COMPONENT_FILES[name]):
        parts = mod.split(".")
        if parts[0] != "components":
            continue
        for end in range(len(parts), 1, -1):
            if ".".join(parts[1:end]) in COMPONENT_FILES:
                deps.add(".".join(parts[1:end]))
                break
    deps.discard(name)
    return deps


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every elementary cycle reachable by depth-first search, each once (rotated so its
    smallest name comes first), as ``[a, b, ..., a]``."""
    cycles: set[tuple[str, ...]] = set()

    def visit(node: str, path: list[str]) -> None:
        for dep in sorted(graph.get(node, ())):
            if dep in path:
                loop = path[path.index(dep):]
                i = loop.index(min(loop))
                cycles.add(tuple(loop[i:] + loop[:i]))
            elif len(path) < len(graph):
                visit(dep, path + [dep])

    for start in sorted(graph):
        visit(start, [start])
    return [[*c, c[0]] for c in sorted(cycles)]


def test_inventory_is_current():
    """The allow-list names existing modules, and the scan sees the modules it should."""
    assert set(STREAMLIT_MODULES) <= set(COMPONENTS), set(STREAMLIT_MODULES) - set(COMPONENTS)
    assert {"loading", "generation", "attention", "embeddings", "sentiment", "classification"} <= set(COMPONENTS)
    assert {"generation", "attention"} <= set(PAGES)
    # the scanner itself sees both kinds of import
    assert "streamlit" in imported_modules(ROOT / "components" / "ui.py")
    assert "components.catalog" in imported_modules(COMPONENT_FILES["loading.load"])
    assert {"loading.sources", "loading.gguf_cache", "loading.safety", "loading.load"} <= set(COMPONENTS)
    assert component_deps("loading.load") >= {"catalog", "loading.records", "loading.sources"}
    assert {f"classification.{m}" for m in ("inputs", "encoder", "zero_shot", "nli", "examples", "training",
                                            "records")} <= set(COMPONENTS)
    assert {f"embeddings.{m}" for m in ("inputs", "vectors", "projection", "neighbours", "items", "results")} \
        <= set(COMPONENTS)
    assert component_deps("classification.training") >= {"probe", "classification.encoder", "classification.inputs"}
    assert component_deps("embeddings.results") >= {"coverage", "embeddings.neighbours", "embeddings.projection"}
    assert {f"generation.{m}" for m in ("settings", "prompt", "stream", "next_token", "records", "compare")} \
        <= set(COMPONENTS)
    assert component_deps("generation.stream") >= {"decode_batch", "generation.prompt", "generation.settings"}
    assert {f"sentiment.{m}" for m in ("base", "occlusion", "vader", "head", "prompting", "finetuned",
                                       "evaluation")} <= set(COMPONENTS)
    assert component_deps("sentiment.prompting") >= {"sentiment.base", "sentiment.occlusion", "tokens"}


@pytest.mark.parametrize("name", [c for c in COMPONENTS if c not in STREAMLIT_MODULES])
def test_compute_module_never_imports_streamlit(name):
    bad = sorted(m for m in imported_modules(COMPONENT_FILES[name])
                 if m.split(".")[0] == "streamlit")
    assert not bad, (f"components/{name}.py imports {bad}: compute modules return data and message "
                     f"codes; only {sorted(STREAMLIT_MODULES)} may import streamlit")


@pytest.mark.parametrize("name", COMPONENTS)
def test_components_never_import_pages_or_app(name):
    bad = sorted(m for m in imported_modules(COMPONENT_FILES[name])
                 if m.split(".")[0] in ("app_pages", "app") or m.startswith("."))
    assert not bad, f"components/{name}.py imports {bad}"


@pytest.mark.parametrize("page", PAGES)
def test_pages_never_import_each_other(page):
    bad = sorted(m for m in imported_modules(ROOT / "app_pages" / f"{page}.py")
                 if m.split(".")[0] == "app_pages" or m.startswith(".")
                 or m in PAGES or m.split(".")[0] == "app")
    assert not bad, f"app_pages/{page}.py imports {bad}: pages share code through components/"


def test_no_import_cycles_among_components():
    graph = {name: component_deps(name) for name in COMPONENTS}
    cycles = find_cycles(graph)
    assert not cycles, "import cycles (function-local imports included):\n" + "\n".join(
        " -> ".join(c) for c in cycles)


def private_imports(path: Path) -> list[str]:
    """``module.name`` for each ``from components... import _name`` in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return [f"{node.module}.{alias.name}" for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "components"
            for alias in node.names if alias.name.startswith("_")]


APP_FILES = [*COMPONENT_FILES.values(), *sorted((ROOT / "app_pages").glob("*.py")), ROOT / "app.py"]


@pytest.mark.parametrize("path", APP_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_private_name_is_imported_across_modules(path):
    """A name with a leading underscore is its module's own: what another module needs is public."""
    assert not private_imports(path), f"{path.relative_to(ROOT)} imports private names {private_imports(path)}"


def test_private_import_finder_finds_them(tmp_path):
    path = tmp_path / "m.py"
    path.write_text("from components.loading.sources import _hub_answers, resolve\n"
                    "from components import _x\nfrom os import _exit\n")
    assert private_imports(path) == ["components.loading.sources._hub_answers", "components._x"]


def test_cycle_finder_finds_cycles():
    """The checker itself: a hidden two-module cycle and a longer one are reported, a DAG is not."""
    assert find_cycles({"a": {"b"}, "b": {"a"}}) == [["a", "b", "a"]]
    assert find_cycles({"x": {"y"}, "y": {"z"}, "z": {"x"}, "w": {"x"}}) == [["x", "y", "z", "x"]]
    assert find_cycles({"a": {"b", "c"}, "b": {"c"}, "c": set()}) == []


# ------------------------------------------------------------------ message contract
TRANSLATING_MODULES = {
    "i18n": "the string tables: translate(lang, key)",
    "messages": "Message and render(message, lang), the one place a message meets a language",
    "sentiment_wording": "UI side: the sentiment page's code-keyed tables and its report worded in a language",
    "generation_wording": "UI side: the generation page's token / next-token / comparison tables, chart and "
                          "reports worded in a language",
    "classification_wording": "UI side: the classification page's HTML report worded in a language",
    "embeddings_wording": "UI side: the shipped example sets' titles and labels worded in a language",
    "loading_wording": "UI side: a model-loading failure (codes and literal details) worded in a language",
    "charts_attention": "presentation, not compute: attention figures, their tables and report, worded for the page",
    "charts_embeddings": "presentation, not compute: the embedding map, scree chart, tables and report, worded "
                         "for the page",
    "charts_lens": "presentation, not compute: logit-lens and ablation figures and tables, worded for the page",
}
"""Modules that may take a ``lang`` parameter because translating is their job (besides
:data:`STREAMLIT_MODULES`): the string tables, and UI-side modules that word what compute
returns (tables, figures, reports). They import compute modules, never the reverse."""

TRANSLATOR_NAMES = {"t", "tr", "translate", "say"}
"""Parameter names that mean "a function that words text" when annotated ``Callable`` or,
unannotated, called with a string key (``t("x.y")``)."""


def lang_parameters(path: Path) -> list[str]:
    """Names of the functions in ``path`` with a parameter called ``lang``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return [node.name for node in ast.walk(tree)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            and "lang" in {a.arg for a in node.args.posonlyargs + node.args.args + node.args.kwonlyargs}]


def _is_text(node: ast.expr) -> bool:
    """A string literal, an f-string, or a sum with one in it (``"x." + name``)."""
    if isinstance(node, ast.BinOp):
        return _is_text(node.left) or _is_text(node.right)
    return isinstance(node, ast.JoinedStr) or (isinstance(node, ast.Constant) and isinstance(node.value, str))


def translator_parameters(path: Path) -> list[str]:
    """``function(parameter)`` for every parameter in ``path`` that takes a translator: named
    like one (:data:`TRANSLATOR_NAMES`) and annotated ``Callable`` or, unannotated, called in
    the function with a string constant first; or annotated ``Callable[..., str]`` /
    ``Callable[[Message], str]`` whatever its name."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            continue
        keyed_calls = {c.func.id for c in ast.walk(node) if isinstance(c, ast.Call) and isinstance(c.func, ast.Name)
                       and c.args and _is_text(c.args[0])}
        args = node.args
        for a in args.posonlyargs + args.args + args.kwonlyargs:
            note = ast.unparse(a.annotation).replace(" ", "") if a.annotation is not None else ""
            named = a.arg in TRANSLATOR_NAMES and ("Callable" in note or (not note and a.arg in keyed_calls))
            typed = any(f"Callable[{x},str]" in note for x in ("...", "[Message]"))
            if named or typed:
                found.append(f"{getattr(node, 'name', 'lambda')}({a.arg})")
    return found


@pytest.mark.parametrize("name", [n for n in COMPONENTS if n not in STREAMLIT_MODULES and n not in TRANSLATING_MODULES])
def test_compute_modules_take_no_language(name):
    """Compute returns message codes and numbers; the UI translates (components.messages)."""
    found = lang_parameters(COMPONENT_FILES[name])
    assert not found, f"components/{name}.py: `lang` parameter in {found}; return a Message instead"


@pytest.mark.parametrize("name", [n for n in COMPONENTS if n not in STREAMLIT_MODULES and n not in TRANSLATING_MODULES])
def test_compute_modules_take_no_translator(name):
    """A translator callable is a language by another name: compute returns codes instead."""
    found = translator_parameters(COMPONENT_FILES[name])
    assert not found, (f"components/{name}.py takes a translator in {found}; return code-keyed records or "
                       f"Message codes and word them in a translating module (TRANSLATING_MODULES)")


def test_translating_modules_exist_and_say_so():
    """Every listed translating module exists and its docstring says what it words."""
    for name in TRANSLATING_MODULES:
        assert name in COMPONENT_FILES, f"TRANSLATING_MODULES names a missing module {name}"
        path = COMPONENT_FILES[name]
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
        assert "language" in doc.lower() or "lang" in doc, f"components/{name}.py: docstring should say it words text"


def test_lang_parameter_finder_finds_one(tmp_path):
    path = tmp_path / "m.py"
    path.write_text("def a(x, lang='en'):\n    pass\n\ndef b(*, lang):\n    pass\n\ndef c(language):\n    pass\n")
    assert lang_parameters(path) == ["a", "b"]


def test_translator_finder_finds_them(tmp_path):
    path = tmp_path / "m.py"
    path.write_text("from collections.abc import Callable\n"
                    "def a(rows, tr):\n    return tr('x.' + rows)\n\n"
                    "def tensor(t):\n    return t(0)\n\n"
                    "def b(rows, t: Callable[..., str]):\n    pass\n\n"
                    "def c(rows, word: Callable[[Message], str]):\n    pass\n\n"
                    "def d(rows, tr: dict | None, progress: Callable[[int], None], t: int = 0):\n    pass\n")
    assert translator_parameters(path) == ["a(tr)", "b(t)", "c(word)"]
