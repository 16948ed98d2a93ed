"""A small local HTTP server speaking the OpenAI streaming wire format, with injectable faults.

Implements ``POST /v1/chat/completions`` and ``POST /v1/completions`` with ``stream=true``
(server-sent events over chunked transfer encoding, ``data: {...}`` lines, ``data: [DONE]``)
and ``GET /v1/models``, as vLLM and llama.cpp's server send them: one chunk per token, the
token's ``logprobs`` in the chat format (``content[].top_logprobs``) or the completions
format (``tokens`` / ``token_logprobs`` / ``top_logprobs``), a usage chunk when asked with
``stream_options.include_usage``.

What it streams is :attr:`WireServer.script`: ``(token, logprob, [(alternative, logprob)...])``
triples; faults are attributes set by the test (see :class:`WireServer`). Every request body
is recorded in :attr:`WireServer.requests`.
"""
from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DEFAULT_SCRIPT = [
    ("Once", -0.105, [("Once", -0.105), ("The", -2.9), ("In", -3.4)]),
    (" upon", -0.01, [(" upon", -0.01), (" more", -4.8), (" there", -6.2)]),
    (" a", -0.002, [(" a", -0.002), (" the", -6.9), (" an", -8.1)]),
    (" time", -0.03, [(" time", -0.03), (" midnight", -4.1), (" day", -5.0)]),
    (",", -0.6, [(",", -0.6), (" there", -1.2), (" in", -2.3)]),
    (" 你好", -1.7, [(" a", -0.9), (" 你好", -1.7), (" the", -2.0)]),
]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (connections to it are refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class WireServer:
    """Fault knobs (plain attributes, read on every request):

    * ``served_model``: requests for another model get vLLM's 404 ``model ... does not exist``;
    * ``fail_status`` / ``fail_times`` / ``fail_body`` / ``retry_after``: the next
      ``fail_times`` requests answer ``fail_status`` (``-1``: every request);
    * ``delay_headers``: seconds before the response starts;
    * ``token_delay``: seconds between two tokens;
    * ``stall_after`` / ``stall_s``: after this many tokens, wait ``stall_s`` seconds;
    * ``cut_after``: after this many tokens, close the connection without ending the stream;
    * ``error_event_after``: after this many tokens, send an ``{"error": ...}`` event;
    * ``refuse_fields``: request fields answered with vLLM's 400 ``... is not supported``
      (the first one present in the body is named).
    """

    def __init__(self, script=None):
        self.script = list(script or DEFAULT_SCRIPT)
        self.served_model = "smollm2"
        self.fail_status, self.fail_times, self.fail_body, self.retry_after = 0, 0, None, None
        self.delay_headers = 0.0
        self.token_delay = 0.0
        self.stall_after, self.stall_s = None, 0.0
        self.cut_after = None
        self.error_event_after = None
        self.finish_reason = "stop"
        self.refuse_fields: tuple[str, ...] = ()
        self.requests: list[dict] = []
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True)

    def __enter__(self) -> WireServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    # ------------------------------------------------------------------ wire
    def _chunk(self, chat: bool, text: str, logprob, top, finish=None, index_in_script=0, want_top=0) -> dict:
        if chat:
            choice = {"index": 0, "delta": {"content": text} if text is not None else {}, "finish_reason": finish}
            if logprob is not None:
                choice["logprobs"] = {"content": [{"token": text, "logprob": logprob, "bytes": list(text.encode()),
                                                   "top_logprobs": [{"token": a, "logprob": b, "bytes": list(a.encode())}
                                                                    for a, b in top[:want_top]]}]}
            else:
                choice["logprobs"] = None
            return {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": self.served_model,
                    "choices": [choice]}
        choice = {"index": 0, "text": text or "", "finish_reason": finish,
                  "logprobs": ({"tokens": [text], "token_logprobs": [logprob], "text_offset": [index_in_script],
                                "top_logprobs": [dict(top[:want_top])]} if logprob is not None else None)}
        return {"id": "cmpl-1", "object": "text_completion", "created": 1, "model": self.served_model,
                "choices": [choice]}

    def _handler(server_self):  # noqa: N805 - the handler class closes over the server object
        wire = server_self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep test output quiet
                pass

            def _json(self, status: int, body: dict, headers: dict | None = None) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Connection", "close")
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def _write(self, event: str) -> None:
                data = event.encode()
                self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                self.wfile.flush()

            def do_GET(self):  # noqa: N802
                if self.path.rstrip("/") == "/v1/models":
                    self._json(200, {"object": "list", "data": [{"id": wire.served_model, "object": "model"}]})
                else:
                    self._json(404, {"error": {"message": "Not Found"}})

            def do_POST(self):  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                wire.requests.append(body)
                chat = self.path == "/v1/chat/completions"
                if not chat and self.path != "/v1/completions":
                    return self._json(404, {"error": {"message": "Not Found"}})
                if wire.delay_headers:
                    time.sleep(wire.delay_headers)
                if wire.fail_times:
                    wire.fail_times -= 1 if wire.fail_times > 0 else 0
                    headers = {"Retry-After": str(wire.retry_after)} if wire.retry_after is not None else {}
                    return self._json(wire.fail_status, wire.fail_body or {"error": {"message": f"status {wire.fail_status}"}},
                                      headers)
                refused = [f for f in wire.refuse_fields if f in body]
                if refused:
                    return self._json(400, {"object": "error", "type": "BadRequestError", "code": 400,
                                            "message": f"{refused[0]} is not supported by this model"})
                if body.get("model") != wire.served_model:
                    return self._json(404, {"error": {"message": f"The model `{body.get('model')}` does not exist.",
                                                      "type": "NotFoundError", "code": 404}})
                want = int(body.get("top_logprobs") or 0) if chat else int(body.get("logprobs") or 0)
                with_logprobs = bool(body.get("logprobs"))
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Transfer-Encoding", "chunked")
                self.send_header("Connection", "close")
                self.end_headers()
                limit = int(body.get("max_tokens") or len(wire.script))
                tokens = wire.script[:limit]
                if chat:
                    self._write("data: " + json.dumps(wire._chunk(True, "", None, [])) + "\n\n")  # role chunk
                for i, (tok, lp, top) in enumerate(tokens):
                    if wire.cut_after is not None and i == wire.cut_after:
                        self.wfile.flush()
                        self.connection.shutdown(socket.SHUT_RDWR)  # no terminating chunk, no [DONE]
                        return
                    if wire.error_event_after is not None and i == wire.error_event_after:
                        self._write("data: " + json.dumps({"error": {"message": "engine crashed", "code": 500}}) + "\n\n")
                        self._write("")
                        return
                    if wire.stall_after is not None and i == wire.stall_after:
                        time.sleep(wire.stall_s)
                    if wire.token_delay:
                        time.sleep(wire.token_delay)
                    self._write("data: " + json.dumps(wire._chunk(chat, tok, lp if with_logprobs else None, top,
                                                                  index_in_script=i, want_top=want)) + "\n\n")
                finish = "length" if limit < len(wire.script) else wire.finish_reason
                self._write("data: " + json.dumps(wire._chunk(chat, None if chat else "", None, [], finish)) + "\n\n")
                if (body.get("stream_options") or {}).get("include_usage"):
                    usage = {"prompt_tokens": 7, "completion_tokens": len(tokens), "total_tokens": 7 + len(tokens)}
                    self._write("data: " + json.dumps({"id": "x", "object": "chat.completion.chunk", "created": 1,
                                                       "model": wire.served_model, "choices": [], "usage": usage}) + "\n\n")
                self._write("data: [DONE]\n\n")
                self._write("")

        return Handler
