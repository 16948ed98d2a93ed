"""Model servers (components/server.py): configuration, the request sent, streamed text and
logprobs parsed from the OpenAI wire format, and every fault ending in a message code with
the text received so far kept -- against a local HTTP server speaking that wire format
(tests/openai_wire.py), and against llama.cpp's real server when it is installed."""
from __future__ import annotations

import json
import math
import time

import pytest

from components import i18n
from components import server as srv
from components.generation import GenerationSettings
from tests.openai_wire import DEFAULT_SCRIPT, WireServer, free_port

SCRIPT_TEXT = "".join(tok for tok, _, _ in DEFAULT_SCRIPT)


@pytest.fixture
def wire():
    with WireServer() as server:
        yield server


def endpoint(wire_or_url, **kw) -> srv.Endpoint:
    url = wire_or_url if isinstance(wire_or_url, str) else wire_or_url.base_url
    return srv.Endpoint(**{"id": "test", "base_url": url, "model": "smollm2", "timeout_s": 2.0,
                           "connect_timeout_s": 2.0, "retries": 1, **kw})


def run(ep, mode="chat", settings=None, max_seconds=30.0, **extra) -> srv.ServerStream:
    return srv.generate(ep, "Tell me a story", mode, settings or GenerationSettings(), max_seconds, **extra)


# --------------------------------------------------------------------------- configuration
def test_nothing_is_configured_by_default():
    assert srv.endpoints_from(env={}, secrets=None) == ([], [])


def test_endpoints_from_env_json_and_secrets_tables():
    env = {srv.SERVERS_ENV: json.dumps([{"id": "vllm", "base_url": "http://gpu:8000/v1/", "model": "m",
                                         "api_key_env": "VLLM_KEY", "retries": 0, "top_logprobs": 20}]),
           "VLLM_KEY": "s3cret"}
    secrets = {"ollama": {"base_url": "http://ollama:11434/v1", "model": "smollm2:135m", "name": "Ollama",
                          "chat": True, "timeout_s": 12.5}}
    found, notices = srv.endpoints_from(env=env, secrets=secrets)
    assert notices == []
    assert [e.key for e in found] == ["server:vllm", "server:ollama"]
    vllm, ollama = found
    assert vllm.base_url == "http://gpu:8000/v1" and vllm.api_key == "s3cret" and vllm.retries == 0
    assert vllm.top_logprobs == 20 and vllm.origin == "gpu:8000" and vllm.display_name == "m"
    assert "s3cret" not in repr(vllm)  # the key never shows in logs or reprs
    assert ollama.timeout_s == 12.5 and ollama.display_name == "Ollama" and ollama.origin == "ollama:11434"


@pytest.mark.parametrize("entry, field", [
    ({"id": "Bad Id", "base_url": "http://h/v1", "model": "m"}, "id"),
    ({"id": "a", "base_url": "file:///etc/passwd", "model": "m"}, "base_url"),
    ({"id": "a", "base_url": "http://h/v1?x=1", "model": "m"}, "base_url"),
    ({"id": "a", "base_url": "http://h/v1", "model": " "}, "model"),
    ({"id": "a", "base_url": "http://h/v1", "model": "m", "timeout_s": 0}, "timeout_s"),
    ({"id": "a", "base_url": "http://h/v1", "model": "m", "top_logprobs": 21}, "top_logprobs"),
    ({"id": "a", "base_url": "http://h/v1", "model": "m", "retries": True}, "retries"),
    ({"id": "a", "base_url": "http://h/v1", "model": "m", "chat": "yes"}, "chat"),
    ({"id": "a", "base_url": "http://h/v1", "model": "m", "api_key_env": "UNSET_VAR"}, "api_key_env"),
])
def test_invalid_entries_are_skipped_with_the_field_named(entry, field):
    good = {"id": "ok", "base_url": "http://h:1/v1", "model": "m"}
    found, notices = srv.endpoints_from(env={srv.SERVERS_ENV: json.dumps([entry, good])})
    assert [e.id for e in found] == ["ok"]
    assert notices == [("config.invalid", {"id": str(entry["id"]), "field": field})]


def test_unreadable_json_and_duplicate_ids_are_reported():
    assert srv.endpoints_from(env={srv.SERVERS_ENV: "{not json"}) == ([], [("config.json", {})])
    e = {"id": "a", "base_url": "http://h/v1", "model": "m"}
    found, notices = srv.endpoints_from(env={srv.SERVERS_ENV: json.dumps([e, {**e, "model": "other"}])})
    assert [x.model for x in found] == ["m"] and notices == [("config.duplicate", {"id": "a"})]


# --------------------------------------------------------------------------- request
def test_request_params_map_the_page_settings(wire):
    ep = endpoint(wire, top_logprobs=3)
    s = GenerationSettings(max_new_tokens=5, temperature=0.7, top_p=0.9, top_k=40, repetition_penalty=1.2,
                           no_repeat_ngram_size=2, seed=7)
    params, notices = srv.request_params(ep, "Hi", "chat", s, stop=["\n", "", "END", "a", "b", "c"],
                                         frequency_penalty=0.5, sample_index=2)
    assert params["messages"] == [{"role": "user", "content": "Hi"}]
    assert params["seed"] == 9 and params["max_tokens"] == 5
    assert params["temperature"] == 0.7 and params["top_p"] == 0.9
    assert params["stop"] == ["\n", "END", "a", "b"] and params["frequency_penalty"] == 0.5
    assert "presence_penalty" not in params
    assert params["logprobs"] is True and params["top_logprobs"] == 3
    assert ("notice.stop_cut", {"n": 4}) in notices
    assert ("notice.not_sent", {"settings": "top-k, repetition_penalty, no_repeat_ngram_size"}) in notices
    # a server that accepts vLLM's extra sampling parameters gets them
    params, notices = srv.request_params(srv.Endpoint(**{**ep.__dict__, "extra_sampling": True}), "Hi", "complete", s)
    assert params["extra_body"] == {"top_k": 40, "repetition_penalty": 1.2}
    assert params["prompt"] == "Hi" and params["logprobs"] == 3 and "messages" not in params
    assert notices == [("notice.not_sent", {"settings": "no_repeat_ngram_size"})]
    # greedy is temperature 0
    params, _ = srv.request_params(ep, "Hi", "chat", GenerationSettings(do_sample=False))
    assert params["temperature"] == 0.0 and params["top_p"] == 1.0


# --------------------------------------------------------------------------- streaming
@pytest.mark.parametrize("mode", ["chat", "complete"])
def test_streamed_text_probabilities_and_stats(wire, mode):
    stream = run(endpoint(wire, top_logprobs=3), mode=mode, settings=GenerationSettings(seed=5))
    sent = wire.requests[-1]
    assert sent["seed"] == 5 and sent["stream"] is True
    assert stream.error is None and stream.attempts == 1
    assert stream.text == SCRIPT_TEXT
    stats = stream.stats
    assert stats["finish_reason"] == "eos" and stats["new_tokens"] == len(DEFAULT_SCRIPT)
    assert stats["prompt_tokens"] == 7  # from the usage chunk
    assert 0 < stats["ttft_s"] <= stats["total_s"] and stats["tokens_per_s"] > 0
    steps = stream.steps()
    assert [s["token"] for s in steps] == [tok for tok, _, _ in DEFAULT_SCRIPT]
    for step, (_, logprob, top) in zip(steps, DEFAULT_SCRIPT):
        assert step["p"] == pytest.approx(math.exp(logprob))
        assert step["token_id"] is None
        assert [a[1] for a in step["alternatives"]] == pytest.approx(
            [math.exp(lp) for tok, lp in top if tok != step["token"]])
    # " 你好" was the second most likely token at its step: rank 2, the top one an alternative
    assert steps[5]["rank"] == 2 and steps[5]["alternatives"][0] == [" a", pytest.approx(math.exp(-0.9))]
    dist = srv.distribution_record(stream.tokens)
    assert dist["table"]["token"] == ["Once", "The", "In"] and dist["returned"] == 3
    assert dist["covered"] == pytest.approx(sum(math.exp(lp) for _, lp in DEFAULT_SCRIPT[0][2]))
    assert dist["table"]["logprob"][0] == pytest.approx(-0.105)
    record = stream.record()
    assert json.loads(json.dumps(record)) == record  # JSON-able, like sample_record


def test_length_limit_and_no_logprobs(wire):
    stream = run(endpoint(wire, top_logprobs=0, usage=False), settings=GenerationSettings(max_new_tokens=3))
    assert "logprobs" not in wire.requests[-1] and "stream_options" not in wire.requests[-1]
    assert stream.text == "Once upon a" and stream.stats["finish_reason"] == "length"
    assert stream.stats["new_tokens"] == 3 and stream.stats["prompt_tokens"] == 0  # counted from the chunks
    assert stream.steps() == [] and srv.distribution_record(stream.tokens) is None


def test_consumer_closing_the_stream_stops_it(wire):
    wire.token_delay = 0.01
    params, _ = srv.request_params(endpoint(wire), "Hi", "chat", GenerationSettings())
    stream = srv.ServerStream(endpoint(wire), params, 30)
    it = iter(stream)
    got = [next(it), next(it)]
    it.close()
    assert "".join(got) == stream.text == "Once upon" and stream.stats["finish_reason"] == "stopped"
    assert stream.error is None


# --------------------------------------------------------------------------- faults
def test_server_down_is_retried_then_reported():
    ep = endpoint(f"http://127.0.0.1:{free_port()}/v1", retries=2)
    stream = run(ep)
    assert stream.attempts == 3 and stream.text == ""
    assert stream.error == {"code": "down", "values": {"origin": ep.origin}, "partial": False}
    assert stream.stats["finish_reason"] == "stopped" and stream.stats["new_tokens"] == 0


def test_slow_server_gives_up_within_the_timeout_and_retries(wire):
    wire.delay_headers = 20.0  # far longer than the endpoint waits
    ep = endpoint(wire, timeout_s=0.5, retries=1)
    began = time.perf_counter()
    stream = run(ep)
    elapsed = time.perf_counter() - began
    assert stream.error["code"] == "timeout" and stream.attempts == 2 and len(wire.requests) == 2
    assert elapsed < wire.delay_headers  # the answer came from the client's timeout, not the server
    assert i18n.translate("en", "server.error.timeout", **stream.error["values"]).count("0.5 s") == 1


def test_request_budget_bounds_a_stream_that_keeps_coming(wire):
    wire.token_delay = 0.3
    stream = run(endpoint(wire), max_seconds=0.5)
    assert stream.stats["finish_reason"] == "time" and stream.error is None
    assert stream.text and SCRIPT_TEXT.startswith(stream.text) and stream.text != SCRIPT_TEXT


def test_stall_mid_stream_keeps_the_text_so_far(wire):
    wire.stall_after, wire.stall_s = 3, 20.0
    stream = run(endpoint(wire, timeout_s=0.5))
    assert stream.text == "Once upon a"
    assert stream.error["code"] == "timeout" and stream.error["partial"] is True
    assert stream.attempts == 1  # never retried once text arrived: it would repeat
    assert len(stream.steps()) == 3


def test_connection_cut_mid_stream_keeps_the_text_so_far(wire):
    wire.cut_after = 4
    stream = run(endpoint(wire))
    assert stream.text == "Once upon a time"
    assert stream.error == {"code": "stream_closed", "values": {"origin": endpoint(wire).origin}, "partial": True}


def test_error_event_inside_the_stream(wire):
    wire.error_event_after = 2
    stream = run(endpoint(wire))
    assert stream.text == "Once upon"
    assert stream.error["code"] == "server_error" and stream.error["values"]["detail"] == "engine crashed"


def test_rate_limit_is_retried_after_the_servers_retry_after(wire):
    wire.fail_status, wire.fail_times, wire.retry_after = 429, 1, 0
    stream = run(endpoint(wire))
    assert stream.error is None and stream.attempts == 2 and stream.text == SCRIPT_TEXT


def test_rate_limit_longer_than_the_budget_gives_up_at_once(wire):
    wire.fail_status, wire.fail_times, wire.retry_after = 429, -1, 120
    stream = run(endpoint(wire, retries=5), max_seconds=5.0)
    assert stream.attempts == 1 and stream.error["code"] == "rate_limited" and stream.text == ""


def test_persistent_503_is_retried_then_reported(wire):
    wire.fail_status, wire.fail_times = 503, -1
    stream = run(endpoint(wire, retries=2))
    assert stream.attempts == 3 and stream.error["code"] == "http" and stream.error["values"]["status"] == 503


@pytest.mark.parametrize("status, code", [(500, "http"), (401, "auth"), (400, "rejected")])
def test_other_http_errors_are_not_retried(wire, status, code):
    wire.fail_status, wire.fail_times = status, -1
    wire.fail_body = {"error": {"message": "max_tokens is too large"}}
    stream = run(endpoint(wire, retries=3))
    assert stream.attempts == 1 and stream.error["code"] == code
    if code == "rejected":
        assert stream.error["values"]["detail"] == "max_tokens is too large"


def test_a_refused_optional_field_is_left_out_and_remembered_for_that_server(wire):
    """A server that refuses logprobs (400 naming the field) still generates: the request goes
    again without logprobs and top_logprobs, and later requests leave them out from the start."""
    srv.forget_refused()
    wire.refuse_fields = ("logprobs",)
    ep = endpoint(wire, retries=0)
    first = run(ep, mode="chat")
    assert first.error is None and first.text == SCRIPT_TEXT
    assert first.dropped == ["logprobs", "top_logprobs"] and first.attempts == 2
    assert "logprobs" in wire.requests[0] and not {"logprobs", "top_logprobs"} & set(wire.requests[1])
    assert first.tokens == [] and srv.distribution_record(first.tokens) is None
    assert first.record()["dropped"] == ["logprobs", "top_logprobs"]
    assert srv.refused_fields(ep, {"messages": []}) == {"logprobs"}
    second = run(ep, mode="chat")
    assert second.attempts == 1 and second.dropped == ["logprobs", "top_logprobs"] and second.text == SCRIPT_TEXT
    assert len(wire.requests) == 3 and "logprobs" not in wire.requests[2]
    # remembered per route: text completions still ask (and this server refuses there too)
    third = run(ep, mode="complete")
    assert third.attempts == 2 and third.dropped == ["logprobs"] and third.error is None
    srv.forget_refused()
    assert srv.refused_fields(ep, {"messages": []}) == frozenset()


def test_a_refusal_naming_no_optional_field_is_a_fault_not_a_retry(wire):
    srv.forget_refused()
    wire.refuse_fields = ("max_tokens",)
    stream = run(endpoint(wire, retries=2))
    assert stream.error["code"] == "rejected" and stream.attempts == 1 and stream.dropped == []
    assert stream.error["values"]["detail"] == "max_tokens is not supported by this model"


def test_fastapi_refusal_of_extra_sampling_fields(wire):
    """FastAPI's 422 ``Unexpected fields in the request: {...}`` (transformers serve) names
    every field at once: one more request, without all of them."""
    srv.forget_refused()
    wire.fail_status, wire.fail_times = 422, 1
    wire.fail_body = {"detail": "Unexpected fields in the request: {'top_k', 'repetition_penalty'}"}
    settings = GenerationSettings(top_k=5, repetition_penalty=1.2)
    stream = run(endpoint(wire, extra_sampling=True, retries=0), settings=settings)
    assert stream.error is None and stream.attempts == 2 and stream.dropped == ["repetition_penalty", "top_k"]
    assert wire.requests[0]["top_k"] == 5 and "top_k" not in wire.requests[1]
    assert "repetition_penalty" not in wire.requests[1] and wire.requests[1]["logprobs"] is True
    srv.forget_refused()


def test_unknown_model_name(wire):
    stream = run(endpoint(wire, model="no-such-model"))
    assert stream.error == {"code": "unknown_model", "values": {"origin": endpoint(wire).origin,
                                                                "model": "no-such-model"}, "partial": False}
    assert stream.attempts == 1


def test_wrong_base_url_is_not_found(wire):
    stream = run(endpoint(wire.base_url.replace("/v1", "/nope")))
    assert stream.error["code"] == "not_found"


def test_every_message_code_has_a_sentence_in_both_languages():
    codes = ["down", "timeout", "rate_limited", "unknown_model", "not_found", "auth", "rejected", "http",
             "server_error", "stream_closed", "incomplete", "unexpected", "kept"]
    for lang in i18n.LANGS:
        strings = i18n.strings(lang)
        for code in codes:
            assert f"server.error.{code}" in strings
        for code in srv.UNAVAILABLE:
            assert f"server.unavailable.{code}" in strings


# --------------------------------------------------------------------------- the page
def test_generation_page_streams_from_a_configured_server(app, wire, monkeypatch):
    ep = {"id": "lab", "base_url": wire.base_url, "model": "smollm2", "name": "Lab server", "timeout_s": 5}
    monkeypatch.setenv(srv.SERVERS_ENV, json.dumps([ep]))
    app.run()
    app.switch_page("app_pages/generation.py")
    app.run()
    picker = app.selectbox(key="p_gen_model")
    assert "server:lab" in picker.options or any("Lab server" in o for o in picker.options)
    picker.set_value("server:lab")
    app.run()
    app.button(key="gen_go").click()
    app.run()
    assert not app.exception
    assert app.code[0].value == SCRIPT_TEXT
    metrics = {m.label: m.value for m in app.metric}
    assert metrics[i18n.translate("en", "generation.metric.new_tokens")] == str(len(DEFAULT_SCRIPT))
    infos = " ".join(e.value for e in app.info)
    assert i18n.translate("en", "server.unavailable.attention") in infos
    assert len(app.get("plotly_chart")) == 1  # the next-token view from the returned logprobs
    # a fault mid-way: the text so far stays, one sentence says what happened, no error box
    wire.cut_after = 2
    app.button(key="gen_go").click()
    app.run()
    assert not app.exception and not app.error
    assert app.code[0].value == "Once upon"
    warning = " ".join(w.value for w in app.warning)
    assert i18n.translate("en", "server.error.stream_closed", origin=f"127.0.0.1:{wire.port}") in warning
    assert i18n.translate("en", "server.error.kept") in warning


def test_generation_page_says_in_one_sentence_when_a_server_refuses_logprobs(app, wire, monkeypatch):
    srv.forget_refused()
    wire.refuse_fields = ("logprobs",)
    monkeypatch.setenv(srv.SERVERS_ENV, json.dumps([{"id": "lab", "base_url": wire.base_url, "model": "smollm2"}]))
    app.run()
    app.switch_page("app_pages/generation.py")
    app.run()
    app.selectbox(key="p_gen_model").set_value("server:lab")
    app.run()
    app.button(key="gen_go").click()
    app.run()
    assert not app.exception and not app.error and not app.warning
    assert app.code[0].value == SCRIPT_TEXT
    infos = [e.value for e in app.info]
    origin = f"127.0.0.1:{wire.port}"
    # text completion (the page's default mode) asks for logprobs alone
    assert i18n.translate("en", "server.notice.refused", origin=origin, fields="logprobs") in infos
    assert i18n.translate("en", "server.unavailable.logprobs") in infos
    assert not app.get("plotly_chart")
    srv.forget_refused()


def test_generation_page_never_offers_an_unconfigured_server(app, monkeypatch):
    monkeypatch.delenv(srv.SERVERS_ENV, raising=False)
    app.query_params["model"] = "server:evil"
    app.run()
    app.switch_page("app_pages/generation.py")
    app.run()
    assert not app.exception
    assert not any(srv.is_server_key(o) for o in app.selectbox(key="p_gen_model").options)


# --------------------------------------------------------------------------- llama.cpp's real server
@pytest.mark.slow
def test_llama_cpp_server_serves_the_bundled_gguf(tmp_path):
    """The real ``llama_cpp.server`` on localhost serving the bundled SmolLM2 GGUF: streamed
    text, logprobs whose probabilities are distributions, and a fault (unknown model)."""
    from tests.llama_cpp_server import PYTHON_ENV, llama_cpp_python, running_llama_cpp_server

    if llama_cpp_python() is None:
        pytest.skip("llama-cpp-python[server] is not installed (optional; it builds llama.cpp from source): "
                    f"install it here, or name an interpreter that has it in {PYTHON_ENV}")
    with running_llama_cpp_server(tmp_path) as (base_url, model):
        ep = srv.Endpoint(id="llama", base_url=base_url, model=model, timeout_s=120, retries=0, top_logprobs=5)
        greedy = GenerationSettings(do_sample=False, max_new_tokens=8)
        for mode in ("complete", "chat"):
            stream = run(ep, mode=mode, settings=greedy, max_seconds=300)
            assert stream.error is None, stream.error
            assert stream.text.strip() and stream.stats["new_tokens"] >= 1
            assert stream.stats["finish_reason"] in ("eos", "length")
            assert len(stream.tokens) == stream.stats["new_tokens"]  # logprobs for every token
            assert "".join(t["token"] for t in stream.tokens) == stream.text
            for item in stream.tokens:
                assert 0 < item["p"] <= 1 and len(item["top"]) == 5 and sum(p for _, p in item["top"]) <= 1.0001
                # greedy: the chosen token is the most likely one the server reported
                assert item["top"][0][1] == pytest.approx(item["p"], rel=1e-3)
            dist = srv.distribution_record(stream.tokens)
            assert dist["table"]["p_raw"] == sorted(dist["table"]["p_raw"], reverse=True) and 0 < dist["covered"] <= 1
        again = run(ep, mode="complete", settings=greedy, max_seconds=300)
        assert again.text == run(ep, mode="complete", settings=greedy, max_seconds=300).text
        # the OpenAI API's stop sequences and penalties are accepted; a stop ends the text before it
        stopped = run(ep, mode="complete", settings=greedy, max_seconds=300, stop=[again.text[3:6]],
                      frequency_penalty=0.5, presence_penalty=0.2)
        assert stopped.error is None and again.text[3:6] not in stopped.text
