"""The model-server source (components/server.py) against a real OpenAI-compatible server:
``transformers serve`` started here on localhost, offline, serving the bundled SmolLM2
(tests/transformers_server.py), driven as the generation page drives it. Its greedy text is
checked against the app's own torch generation on the same weights."""
from __future__ import annotations

import pytest

from components import server as srv
from components.generation import GenerationSettings, generate_text, prepare_inputs
from tests.transformers_server import running_transformers_server

PROMPTS = {"complete": "Once upon a time, in a small village by the sea,", "chat": "Write one sentence about the sea."}
GREEDY = GenerationSettings(do_sample=False, max_new_tokens=24)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    srv.forget_refused()
    with running_transformers_server(tmp_path_factory.mktemp("transformers-serve")) as server:
        yield server
    srv.forget_refused()


def endpoint(server, **kw) -> srv.Endpoint:
    return srv.Endpoint(**{"id": "tserve", "base_url": server.base_url, "model": server.model, "timeout_s": 120.0,
                           "connect_timeout_s": 10.0, "retries": 0, **kw})


def stream_of(server, prompt, mode, settings, **kw) -> tuple[srv.ServerStream, list[str]]:
    params, _ = srv.request_params(endpoint(server, **kw), prompt, mode, settings)
    stream = srv.ServerStream(endpoint(server, **kw), params, max_seconds=300)
    pieces = list(stream)
    return stream, pieces


@pytest.mark.parametrize("mode", ["complete", "chat"])
def test_streamed_greedy_text_equals_the_apps_own_generation(served, smollm2, mode):
    """Same weights, same prompt (chat: the same chat template), greedy: the server streams
    the very text the app's torch generation writes, token by token."""
    stream, pieces = stream_of(served, PROMPTS[mode], mode, GREEDY)
    assert stream.error is None, (stream.error, served.log_tail())
    assert len(pieces) >= 3 and "".join(pieces) == stream.text  # streamed, not one block
    assert stream.stats["new_tokens"] == GREEDY.max_new_tokens and stream.stats["finish_reason"] == "length"
    assert stream.stats["prompt_tokens"] > 0
    local = generate_text(smollm2, prepare_inputs(smollm2, PROMPTS[mode], mode, GREEDY.max_new_tokens), GREEDY)
    assert stream.text == local.text
    # no logprobs over this server: it ignores the field (no refusal), the page says so in one sentence
    assert stream.tokens == [] and srv.distribution_record(stream.tokens) is None and stream.dropped == []


def test_max_tokens_and_stop_end_the_text(served):
    full, _ = stream_of(served, PROMPTS["complete"], "complete", GREEDY)
    short, _ = stream_of(served, PROMPTS["complete"], "complete", GenerationSettings(do_sample=False, max_new_tokens=5))
    assert short.error is None and short.stats["new_tokens"] == 5 and short.stats["finish_reason"] == "length"
    assert full.text.startswith(short.text) and len(short.text) < len(full.text)
    word = " " + full.text.split()[4]
    params, _ = srv.request_params(endpoint(served), PROMPTS["complete"], "complete", GREEDY, stop=(word,))
    stopped = srv.ServerStream(endpoint(served), params, max_seconds=300)
    list(stopped)
    assert stopped.error is None and stopped.stats["finish_reason"] == "eos"
    # the text ends at the first stop sequence, which transformers serve keeps (the OpenAI API drops it)
    assert stopped.text == full.text[:full.text.index(word) + len(word)]


def test_same_seed_same_sample_and_another_seed_another(served):
    def sample(seed):
        settings = GenerationSettings(do_sample=True, temperature=1.0, top_k=0, top_p=1.0, max_new_tokens=12, seed=seed)
        stream, _ = stream_of(served, "My favourite animal is", "complete", settings)
        assert stream.error is None
        return stream.text

    first = sample(7)
    assert sample(7) == first
    assert sample(8) != first


def test_refused_sampling_fields_are_left_out_and_remembered(served):
    """transformers serve answers 422 to top_k and repetition_penalty (not OpenAI API fields):
    the app sends the request again without them, and leaves them out afterwards."""
    srv.forget_refused()
    settings = GenerationSettings(do_sample=True, temperature=1.0, top_k=5, top_p=1.0, repetition_penalty=1.3,
                                  max_new_tokens=8, seed=3)
    first, _ = stream_of(served, "My favourite animal is", "complete", settings, extra_sampling=True)
    assert first.error is None and first.text
    assert first.dropped == ["repetition_penalty", "top_k"] and first.attempts == 2
    assert srv.refused_fields(endpoint(served), {"prompt": ""}) == {"repetition_penalty", "top_k"}
    again, _ = stream_of(served, "My favourite animal is", "complete", settings, extra_sampling=True)
    assert again.attempts == 1 and again.dropped == first.dropped
    plain, _ = stream_of(served, "My favourite animal is", "complete", settings)  # never sent them
    assert again.text == first.text == plain.text
    srv.forget_refused()


def test_killing_the_server_mid_stream_keeps_the_text_so_far(tmp_path):
    """Its own server: killed after three streamed pieces. The stream ends with the
    connection-closed message code (not a timeout: no waiting for ``timeout_s``), the text
    received so far kept."""
    with running_transformers_server(tmp_path) as server:
        params, _ = srv.request_params(endpoint(server), PROMPTS["complete"], "complete",
                                       GenerationSettings(do_sample=False, max_new_tokens=400))
        stream = srv.ServerStream(endpoint(server), params, max_seconds=300)
        pieces = []
        for piece in stream:
            pieces.append(piece)
            if len(pieces) == 3:
                server.proc.kill()
                server.proc.wait(timeout=30)
    assert stream.error == {"code": "stream_closed", "values": {"origin": endpoint(server).origin}, "partial": True}
    assert len(pieces) >= 3 and stream.text == "".join(pieces)
    assert stream.stats["finish_reason"] == "stopped" and stream.stats["new_tokens"] < 400
