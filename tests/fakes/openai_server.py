"""A fake OpenAI-compatible server: real HTTP on loopback for the real openai client.

Modes (set per test with `server.mode = ...`):
  ok          a grounded answer: the first sentence of the first passage in the prompt
  slow        sleeps `delay_s` before answering (client timeouts)
  error       HTTP 500
  malformed   HTTP 200 with a body that is not a chat completion
  ungrounded  an answer stating a price that no passage contains
  no_answer   the model says it cannot answer (NO_ANSWER)
  scripted    answers with `server.reply` (a test sets what the model "says")
Every request body is kept in `requests` so tests can check what reached the prompt.
"""
from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def _first_passage_sentence(prompt: str) -> str:
    match = re.search(r"\[1\][^\n]*\n(.+?)(?:\n\n|\nCustomer question:|$)", prompt, re.S)
    passage = match.group(1).strip() if match else ""
    return re.split(r"(?<=[.!?])\s+", passage)[0] if passage else "NO_ANSWER"


def _embedding(text: str, dim: int = 64) -> list[float]:
    vec = [0.0] * dim
    for word in re.findall(r"[a-z0-9]+", text.lower()):
        vec[int(hashlib.md5(word.encode()).hexdigest(), 16) % dim] += 1.0
    return vec


class FakeOpenAIServer:
    def __init__(self) -> None:
        self.mode = "ok"
        self.delay_s = 5.0
        self.reply = ""
        self.requests: list[dict[str, Any]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    self.wfile.write(body)
                except BrokenPipeError:  # the client gave up (a timeout test): nothing to answer
                    pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                server.requests.append({"path": self.path, "body": body, "auth": self.headers.get("Authorization")})
                if self.path.endswith("/embeddings"):
                    inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
                    data = [{"object": "embedding", "index": i, "embedding": _embedding(t)} for i, t in enumerate(inputs)]
                    self._send(200, json.dumps({"object": "list", "data": data, "model": body.get("model"),
                                                "usage": {"prompt_tokens": 1, "total_tokens": 1}}).encode())
                    return
                mode = server.mode
                if mode == "slow":
                    time.sleep(server.delay_s)
                if mode == "error":
                    self._send(500, b'{"error": {"message": "internal error", "type": "server_error"}}')
                    return
                if mode == "malformed":
                    self._send(200, b'{"unexpected": true}')
                    return
                prompt = body["messages"][-1]["content"]
                text = {
                    "ungrounded": "A tasting costs $999 per person.",
                    "no_answer": "NO_ANSWER",
                    "scripted": server.reply,
                }.get(mode) or _first_passage_sentence(prompt)
                completion = {
                    "id": "chatcmpl-fake", "object": "chat.completion", "created": int(time.time()),
                    "model": body.get("model", "fake"),
                    "choices": [{"index": 0, "finish_reason": "stop",
                                 "message": {"role": "assistant", "content": text}}],
                    "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
                }
                self._send(200, json.dumps(completion).encode())

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def start(self) -> "FakeOpenAIServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def chat_requests(self) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["path"].endswith("/chat/completions")]
