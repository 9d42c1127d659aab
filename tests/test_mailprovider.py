"""The mail provider as a client sees it: a real server on a socket, driven through HTTP."""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from mailprovider.journal import Fault, FaultError, FaultQueue
from mailprovider.server import MailProviderServer

from seamlab.waiting import wait_for

EMAIL = {"to": "ada@example.com", "subject": "Welcome!", "text": "Hello Ada"}


# One client for the module: creating an httpx client (its TLS context) costs ~50 ms.
_client = httpx.Client(timeout=10.0)


@pytest.fixture(scope="module", autouse=True)
def _close_the_client():
    yield
    _client.close()


def send(url: str, payload: dict = EMAIL, **kwargs) -> httpx.Response:
    return _client.post(f"{url}/api/emails/send", json=payload, **kwargs)


def test_accepts_an_email_with_202_and_a_message_id(mail_provider):
    response = send(mail_provider.url)

    assert response.status_code == 202
    assert response.json()["messageId"]
    assert mail_provider.sent_emails() == [EMAIL]


def test_journal_records_method_path_headers_body_time_and_status(mail_provider):
    send(mail_provider.url, headers={"X-Request-Id": "r-1"})

    [entry] = mail_provider.requests()
    assert entry["method"] == "POST"
    assert entry["path"] == "/api/emails/send"
    assert entry["headers"]["x-request-id"] == "r-1"
    assert entry["json"] == EMAIL
    assert "Hello Ada" in entry["body"]
    assert entry["received_at"].endswith("+00:00")
    assert entry["response_status"] == 202


def test_journals_other_paths_but_not_the_admin_api(mail_provider):
    _client.get(f"{mail_provider.url}/api/unknown")
    mail_provider.health()

    assert [(r["path"], r["response_status"]) for r in mail_provider.requests()] == [
        ("/api/unknown", 404)
    ]


@pytest.mark.parametrize(
    ("payload", "problem"),
    [
        ({"subject": "s", "text": "t"}, "'to' is required"),
        ({**EMAIL, "to": "not-an-address"}, "must be an email address"),
        ({**EMAIL, "subject": 42}, "'subject' must be a string"),
        ({**EMAIL, "recipient": "a@b.c"}, "unknown field 'recipient'"),
    ],
)
def test_rejects_an_invalid_email_with_422_and_says_why(mail_provider, payload, problem):
    response = send(mail_provider.url, payload)

    assert response.status_code == 422
    assert problem in response.json()["message"]
    assert mail_provider.sent_emails() == []


def test_version_2_calls_the_recipient_recipient_and_answers_201_with_an_id():
    with MailProviderServer(version=2) as server:
        old_style = send(server.url)
        new_style = send(server.url, {"recipient": "ada@example.com", "subject": "s", "text": "t"})
        with server.handle() as handle:
            sent = handle.sent_emails()

    assert old_style.status_code == 422
    assert "'recipient'" in old_style.json()["message"]
    assert new_style.status_code == 201
    assert set(new_style.json()) == {"id"}
    assert sent == [{"recipient": "ada@example.com", "subject": "s", "text": "t"}]


def test_fail_next_answers_the_status_for_the_next_n_calls_then_recovers(mail_provider):
    mail_provider.fail_next(status=503, times=2)

    statuses = [send(mail_provider.url).status_code for _ in range(3)]

    assert statuses == [503, 503, 202]
    assert len(mail_provider.sent_emails()) == 1


def test_a_programmed_fault_answers_with_the_given_body(mail_provider):
    mail_provider.fail_next(status=429, body={"error": "rate limited"})

    response = send(mail_provider.url)

    assert (response.status_code, response.json()) == (429, {"error": "rate limited"})
    assert mail_provider.send_requests()[0]["response_status"] == 429


def test_a_delay_longer_than_the_client_timeout_makes_the_client_time_out(mail_provider):
    mail_provider.delay_next(5.0)

    with pytest.raises(httpx.ReadTimeout):
        send(mail_provider.url, timeout=httpx.Timeout(0.3, connect=2.0))

    [entry] = mail_provider.send_requests()
    assert entry["fault"]["delay"] == 5.0
    wait_for(
        lambda: mail_provider.send_requests()[0].get("outcome"),
        what="the provider to notice that the client hung up during the delay",
    )
    assert mail_provider.sent_emails() == []


def test_a_delay_shorter_than_the_client_timeout_still_delivers(mail_provider):
    mail_provider.delay_next(0.05)

    response = send(mail_provider.url, timeout=5.0)

    assert response.status_code == 202
    assert mail_provider.sent_emails() == [EMAIL]


def test_drop_next_closes_the_connection_without_any_response(mail_provider):
    mail_provider.drop_next()

    with httpx.Client() as client:
        client.get(f"{mail_provider.url}/warm-up")  # also on a reused keep-alive connection
        with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
            client.post(f"{mail_provider.url}/api/emails/send", json=EMAIL)
        after = client.post(f"{mail_provider.url}/api/emails/send", json=EMAIL)

    assert after.status_code == 202
    dropped = mail_provider.send_requests()[0]
    assert dropped["response_status"] is None
    assert "dropped" in dropped["outcome"]


def test_reset_forgets_the_journal_and_pending_faults(mail_provider):
    send(mail_provider.url)
    mail_provider.fail_next(times=3)

    mail_provider.reset()

    assert mail_provider.requests() == []
    assert mail_provider.pending_faults() == []
    assert send(mail_provider.url).status_code == 202


def test_clearing_requests_keeps_pending_faults(mail_provider):
    send(mail_provider.url)
    mail_provider.fail_next()

    mail_provider.clear_requests()

    assert mail_provider.requests() == []
    assert send(mail_provider.url).status_code == 500


def test_a_fault_that_makes_no_sense_is_refused_with_the_reason(mail_provider):
    response = _client.post(
        f"{mail_provider.url}/__admin/faults", json={"status": 500, "drop": True}
    )

    assert response.status_code == 422
    assert "either status or drop" in response.json()["message"]


def test_concurrent_sends_are_all_journaled(mail_provider):
    payloads = [{**EMAIL, "subject": f"mail {i}"} for i in range(24)]

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(lambda p: send(mail_provider.url, p).status_code, payloads))

    assert statuses == [202] * 24
    subjects = sorted(email["subject"] for email in mail_provider.sent_emails())
    assert subjects == sorted(p["subject"] for p in payloads)


def test_a_stopped_server_refuses_connections():
    server = MailProviderServer().start()
    url = server.url
    assert send(url).status_code == 202

    server.stop()

    with pytest.raises(httpx.ConnectError):
        send(url, timeout=2.0)


def test_runs_from_the_command_line_on_the_port_it_announces():
    with subprocess.Popen(
        [sys.executable, "-m", "mailprovider", "--port", "0", "--version", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    ) as process:
        try:
            banner = process.stdout.readline()
            url = banner.split(" on ", 1)[1].strip()
            health = wait_for(
                lambda: _client.get(f"{url}/__admin/health", timeout=1.0).json(),
                timeout=10.0,
                what=f"the mail provider started by the CLI to answer at {url}",
            )
        finally:
            process.terminate()
            process.wait(timeout=10)

    assert health == {"status": "ok", "version": 2}


def test_the_command_line_names_the_port_it_cannot_use(mail_provider):
    port = mail_provider.url.rsplit(":", 1)[1]
    result = subprocess.run(
        [sys.executable, "-m", "mailprovider", "--port", port],
        check=False,
        capture_output=True,
        text=True,
        timeout=30,
    )

    assert result.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr


# --- the fault queue on its own ----------------------------------------------------------------
def test_faults_apply_in_the_order_they_were_programmed():
    queue = FaultQueue()
    queue.add(Fault(status=500), times=2)
    queue.add(Fault(drop=True))

    taken = [queue.take() for _ in range(4)]

    assert taken == [Fault(status=500), Fault(status=500), Fault(drop=True), None]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ({}, "at least one of"),
        ({"status": 42}, "HTTP status code"),
        ({"delay": -1}, "delay must be"),
        ({"status": 500, "times": 0}, "times must be"),
        ({"status": 500, "colour": "red"}, "unknown fault field"),
        ([500], "JSON object"),
    ],
)
def test_a_fault_definition_is_checked_field_by_field(data, reason):
    with pytest.raises(FaultError, match=reason):
        Fault.from_json(data)
