"""Exercise 12: the UserRegistered event, the users table and the welcome worker, on a real
RabbitMQ and a real Postgres.

The worker runs in its own thread with its own connections, as the real worker runs in its own
process: it sees a user only once the registration's transaction has committed.
"""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from event_publisher import RabbitPublisher
from registration_service import RegistrationService
from welcome_worker import WelcomeWorker

from seamlab.waiting import wait_for

#: ISO 8601 as every other language's strict parser reads it (RFC 3339: Java's
#: OffsetDateTime.parse, Go's time.RFC3339): 'T' between date and time, an offset with a colon.
RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})")

#: Bound on every wait for something that should happen (returns as soon as it does).
WAIT = 5.0
#: How long the next worker waits for a redelivery (the starter pays this once).
REDELIVERY_WAIT = 3.0


def register(service: RegistrationService, email: str, name: str = "Ada Lovelace") -> int:
    """Call the learner's register(); a failure to serialise becomes a readable assertion."""
    try:
        return service.register(email, name)
    except (TypeError, ValueError) as error:
        raise AssertionError(
            f"register({email!r}) raised {type(error).__name__} while publishing the event: "
            f"{error}. The unit tests' publisher keeps the Python object; RabbitMQ carries bytes, "
            f"so the event has to be turned into JSON, its datetime included. Because it failed "
            f"inside the transaction, the user was not stored either."
        ) from None


class ConsumerFirst:
    """A publisher that lets the worker handle the message before publish() returns.

    That is the race the real system loses now and then (the worker is fast, the commit is
    late), made to happen every time.
    """

    def __init__(self, inner, worker_thread, welcomes) -> None:
        self.inner = inner
        self.worker_thread = worker_thread
        self.welcomes = welcomes
        self.calls = 0
        self.handled_in_time = False

    def publish(self, event) -> None:
        self.calls += 1
        self.inner.publish(event)
        try:
            wait_for(
                lambda: self.welcomes.emails or self.worker_thread.crash is not None,
                timeout=WAIT,
                what="the worker to handle the event",
            )
            self.handled_in_time = True
        except AssertionError:
            self.handled_in_time = False


@pytest.mark.seam
def test_the_event_reaches_rabbitmq_as_json_with_an_iso_timestamp(
    engine, topology, stored_user
):
    service = RegistrationService(engine, RabbitPublisher(topology.channel, topology.exchange))

    user_id = register(service, "ada@example.org")

    body, _properties = topology.get(
        timeout=WAIT, what=f"a UserRegistered message on exchange {topology.exchange!r}"
    )
    try:
        payload = json.loads(body)
    except ValueError:
        raise AssertionError(
            f"The message on RabbitMQ is not JSON: {body[:200]!r}. Consumers in other services "
            f"parse it as JSON."
        ) from None
    assert isinstance(payload, dict), f"The message is JSON but not an object: {payload!r}"
    assert payload.get("user_id") == user_id and payload.get("email") == "ada@example.org", (
        f"register() stored user {user_id} (ada@example.org), but the message says "
        f"user_id={payload.get('user_id')!r}, email={payload.get('email')!r}."
    )
    sent = payload.get("registered_at")
    assert isinstance(sent, str), (
        f"The message carries registered_at={sent!r}; expected the registration time as ISO 8601 "
        f"text with its UTC offset, such as '2024-05-01T09:30:00.123456+00:00'."
    )
    if not RFC3339.fullmatch(sent):
        raise AssertionError(
            f"The message carries registered_at={sent!r}. Python's lenient fromisoformat may "
            f"read that, but consumers in other languages parse ISO 8601 strictly (Java's "
            f"OffsetDateTime.parse, Go's time.RFC3339 refuse it): {why_not_iso(sent)}. "
            f"Expected something like '2024-05-01T09:30:00.123456+00:00' (datetime.isoformat())."
        )
    registered_at = dt.datetime.fromisoformat(sent)  # Python 3.11+ reads 'Z' too
    row = stored_user("ada@example.org")
    assert row is not None, "The message went out, but no user ada@example.org is in Postgres."
    assert registered_at == row.registered_at, (
        f"The message says registered_at {sent}, the users row says "
        f"{row.registered_at.isoformat()}: the event must carry the stored registration time, "
        f"to the microsecond, not a time of its own or a rounded one."
    )


def why_not_iso(text: str) -> str:
    if re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}.*", text):
        return ("a space separates the date and the time where ISO 8601 needs 'T' (str() of a "
                "datetime, or json.dumps(..., default=str), writes it that way)")
    if re.search(r"[+-]\d{4}$", text):
        return "the UTC offset has no colon ('+0000' where ISO 8601 text says '+00:00')"
    if not re.search(r"(Z|[+-]\d{2}:?\d{2})$", text):
        return "it has no UTC offset, so a consumer in another time zone reads another moment"
    return "it is not of the form date 'T' time offset"


@pytest.mark.seam
def test_the_worker_finds_the_user_the_moment_the_event_arrives(
    engine, topology, run_worker, stored_user, make_welcomes
):
    welcomes = make_welcomes()
    with run_worker(WelcomeWorker(engine, welcomes)) as worker:
        publisher = ConsumerFirst(
            RabbitPublisher(topology.channel, topology.exchange), worker, welcomes
        )
        user_id = register(RegistrationService(engine, publisher), "ada@example.org")

        assert publisher.calls == 1, (
            f"register() called publish() {publisher.calls} times; expected exactly one "
            f"UserRegistered event per registration."
        )
        assert worker.crash is None, (
            f"register() published UserRegistered for user {user_id}. The worker received it at "
            f"once and looked the user up with its own database connection, and failed: "
            f"{worker.describe_crash()}. When the message left, the registration's transaction "
            f"had not committed yet, so no other connection could see the row (it is there "
            f"now that register() has returned: "
            f"{'found' if stored_user('ada@example.org') else 'not found'}). Expected: the event "
            f"goes out only once the user is committed."
        )
        assert publisher.handled_in_time, (
            f"register() published UserRegistered for user {user_id}, but the worker did not "
            f"finish with it within {WAIT:.0f} s while register() was still running. Expected: "
            f"by the time the event goes out, the user is committed and the worker can welcome "
            f"them at once."
        )
        wait_for(
            lambda: welcomes.of("ada@example.org") == 1,
            timeout=WAIT,
            what="the worker to welcome ada@example.org exactly once",
        )


HOW_WORKERS_DIE = ["send_welcome raises", "the worker process dies"]


@pytest.mark.seam
@pytest.mark.parametrize("how", HOW_WORKERS_DIE)
def test_a_message_survives_a_worker_that_crashes_before_finishing(
    engine, topology, run_worker, make_welcomes, how
):
    user_id = insert_committed_user(engine, "grace@example.org")
    dies = how == "the worker process dies"
    welcomes = make_welcomes(fail_first=True, dies=dies)

    with run_worker(WelcomeWorker(engine, welcomes), name="worker A") as worker_a:
        topology.send(event_payload(user_id, "grace@example.org"))
        try:
            wait_for(
                lambda: worker_a.crash is not None or welcomes.of("grace@example.org"),
                timeout=WAIT,
                what="worker A to take the message",
            )
        except AssertionError:
            raise AssertionError(swallowed(user_id, welcomes, topology)) from None
    if welcomes.of("grace@example.org"):
        return  # worker A put the message back itself and handled it on the next delivery

    with run_worker(WelcomeWorker(engine, welcomes), name="worker B"):
        try:
            wait_for(
                lambda: welcomes.of("grace@example.org"),
                timeout=REDELIVERY_WAIT,
                what="the message to be delivered again",
            )
        except AssertionError:
            raise AssertionError(
                f"Worker A received the UserRegistered message for user {user_id} and, while "
                f"sending the welcome email, "
                f"{'died' if dies else 'crashed'} ({worker_a.describe_crash()}). RabbitMQ "
                f"should then give the message to the next worker, but worker B received "
                f"nothing in {REDELIVERY_WAIT:g} s: worker A had acknowledged the message before "
                f"the work was done"
                + (" (an error handler that puts it back cannot run when the process dies)"
                   if dies else "")
                + ", so the broker had already thrown it away and grace@example.org is never "
                "welcomed. Expected: a message is acknowledged only after it has been handled."
            ) from None
    assert welcomes.of("grace@example.org") == 1, (
        f"grace@example.org was welcomed {welcomes.of('grace@example.org')} times; expected once."
    )


def swallowed(user_id: int, welcomes, topology) -> str:
    """Worker A neither crashed nor welcomed anyone: say what its on_message did instead."""
    if not welcomes.raised:
        return (f"Worker A was given the UserRegistered message for user {user_id} but never "
                f"called send_welcome within {WAIT:g} s, and did not crash.")
    left = topology.channel.queue_declare(topology.queue, passive=True).method.message_count
    where = ("the message is no longer in the queue: it was acknowledged (or rejected) anyway"
             if left == 0 else "the message is still in the queue")
    return (f"Worker A received the UserRegistered message for user {user_id}; send_welcome "
            f"raised ('the mail relay timed out'), and on_message caught that error and "
            f"returned as if all was well: {where}, and nobody delivers it again, so "
            f"grace@example.org is never welcomed. Expected: let the error reach pika (or "
            f"basic_nack with requeue=True) so that RabbitMQ delivers the message again.")


def test_the_worker_acknowledges_each_message_it_has_handled(
    engine, topology, run_worker, make_welcomes
):
    user_id = insert_committed_user(engine, "alan@example.org")
    welcomes = make_welcomes()

    with run_worker(WelcomeWorker(engine, welcomes)):
        topology.send(event_payload(user_id, "alan@example.org"))
        wait_for(
            lambda: welcomes.of("alan@example.org"),
            timeout=WAIT,
            what="the worker to welcome alan@example.org",
        )
    # The worker has stopped. A marker sent now comes out first unless the broker still held
    # the handled message, unacknowledged, and put it back at the head of the queue.
    topology.send({"marker": True})
    body, _ = topology.get(timeout=WAIT, what="the marker message")
    assert json.loads(body) == {"marker": True}, (
        f"The worker welcomed alan@example.org (user {user_id}) but never acknowledged the "
        f"message: when the worker stopped, RabbitMQ put it back in the queue, and every "
        f"restart would welcome alan again. Expected: acknowledge a message once it is handled."
    )


# --- helpers -----------------------------------------------------------------------------------
def insert_committed_user(engine, email: str) -> int:
    import sqlalchemy as sa

    with engine.begin() as connection:
        return connection.execute(
            sa.text(
                "INSERT INTO users (email, name, registered_at) "
                "VALUES (:email, 'Test User', now()) RETURNING id"
            ),
            {"email": email},
        ).scalar_one()


def event_payload(user_id: int, email: str) -> dict:
    return {
        "user_id": user_id,
        "email": email,
        "registered_at": dt.datetime.now(dt.UTC).isoformat(),
    }


def test_connect_opens_a_connection_to_the_broker_the_test_settings_name(
    topology, monkeypatch
):
    from event_publisher import connect

    monkeypatch.setenv("TEST_AMQP_URL", topology.amqp_url)
    connection = connect()
    try:
        connection.channel().basic_publish(
            exchange=topology.exchange, routing_key="probe", body=b'{"probe": true}'
        )
    finally:
        connection.close()
    body, _ = topology.get(timeout=WAIT, what="the probe sent through connect()'s connection")
    assert json.loads(body) == {"probe": True}, (
        f"A message sent through connect() (TEST_AMQP_URL={topology.amqp_url.rsplit('@', 1)[-1]})"
        f" arrived as {body!r}; expected the probe itself."
    )
