"""AppTest: the app starts, Home renders, the generation page works and handles bad input."""
from __future__ import annotations

import json

from components import i18n
from tests.conftest import plotly_array


def en(key: str, **values) -> str:
    return i18n.translate("en", key, **values)


def _open_generation(app):
    app.run()
    app.switch_page("app_pages/generation.py")
    app.run()
    assert not app.exception
    return app


def _infos(at):
    return " ".join(e.value for e in [*at.info, *at.warning, *at.error])


def test_generation_page_streams_text_from_bundled_model(app):
    at = _open_generation(app)
    at.text_area(key="p_gen_prompt").set_value("今天的天气很好，适合出去散步。")
    at.toggle(key="p_gen_sample").set_value(False)
    at.slider(key="p_gen_max_new").set_value(12)
    at.button(key="gen_go").click()
    at.run()
    assert not at.exception
    output = at.code[0].value
    assert output and "\ufffd" not in output
    metrics = {m.label: m.value for m in at.metric}
    assert metrics[en("generation.metric.new_tokens")] in {str(n) for n in range(1, 13)}
    assert int(metrics[en("generation.metric.prompt_tokens")]) > 0
    # the prompt's tokens are listed readable, Chinese characters included
    chips = " ".join(m.value for m in at.markdown)
    for ch in "今天的天气很好":
        assert ch in chips
    # the next-token chart is drawn from real probabilities
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    probs = plotly_array(spec["data"][0]["y"])  # softmax(logits) of the top candidates
    assert len(probs) >= 10 and all(0 <= p <= 1 for p in probs) and 0 < sum(probs) <= 1.0001
    assert probs == sorted(probs, reverse=True)


def test_same_seed_same_text_in_app(app):
    at = _open_generation(app)
    at.slider(key="p_gen_max_new").set_value(8)
    at.button(key="gen_go").click()
    at.run()
    first = at.code[0].value
    at.button(key="gen_go").click()
    at.run()
    assert at.code[0].value == first and first


def test_bad_inputs_give_messages(app, tiny_gpt2_dir, as_local_model):
    at = _open_generation(app)
    # empty / whitespace prompt: a message, the prompt kept
    at.text_area(key="p_gen_prompt").set_value("  \n ")
    at.run()
    assert not at.exception and en("generation.empty_prompt") in _infos(at)
    assert at.text_area(key="p_gen_prompt").value == "  \n "
    at.text_area(key="p_gen_prompt").set_value("Hello there")
    # temperature 0 -> greedy
    at.slider(key="p_gen_temp").set_value(0.0)
    at.run()
    assert "greedy" in _infos(at)
    at.slider(key="p_gen_temp").set_value(0.8)
    # top-p 0 -> greedy-equivalent, no nan
    at.slider(key="p_gen_topp").set_value(0.0)
    at.run()
    assert not at.exception and "Top-p 0" in _infos(at)
    at.slider(key="p_gen_topp").set_value(0.9)
    # several samples with greedy decoding
    at.toggle(key="p_gen_sample").set_value(False)
    at.slider(key="p_gen_n").set_value(3)
    at.run()
    assert "identical" in _infos(at)
    at.slider(key="p_gen_n").set_value(1)
    # markup in the prompt is shown literally (escaped in the token chips)
    at.text_area(key="p_gen_prompt").set_value("<b>bold</b> **not bold** $x$")
    at.run()
    chips = " ".join(m.value for m in at.markdown)
    assert "&lt;" in chips and "<b>" not in chips and "</b>" not in chips
    # a Hub-only model offline: a clear message naming it, with the bundled alternative offered
    at.selectbox(key="p_gen_model").set_value("distilgpt2")
    at.run()
    assert not at.exception
    err = " ".join(e.value for e in at.error).replace("\\", "")  # the box escapes markdown
    assert "DistilGPT-2" in err and "distilbert/distilgpt2" in err
    switch = [b for b in at.button if b.label.startswith(en("ui.model.use_alt", name="SmolLM2"))]
    assert switch
    switch[0].click()
    at.run()
    assert at.selectbox(key="p_gen_model").value == "smollm2-135m-instruct"
    assert at.text_area(key="p_gen_prompt").value == "<b>bold</b> **not bold** $x$"


def test_context_overflow_notice_on_small_context_model(app, tiny_gpt2_dir, as_local_model):
    as_local_model("gpt2", tiny_gpt2_dir)  # 64-token context
    at = _open_generation(app)
    at.selectbox(key="p_gen_model").set_value("gpt2")
    at.text_area(key="p_gen_prompt").set_value("The weather is lovely today. " * 20)
    at.slider(key="p_gen_max_new").set_value(20)
    at.button(key="gen_go").click()
    at.run()
    assert not at.exception
    assert "were cut" in _infos(at)
    metrics = {m.label: m.value for m in at.metric}
    assert int(metrics[en("generation.metric.prompt_tokens")]) + int(metrics[en("generation.metric.new_tokens")]) <= 64


def test_generate_runs_one_prefill_the_next_token_view_reuses_its_logits(app):
    """After Generate, the next-token view's logits come from the generation's first step:
    exactly one forward pass over the whole prompt, the others one token each."""
    from components.cache import get_model
    from components.catalog import SMOLLM2

    at = _open_generation(app)
    at.text_area(key="p_gen_prompt").set_value("A fresh prompt about the three primary colours:")
    at.toggle(key="p_gen_sample").set_value(False)
    at.slider(key="p_gen_max_new").set_value(4)
    model = get_model(SMOLLM2).model
    lengths: list[int] = []
    handle = model.register_forward_pre_hook(
        lambda mod, args, kwargs: lengths.append(int(kwargs["input_ids"].shape[-1])), with_kwargs=True)
    try:
        at.button(key="gen_go").click()
        at.run()
    finally:
        handle.remove()
    assert not at.exception and at.code[0].value
    prefills = [n for n in lengths if n > 1]
    assert len(prefills) == 1, lengths
    assert lengths.count(1) >= 1
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert len(plotly_array(spec["data"][0]["y"])) >= 10


def test_hub_model_offline_error_and_picker_labels(app):
    """Picking a Hub model offline: the error box shows the Hub id as code, not literal
    backticks; picker labels never repeat what the model's name says, nor double spaces."""
    at = _open_generation(app)
    labels = at.selectbox(key="p_gen_model").options
    assert all("  " not in label for label in labels)
    gpt2 = next(label for label in labels if label.startswith("GPT-2 (124M, Hub)"))
    assert gpt2.count("Hub") == 1
    at.selectbox(key="p_gen_model").set_value("gpt2").run()
    assert not at.exception
    errors = " ".join(e.value for e in at.error)
    assert "(Hub id `openai-community/gpt2`)" in errors and "\\`" not in errors


def test_picker_marks_hub_models_unavailable_once_the_hub_is_known_unreachable(app, monkeypatch):
    """Home's Hub check found no Hub: pickers say so on the Hub models themselves, in both
    languages; while the Hub answers (a local HTTP server stands in for it) they do not."""
    import http.server
    import socket
    import threading

    from components import loading

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("LLM_LAB_OFFLINE", raising=False)
    with socket.socket() as s:  # a port nobody listens on: connections are refused
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{dead}")
    assert loading.hub_reachable(ttl=0) is False     # what Home's model table asks
    at = _open_generation(app)
    gpt2 = next(label for label in at.selectbox(key="p_gen_model").options if label.startswith("GPT-2"))
    assert gpt2 == "GPT-2 (124M, Hub) [" + i18n.translate("en", "ui.badge.offline") + "]"
    at.query_params["lang"] = "zh"
    at.run()
    gpt2 = next(label for label in at.selectbox(key="p_gen_model").options if label.startswith("GPT-2"))
    assert gpt2.endswith("[此处不可用]")

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{server.server_address[1]}")
        assert loading.hub_reachable(ttl=0) is True
        at.run()
        labels = at.selectbox(key="p_gen_model").options
        assert i18n.translate("zh", "models.name.gpt2") in labels   # the name alone: no badge
    finally:
        server.shutdown()
        server.server_close()
