"""Fixtures for exercise 12: the users table, a private exchange and queue, worker threads.

Every test gets its own exchange and queue (unique names, so parallel grading runs never share a
message), bound with "#" so whatever the publisher sends to the exchange lands in the queue.
A worker runs the learner's `WelcomeWorker.on_message` in its own thread, on its own RabbitMQ
connection, with the engine's own pool: like the real worker process, it sees only what
Postgres has committed.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pika
import pytest
import sqlalchemy as sa

from seamlab.pytest_plugin import unique_name
from seamlab.waiting import wait_for

#: Every wait on the broker is bounded, so a broken starter fails in seconds instead of hanging.
BROKER_TIMEOUT = 5.0


def connection_parameters(amqp_url: str) -> pika.URLParameters:
    parameters = pika.URLParameters(amqp_url)
    parameters.connection_attempts = 1
    parameters.socket_timeout = BROKER_TIMEOUT
    parameters.blocked_connection_timeout = BROKER_TIMEOUT
    return parameters


@pytest.fixture(scope="session")
def engine(db_engine: sa.Engine) -> sa.Engine:
    from user_tables import metadata

    metadata.create_all(db_engine)
    return db_engine


@pytest.fixture(autouse=True)
def no_users_yet(engine: sa.Engine) -> None:
    with engine.begin() as connection:
        connection.execute(sa.text("DELETE FROM users"))


@pytest.fixture
def stored_user(engine: sa.Engine):
    """Returns the committed row for an email (id, email, name, registered_at), or None."""

    def read(email: str):
        with engine.connect() as connection:
            return connection.execute(
                sa.text("SELECT id, email, name, registered_at FROM users WHERE email = :email"),
                {"email": email},
            ).one_or_none()

    return read


@dataclass
class Topology:
    amqp_url: str
    exchange: str
    queue: str
    connection: pika.BlockingConnection
    channel: pika.adapters.blocking_connection.BlockingChannel

    def get(self, timeout: float = 3.0, what: str = "a message in the queue"):
        """The next message in the queue as (body, properties), acknowledged; polls until a
        deadline."""

        def one():
            method, properties, body = self.channel.basic_get(self.queue, auto_ack=True)
            return (body, properties) if method is not None else None

        return wait_for(one, timeout=timeout, interval=0.01, what=what)

    def send(self, payload: dict) -> None:
        """Publish a message as the accounts service would, straight to the queue."""
        self.channel.basic_publish(
            exchange="",
            routing_key=self.queue,
            body=json.dumps(payload).encode(),
            properties=pika.BasicProperties(content_type="application/json"),
        )


@pytest.fixture
def topology(amqp_url: str) -> Iterator[Topology]:
    exchange = unique_name("seamlab11-accounts")
    queue = unique_name("seamlab11-welcome")
    connection = pika.BlockingConnection(connection_parameters(amqp_url))
    channel = connection.channel()
    channel.exchange_declare(exchange, exchange_type="topic", auto_delete=False)
    # x-expires: should this run be killed, RabbitMQ removes the queue by itself a minute later.
    channel.queue_declare(queue, arguments={"x-expires": 60_000})
    channel.queue_bind(queue, exchange, routing_key="#")
    try:
        yield Topology(amqp_url, exchange, queue, connection, channel)
    finally:
        try:
            if channel.is_open:
                channel.queue_delete(queue)
                channel.exchange_delete(exchange)
            connection.close()
        except pika.exceptions.AMQPError:
            pass


class WorkerProcessDied(BaseException):
    """Stands in for the worker process dying mid-message (kill -9, out of memory): like a
    real death it is no ``Exception``, so ``except Exception`` in the worker cannot see it."""


class Welcomes:
    """Stands in for the welcome email: records who was welcomed; can fail the first call,
    with the mail relay's error (``fail_first=True``) or with the worker's death."""

    def __init__(self, fail_first: bool = False, dies: bool = False) -> None:
        self.emails: list[str] = []
        self.failures = 1 if fail_first else 0
        self.dies = dies
        self.raised = 0
        self.lock = threading.Lock()

    def __call__(self, user) -> None:
        with self.lock:
            if self.failures:
                self.failures -= 1
                self.raised += 1
                if self.dies:
                    raise WorkerProcessDied("the worker process died while sending the welcome "
                                            "(planted by the test)")
                raise RuntimeError("the mail relay timed out (a failure planted by the test)")
            self.emails.append(user.email)

    def of(self, email: str) -> int:
        with self.lock:
            return self.emails.count(email)


@pytest.fixture
def make_welcomes():
    """Factory: `make_welcomes(fail_first=False, dies=False)`, the stand-in for the welcome
    email (``dies``: the first call dies like the process would, instead of raising)."""
    return Welcomes


class WorkerThread(threading.Thread):
    """Runs `worker.on_message` as a pika consumer until stopped, or until it raises."""

    def __init__(self, topology: Topology, worker, name: str) -> None:
        super().__init__(name=name, daemon=True)
        self.topology = topology
        self.worker = worker
        self.crash: BaseException | None = None
        self.ready = threading.Event()
        self.stopping = threading.Event()

    def run(self) -> None:
        connection = None
        try:
            connection = pika.BlockingConnection(connection_parameters(self.topology.amqp_url))
            channel = connection.channel()
            channel.basic_qos(prefetch_count=1)
            channel.basic_consume(self.topology.queue, self.worker.on_message)
            self.ready.set()
            while not self.stopping.is_set():
                connection.process_data_events(time_limit=0.02)
        except BaseException as error:  # noqa: BLE001 - a crash is what some tests wait for
            self.crash = error
        finally:
            self.ready.set()
            # The worker process is gone: its connection closes, and RabbitMQ gives every
            # message it had not acknowledged to the next consumer.
            if connection is not None and connection.is_open:
                try:
                    connection.close()
                except pika.exceptions.AMQPError:
                    pass

    @property
    def crashed(self) -> bool:
        return self.crash is not None and not self.is_alive()

    def describe_crash(self) -> str:
        return f"{type(self.crash).__name__}: {self.crash}"


@pytest.fixture
def run_worker(topology: Topology):
    """Context manager factory: `with run_worker(worker) as thread:` consumes the test's queue."""
    threads: list[WorkerThread] = []

    @contextmanager
    def start(worker, name: str = "worker") -> Iterator[WorkerThread]:
        thread = WorkerThread(topology, worker, name)
        threads.append(thread)
        thread.start()
        if not thread.ready.wait(BROKER_TIMEOUT) or thread.crash is not None:
            raise AssertionError(
                f"The test's own consumer could not start on RabbitMQ at "
                f"{topology.amqp_url.rsplit('@', 1)[-1]}: {thread.crash!r}"
            )
        try:
            yield thread
        finally:
            thread.stopping.set()
            thread.join(BROKER_TIMEOUT)

    yield start
    for thread in threads:
        thread.stopping.set()
        thread.join(BROKER_TIMEOUT)
