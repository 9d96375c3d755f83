"""Channel latency in one run of the assistant: REST (single user), socket.io
round trip with 1 and 20 concurrent widget sessions, and the Twilio webhook's
response time (it acknowledges at once; the SMS reply follows through the REST
API of a fake Twilio). Writes bench/results/channels_latency.json."""
from __future__ import annotations

import queue
import random
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import requests
import socketio
from twilio.request_validator import RequestValidator

from bench.common import summarise, timed, write_result
from tests.fakes.twilio_api import FakeTwilioApi
from tests.integration.stack import Stack

SID, TOKEN, NUMBER = "AC" + "b" * 32, "bench-twilio-token", "+15550001111"
QUESTIONS = ["hello", "are you open on sunday?", "can i bring my dog?", "how much is the reserve cabernet franc?"]
PER_SESSION = 12


def socket_session(url: str, n: int, out: list, errors: list) -> None:
    sio = socketio.Client(reconnection=False)
    replies: "queue.Queue[dict]" = queue.Queue()
    sio.on("bot_uttered", replies.put)
    confirmed = threading.Event()
    issued: list = []
    sio.on("session_confirm", lambda session_id: (issued.append(session_id), confirmed.set()))
    try:
        sio.connect(url, socketio_path="/socket.io", transports=["websocket"])
        sio.emit("session_request", {"session_id": None})
        confirmed.wait(10)
        session = issued[-1]
        for i in range(n):
            started = time.perf_counter()
            sio.emit("user_uttered", {"message": QUESTIONS[i % len(QUESTIONS)], "session_id": session})
            replies.get(timeout=60)  # the first message of the answer
            out.append(time.perf_counter() - started)
            while not replies.empty():
                replies.get_nowait()
            time.sleep(0.3)  # lets the rest of the answer arrive before the next question
    except Exception as exc:  # counted, not raised: the numbers say how many failed
        errors.append(repr(exc))
    finally:
        sio.disconnect()


def socketio_load(url: str, sessions: int) -> dict:
    latencies: list[float] = []
    errors: list[str] = []
    threads = [threading.Thread(target=socket_session, args=(url, PER_SESSION, latencies, errors))
               for _ in range(sessions)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    return {**summarise(latencies), "sessions": sessions, "errors": len(errors),
            "throughput_msg_s": round(len(latencies) / elapsed, 2)}


def twilio_webhook(stack: Stack, api: FakeTwilioApi, n: int) -> dict:
    url = f"{stack.url}/webhooks/twilio/webhook"
    validator = RequestValidator(TOKEN)
    acks, deliveries = [], []
    for i in range(n):
        phone = "+1555" + "".join(random.choices("0123456789", k=7))
        sid = f"SM{uuid.uuid4().hex}"
        params = {"MessageSid": sid, "SmsSid": sid, "AccountSid": SID, "From": phone, "To": NUMBER,
                  "Body": QUESTIONS[i % len(QUESTIONS)], "NumMedia": "0"}
        headers = {"X-Twilio-Signature": validator.compute_signature(url, params)}
        started = time.perf_counter()
        requests.post(url, data=params, headers=headers, timeout=20).raise_for_status()
        acks.append(time.perf_counter() - started)
        api.wait_for(phone, 1, timeout=60)
        deliveries.append(time.perf_counter() - started)
    return {"webhook_ack": summarise(acks), "reply_delivered": summarise(deliveries)}


def main() -> int:
    api = FakeTwilioApi(SID, TOKEN).start()
    stack = Stack(Path(tempfile.mkdtemp(prefix="milea-bench-")), {
        "TWILIO_ACCOUNT_SID": SID, "TWILIO_AUTH_TOKEN": TOKEN, "TWILIO_NUMBER": NUMBER,
        "TWILIO_API_BASE_URL": api.url}).start()
    results: dict = {}
    try:
        for q in QUESTIONS:
            stack.say("warm", q)
        results["rest_single_user"] = summarise(
            timed(lambda: stack.say("bench-rest", random.choice(QUESTIONS)), 40))
        results["socketio_1_session"] = socketio_load(stack.url, 1)
        results["socketio_20_sessions"] = socketio_load(stack.url, 20)
        results["twilio"] = twilio_webhook(stack, api, 20)
    finally:
        stack.stop()
        api.stop()
    path = write_result("channels_latency", results)
    for key, value in results.items():
        print(key, value)
    print(f"written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
