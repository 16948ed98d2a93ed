"""Regenerate the presenter-mode examples shipped in ``curated/<page>.json``.

Usage: ``HF_HUB_OFFLINE=1 python -m scripts.build_curated [page ...]`` (all pages by default).
Runs each page's ``components/curated_<page>.py:build`` on the live bundled models.
``tests/test_curated.py`` rebuilds them the same way and fails when a shipped file is stale.
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from components import curated  # noqa: E402


def model_getter():
    """``get_model(catalog_key) -> LoadedModel`` loading each bundled model once."""
    from components.catalog import get_spec
    from components.loading import load_model

    memo: dict = {}

    def get(key: str):
        if key not in memo:
            memo[key] = load_model(get_spec(key))
        return memo[key]

    return get


def main(argv: list[str]) -> int:
    pages = argv or list(curated.PAGES)
    get = model_getter()
    for page in pages:
        examples = curated.builder(page)(get)
        path = curated.save(page, curated.to_jsonable(examples))
        print(f"{page}: {len(examples)} examples -> {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
