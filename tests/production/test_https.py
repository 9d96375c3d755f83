"""The public side of the compose topology over HTTPS through the proxy (a certificate made for the
run): REST, the widget's socket.io over wss, Twilio signatures checked against the public https URL,
plain HTTP redirected, Rasa's HTTP API not published, the jobs process's /health and /metrics."""
from __future__ import annotations

import queue
import uuid

import pytest
import requests
import socketio
from twilio.request_validator import RequestValidator

from tests.integration.stack import texts
from tests.production.conftest import SMS_NUMBER, SMS_SID, SMS_TOKEN
from tests.waiting import wait_until


@pytest.fixture(autouse=True)
def every_replica_serving(cluster):
    """An earlier test of the shared cluster (tests/production/test_faults.py) may have killed a replica
    that is still loading its model: a turn sent to it would wait out the test's deadline."""
    wait_until(cluster.all_answer, 240, "every Rasa replica answering", interval=1.0)


def test_rest_over_https_with_the_certificate_checked(cluster):
    response = requests.post(f"{cluster.url}/webhooks/rest/webhook", timeout=30, verify=str(cluster.certificate),
                             json={"sender": f"tls-{uuid.uuid4().hex[:8]}", "message": "can i bring my dog?"})
    assert response.status_code == 200 and "leash" in texts(response.json()).lower()
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"  # HSTS
    with pytest.raises(requests.exceptions.SSLError):  # the system's CAs do not know it: TLS is real
        requests.get(f"{cluster.url}/proxy-health", timeout=10)


def test_widget_socketio_over_wss_through_the_proxy(cluster):
    http = requests.Session()
    http.verify = str(cluster.certificate)
    sio = socketio.Client(reconnection=False, http_session=http)
    replies: "queue.Queue[dict]" = queue.Queue()
    confirmed: "queue.Queue[str]" = queue.Queue()
    sio.on("bot_uttered", replies.put)
    sio.on("session_confirm", confirmed.put)
    sio.connect(cluster.url, socketio_path="/socket.io", transports=["websocket"])
    try:
        assert sio.transport() == "websocket" and cluster.url.startswith("https://")  # i.e. wss://
        sio.emit("session_request", {"session_id": None})
        session = confirmed.get(timeout=20)
        sio.emit("user_uttered", {"message": "can i bring my dog?", "session_id": session})
        assert "leash" in replies.get(timeout=60).get("text", "").lower()
    finally:
        sio.disconnect()


def test_widget_long_polling_sessions_stay_on_one_replica_through_the_proxy(cluster):
    """Polling keeps its session in the replica that made it: the proxy hashes the widget's ?sticky=
    (a random key of the page, never the session id) so that every request of one client goes there;
    six clients, six keys."""
    clients = []
    try:
        for _ in range(6):
            http = requests.Session()
            http.verify = str(cluster.certificate)
            http.trust_env = False  # REQUESTS_CA_BUNDLE would replace the cluster's own certificate
            sio = socketio.Client(reconnection=False, http_session=http)
            replies: "queue.Queue[dict]" = queue.Queue()
            confirmed: "queue.Queue[str]" = queue.Queue()
            sio.on("bot_uttered", replies.put)
            sio.on("session_confirm", confirmed.put)
            sticky = uuid.uuid4().hex
            sio.connect(f"{cluster.url}?sticky={sticky}", socketio_path="/socket.io", transports=["polling"])
            clients.append((sio, sticky, replies, confirmed))
        for sio, _, replies, confirmed in clients:
            assert sio.transport() == "polling"
            sio.emit("session_request", {"session_id": None})
            sio.emit("user_uttered", {"message": "can i bring my dog?", "session_id": confirmed.get(timeout=20)})
        for sio, session, replies, confirmed in clients:
            assert "leash" in replies.get(timeout=60).get("text", "").lower()
    finally:
        for sio, *_ in clients:
            sio.disconnect()


def test_widget_page_is_served_through_the_proxy_and_points_at_https(cluster):
    page = requests.get(f"{cluster.url}/", timeout=10, verify=str(cluster.certificate))
    assert page.status_code == 200 and "<html" in page.text.lower()
    config = requests.get(f"{cluster.url}/config.js", timeout=10, verify=str(cluster.certificate))
    assert config.status_code == 200 and cluster.url in config.text


def _sms_params(phone: str, body: str) -> dict:
    sid = f"SM{uuid.uuid4().hex}"
    return {"MessageSid": sid, "SmsMessageSid": sid, "SmsSid": sid, "AccountSid": SMS_SID, "From": phone,
            "To": SMS_NUMBER, "Body": body, "NumMedia": "0", "SmsStatus": "received", "ApiVersion": "2010-04-01"}


def test_twilio_signatures_validate_behind_the_proxy(cluster, twilio_api):
    """Twilio signs the public https URL; the replica behind the proxy sees http://127.0.0.1:port and
    must rebuild the public one from the forwarded headers."""
    webhook = f"{cluster.url}/webhooks/twilio/webhook"
    phone = "+1555" + uuid.uuid4().hex[:7].translate(str.maketrans("abcdef", "123456"))
    params = _sms_params(phone, "what are your hours?")
    signature = RequestValidator(SMS_TOKEN).compute_signature(webhook, params)
    response = requests.post(webhook, data=params, headers={"X-Twilio-Signature": signature}, timeout=30,
                             verify=str(cluster.certificate))
    assert response.status_code == 200, response.text
    assert twilio_api.wait_for(phone, 1, timeout=60), "no SMS reply"

    # a signature of another URL (here: the internal plain-HTTP one) is refused
    params = _sms_params(phone, "hello")
    internal = f"{cluster.replica_urls[0]}/webhooks/twilio/webhook"
    wrong = RequestValidator(SMS_TOKEN).compute_signature(internal, params)
    response = requests.post(webhook, data=params, headers={"X-Twilio-Signature": wrong}, timeout=30,
                             verify=str(cluster.certificate))
    assert response.status_code == 403


def test_plain_http_redirects_and_the_rasa_api_is_not_public(cluster):
    response = requests.get(f"{cluster.plain_url}/webhooks/rest/webhook", allow_redirects=False, timeout=10)
    assert response.status_code == 301 and response.headers["location"].startswith("https://")
    assert "Strict-Transport-Security" not in response.headers  # browsers ignore it over plain HTTP
    inside = requests.get(f"{cluster.url}/conversations/anyone/tracker", params={"token": cluster.token},
                          timeout=10, verify=str(cluster.certificate))
    assert inside.status_code == 404  # the widget server answers: Rasa's API stays internal


def test_health_of_the_jobs_process_and_each_replica_reports_dependencies_with_latency(cluster):
    report = requests.get(f"http://127.0.0.1:{cluster.jobs_port}/health", timeout=15).json()
    assert report["status"] == "ok", report
    deps = report["dependencies"]
    for name in ("database", "chroma", "commerce7", "redis", "rabbitmq", "llm"):
        assert deps[name]["status"] == "ok", (name, deps[name])
        assert deps[name]["latency_ms"] >= 0
    for url in cluster.replica_urls:
        replica = requests.get(f"{url}/webhooks/ops/health", timeout=15).json()
        assert replica["status"] == "ok", replica
        assert set(replica["dependencies"]) == {"database", "redis", "rabbitmq", "action_server"}
    public = requests.get(f"{cluster.url}/webhooks/ops/health", timeout=10, verify=str(cluster.certificate))
    assert public.status_code == 404


def test_jobs_metrics_count_the_cluster_turns_by_channel(cluster):
    from prometheus_client.parser import text_string_to_metric_families

    def turns() -> float:
        body = requests.get(f"http://127.0.0.1:{cluster.jobs_port}/metrics", timeout=15).text
        return sum(s.value for f in text_string_to_metric_families(body) for s in f.samples
                   if s.name == "milea_turns_total" and s.labels.get("channel") == "rest")

    before = turns()
    cluster.say(f"metrics-{uuid.uuid4().hex[:8]}", "what are your hours?")
    assert turns() == before + 1


def test_replicas_count_sms_replies_twilio_did_not_take(cluster, twilio_api):
    """Each replica's /webhooks/ops/metrics (internal; the proxy refuses it) counts failed SMS sends."""
    import time

    from prometheus_client.parser import text_string_to_metric_families

    def failures() -> float:
        total = 0.0
        for url in cluster.replica_urls:
            body = requests.get(f"{url}/webhooks/ops/metrics", timeout=10).text
            total += sum(s.value for f in text_string_to_metric_families(body) for s in f.samples
                         if s.name == "milea_sms_failures_total")
        return total

    public = requests.get(f"{cluster.url}/webhooks/ops/metrics", timeout=10, verify=str(cluster.certificate))
    assert public.status_code == 404
    before = failures()
    twilio_api.fail_next(1, status=400)  # refused, not retried: the reply is lost and must be counted
    webhook = f"{cluster.url}/webhooks/twilio/webhook"
    params = _sms_params("+15557770" + uuid.uuid4().hex[:3].translate(str.maketrans("abcdef", "123456")), "hi")
    signature = RequestValidator(SMS_TOKEN).compute_signature(webhook, params)
    assert requests.post(webhook, data=params, headers={"X-Twilio-Signature": signature}, timeout=30,
                         verify=str(cluster.certificate)).status_code == 200
    deadline = time.monotonic() + 60
    while failures() < before + 1 and time.monotonic() < deadline:
        time.sleep(0.5)
    assert failures() == before + 1
