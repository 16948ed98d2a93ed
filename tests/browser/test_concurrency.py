"""Many people at once on one server: 8 browser sessions, each a mixed script of 9-11 user
actions (generation, then one other page, then back to generation; together the sessions do
every kind of action of the full 20-action tour), all running at the same time against ONE
fresh ``streamlit run`` (driver: ``tests/browser/concurrency.py``; the full tour, its timing
and memory figures are in ``bench/sessions.py``, not asserted here).

Passes only with 0 errors of any kind:
* every session's results and settings are its own: each uses different prompts, labels,
  sentences and max_new_tokens; what it set is still set after every run and after visiting
  another page; a result's prompt-token count and new-token count match the session's own
  prompt and max_new_tokens; no other session's text appears on its page;
* no Streamlit exception box, no "Something went wrong" / "Already borrowed" message in
  any page, no browser console error, no action timing out;
* no traceback / error line in the server's log (``artifacts/server-logs/concurrency.log``);
* model-loading races: the server starts with no model loaded and all 8 sessions open a
  model page at the same instant (4 need SmolLM2, 4 need MiniLM); each bundled model must
  be loaded exactly once (``components.loading`` logs one ``[llm-lab] model-load start``
  line per real load).
"""
from __future__ import annotations

import pytest

from tests.browser.concurrency import BUNDLED, SESSIONS, run_all

pytestmark = pytest.mark.browser


def test_eight_sessions_at_once(capsys):
    report = run_all(SESSIONS, full=False)
    errors, server_errors, loads = report["errors"], report["server_log_errors"], report["model_loads"]
    with capsys.disabled():
        print(f"\n[concurrency] {SESSIONS} sessions: {report['actions_done']}/{report['actions_planned']} "
              f"actions done in {report['duration_s']} s; model loads {loads}; "
              f"errors {len(errors)}; server-log errors {len(server_errors)}")

    assert report["model_loads_before"] == {}, "server must start with no model loaded"
    assert not errors, "\n".join(errors[:30])
    assert not server_errors, "\n".join(server_errors[:30])
    assert report["actions_planned"] >= SESSIONS * 10
    assert report["actions_done"] == report["actions_planned"]
    # every session used both bundled models; each was loaded exactly once
    assert {k: loads.get(k, 0) for k in BUNDLED} == {k: 1 for k in BUNDLED}, loads
