"""A small OpenAI-compatible chat server on 127.0.0.1 for tests.

It answers with the offline engineer (looking up the structured inputs of each request by a
hash of its prompt, recorded by a callback on the client side) and injects faults on chosen
calls: HTTP 429 and 500, a reply slower than the client's timeout, an empty reply and a
reply that is not in the requested format.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from langchain_core.callbacks import BaseCallbackHandler

from mle_star.engineer.model import answer, estimate_tokens
from mle_star.prompts import PAYLOAD_KEY


def _key(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _unfenced(text: str) -> str:
    """A JSON reply as a provider's structured output returns it: one object, no fences."""
    value = json.loads(text.split("```json\n", 1)[1].split("```", 1)[0]) if "```json" in text else json.loads(text)
    if isinstance(value, list):
        value = {"models": value} if value and "model_name" in value[0] else value[0]
    return json.dumps(value)


class PayloadRecorder(BaseCallbackHandler):
    """Client side: remember each request's structured inputs, keyed by its last prompt."""

    def __init__(self, registry: dict):
        self.registry = registry

    def on_chat_model_start(self, serialized, messages, **kwargs):  # noqa: ANN001
        for batch in messages:
            last = batch[-1]
            if PAYLOAD_KEY in last.additional_kwargs:
                self.registry[_key(str(last.content))] = last.additional_kwargs[PAYLOAD_KEY]


class StubServer:
    def __init__(self, faults: dict[int, str], slow_seconds: float = 3.0, replies: dict[str, str] | None = None):
        """``replies``: role -> the reply text this server's model gives for that role (the offline
        engineer answers the others)."""
        self.registry: dict[str, dict] = {}
        self.faults, self.slow, self.replies = faults, slow_seconds, replies or {}
        self.calls = 0
        self.structured = 0
        self.lock = threading.Lock()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_POST(self):  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with stub.lock:
                    stub.calls += 1
                    fault = stub.faults.get(stub.calls)
                if fault in ("401", "404", "429", "500"):
                    self._send(int(fault), {"error": {"message": f"injected {fault}", "type": "server_error"}},
                               {"Retry-After": "0"})
                    return
                if fault == "slow":
                    time.sleep(stub.slow)
                prompt = body["messages"][-1]["content"]
                payload = stub.registry.get(_key(prompt))
                if fault == "empty":
                    text = ""
                elif fault == "malformed" or payload is None:
                    text = "I am not sure what you mean; could you clarify the task?"
                else:
                    text = stub.replies.get(payload["role"]) or answer(payload)
                    if body.get("response_format", {}).get("type") == "json_schema":
                        text = _unfenced(text)  # structured output: the bare JSON object
                        stub.structured += 1
                n_in = sum(estimate_tokens(m["content"]) for m in body["messages"])
                self._send(200, {
                    "id": f"chatcmpl-{stub.calls}", "object": "chat.completion", "created": int(time.time()),
                    "model": body.get("model", "stub"),
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": n_in, "completion_tokens": estimate_tokens(text),
                              "total_tokens": n_in + estimate_tokens(text)},
                })

            def _send(self, code: int, data: dict, headers: dict | None = None):
                raw = json.dumps(data).encode()
                try:
                    self.send_response(code)
                    for k, v in {"Content-Type": "application/json", **(headers or {})}.items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(len(raw)))
                    self.end_headers()
                    self.wfile.write(raw)
                except (BrokenPipeError, ConnectionResetError):  # the client timed out first
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()
