"""The app's preload of Streamlit's element code (``ui.preload_element_code``): it names files
the installed frontend build really ships, and its script survives Streamlit's HTML sanitizer."""
from __future__ import annotations

import re

from components import ui


def test_every_preloaded_element_type_is_in_the_installed_frontend_build():
    files = ui._element_code_files()
    stems = {name.split("/")[-1].split(".")[0] for name in files}
    # a Streamlit upgrade that renames a file would silently bring the skeletons back
    assert stems == set(ui._ELEMENT_CODE)
    assert all(re.fullmatch(r"(js|css)/[\w-]+\.[\w-]+\.(js|css)", name) for name in files), files
    # the dataframe waits for its stylesheet before it draws
    assert any(name.startswith("css/DataFrame.") for name in files), files


def test_preload_script_survives_the_html_sanitizer():
    body = ui.element_code_html()
    script = re.fullmatch(r"<script>(.*)</script>", body, flags=re.S)
    assert script is not None
    # DOMPurify drops an element whose text holds "<" followed by a letter or "/"
    assert re.search(r"<[/\w]", script.group(1)) is None
