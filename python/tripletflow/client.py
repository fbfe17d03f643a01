"""The trainer's side of tripletflow over Kafka: publishes embedding batches and hands back the
gradient batch that answers each one, matched by (stream key, batch id). The Python twin of
``io.tripletflow.trainer.TrainerClient``: same options, same counters, same rules.

    from tripletflow.client import TrainerClient
    from tripletflow import wire

    with TrainerClient("127.0.0.1:9092", stream_keys=["trainer-1"], max_in_flight=8) as client:
        batch = wire.EmbeddingBatch(batch_id=1, model_step=0, created_ms=wire.now_ms(),
                                    labels=labels, embeddings=emb)
        answer = client.submit(batch, "trainer-1")     # blocks while 8 batches are outstanding
        g = answer.result(30)                          # a wire.GradientBatch, or raises (below)
        g = client.exchange(next_batch, timeout=30)    # one blocking round trip

**Receiving.** One background thread (``<client_id>-receiver``) polls a ``read_committed`` consumer
assigned to every partition of the gradient topic(s) and of the dead-letter topic. The constructor
positions it at the *end* of every partition before it returns, so no answer to a batch submitted
afterwards can be missed. Answers to batch ids this client never submitted (another trainer, an
earlier run) are counted as ``unknown_answers``; records that fail the wire checks as
``invalid_answers``.

**Each batch once.** Every answer passes a ``Deduplicator`` (a window of ``deduplication_window``
ids per stream key): a future completes with the first answer to its batch; a replay, or an answer
arriving after its future failed, timed out or was cancelled, is dropped and counted as a
``duplicate_answers``. Batch ids must therefore increase per stream key: ``submit`` refuses an id
the deduplicator would refuse.

**Failures.** A batch the job refuses goes to the dead-letter topic unchanged (stream key = record
key, batch id at offset 8 of the value) with headers ``tripletflow.reason`` and
``tripletflow.detail``: its future fails with ``DeadLetterError`` naming both. A batch not answered
within ``answer_timeout`` seconds fails with ``AnswerTimeout``; so does ``exchange`` past its
timeout. A publish the broker refuses fails with ``PublishError``; ``close()`` fails what is left
with ``ClientClosed``.

**Back-pressure.** At most ``max_in_flight`` batches are outstanding; ``submit`` blocks until one
completes (answered, failed, timed out or cancelled), at most ``timeout`` seconds when given, then
raises ``TimeoutError`` without publishing.

**Threads.** Every method is thread-safe. Futures (``concurrent.futures.Future``) complete on the
receiver thread, after the client's own bookkeeping, so ``stats()`` is current when a caller sees
the answer; keep ``add_done_callback`` callbacks short.

With a gradient topic template containing ``{key}`` (e.g. ``gradients.{key}``) the stream keys must
be declared (``stream_keys``) so the client can read their topics; declared keys also restrict what
``submit`` accepts.
"""

from __future__ import annotations

import logging
import struct
import threading
import time
import uuid
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Dict, Iterable, Optional, Tuple

from . import wire
from .dedup import DEFAULT_WINDOW, FIRST, Deduplicator

LOG = logging.getLogger(__name__)

DEFAULT_DEAD_LETTER_TOPIC = "embeddings.dead-letters"
REASON_HEADER = "tripletflow.reason"
DETAIL_HEADER = "tripletflow.detail"
# How long one consumer poll blocks when nothing arrives: it bounds how late a timeout or close() is seen.
POLL_SECONDS = 0.05


class DeadLetterError(Exception):
    """The job refused a batch and wrote it to the dead-letter topic."""

    def __init__(self, stream_key: str, batch_id: int, reason: str, detail: str, topic: str):
        super().__init__(f"batch {batch_id} of stream '{stream_key}' was dead-lettered by the job "
                         f"(topic '{topic}'): reason {reason}: {detail}")
        self.stream_key, self.batch_id, self.reason, self.detail, self.topic = stream_key, batch_id, reason, detail, topic


class AnswerTimeout(TimeoutError):
    """No answer to a batch within its timeout (the batch is given up; a late answer is dropped)."""

    def __init__(self, stream_key: str, batch_id: int, seconds: float):
        super().__init__(f"no answer to batch {batch_id} of stream '{stream_key}' within {seconds:g} s")
        self.stream_key, self.batch_id, self.seconds = stream_key, batch_id, seconds


class PublishError(RuntimeError):
    """The broker did not take a batch (the producer's delivery report)."""


class ClientClosed(RuntimeError):
    """The client was closed, or its receiver failed, before the answer arrived."""


@dataclass(frozen=True)
class Stats:
    """Counters of one client (each value read once; TrainerClient.Stats plus dead letters)."""
    submitted: int
    answered: int
    failed: int
    duplicate_answers: int
    unknown_answers: int
    invalid_answers: int
    dead_letters: int
    in_flight: int

    @property
    def unmatched_answers(self) -> int:
        """Answers that matched nothing outstanding: duplicates, unknown ids and invalid records."""
        return self.duplicate_answers + self.unknown_answers + self.invalid_answers


class PendingAnswer(Future):
    """The future of one batch's answer (a ``wire.GradientBatch``), with its identity and timing."""

    def __init__(self, stream_key: str, batch_id: int):
        super().__init__()
        self.stream_key = stream_key
        self.batch_id = batch_id
        self.sent_at = time.monotonic()
        self.completed_at: Optional[float] = None

    @property
    def round_trip_seconds(self) -> Optional[float]:
        """Seconds from submit to the answer (None until answered)."""
        return None if self.completed_at is None else self.completed_at - self.sent_at


class TrainerClient:
    """Publishes embedding batches and matches the job's answers; see the module's doc.

    ``kafka_config`` goes to both clients (after the defaults, before ``producer_config`` and
    ``consumer_config``): what a secured cluster needs, under librdkafka's names, e.g.
    ``{"security.protocol": "SASL_SSL", "sasl.mechanism": "SCRAM-SHA-512", "sasl.username": "...",
    "sasl.password": "...", "ssl.ca.location": "/etc/kafka/ca.pem"}`` (the job's ``--kafka.*``
    options, but librdkafka has no JAAS and no PKCS12 trust stores).

    ``producer`` and ``consumer`` replace the confluent_kafka clients (tests pass fakes with the same
    methods: ``produce``, ``poll``, ``flush``; ``list_topics``, ``get_watermark_offsets``, ``assign``,
    ``poll``, ``close``).
    """

    def __init__(self, bootstrap_servers: str, embeddings_topic: str = "embeddings",
                 gradients_topic: str = "gradients", stream_keys: Iterable[str] = (), max_in_flight: int = 8,
                 dead_letter_topic: Optional[str] = DEFAULT_DEAD_LETTER_TOPIC,
                 deduplication_window: int = DEFAULT_WINDOW, client_id: Optional[str] = None,
                 answer_timeout: Optional[float] = None, start_timeout: float = 30.0,
                 max_rows: int = wire.DEFAULT_MAX_ROWS, max_dimension: int = wire.DEFAULT_MAX_DIMENSION,
                 max_record_bytes: int = wire.DEFAULT_MAX_RECORD_BYTES,
                 producer_config: Optional[dict] = None, consumer_config: Optional[dict] = None,
                 kafka_config: Optional[dict] = None, producer=None, consumer=None):
        if max_in_flight < 1:
            raise ValueError(f"max_in_flight must be >= 1, got {max_in_flight}")
        if deduplication_window < 1:
            raise ValueError(f"deduplication_window must be >= 1, got {deduplication_window}")
        if not embeddings_topic or not gradients_topic:
            raise ValueError("topic names must not be empty")
        keys = list(dict.fromkeys(stream_keys))
        templated = "{key}" in gradients_topic
        if templated and not keys:
            raise ValueError(f"gradients topic '{gradients_topic}' depends on the stream key: declare the keys "
                             "with stream_keys=[...]")
        self.embeddings_topic = embeddings_topic
        self.gradient_topics = list(dict.fromkeys(gradients_topic.replace("{key}", k) for k in keys)) \
            if templated else [gradients_topic]
        self.stream_keys = tuple(keys) or None
        self.max_in_flight = max_in_flight
        self.answer_timeout = answer_timeout
        self._bounds = dict(max_rows=max_rows, max_dimension=max_dimension, max_record_bytes=max_record_bytes)
        self.client_id = client_id or f"tripletflow-trainer-{uuid.uuid4().hex[:8]}"

        self._lock = threading.Condition(threading.RLock())
        self._pending: Dict[Tuple[str, int], Tuple[PendingAnswer, Optional[float]]] = {}
        self._answers = Deduplicator(max(deduplication_window, max_in_flight),
                                     len(keys) if keys else 4096)
        self._submitted = self._answered = self._failed = 0
        self._duplicates = self._unknown = self._invalid = self._dead_letters = 0
        self._closed = False
        self._receiver_failure: Optional[BaseException] = None

        if producer is None or consumer is None:
            from confluent_kafka import Consumer, Producer
        if producer is None:
            # linger.ms 0: send each batch at once (librdkafka waits 5 ms for company by default).
            producer = Producer({"bootstrap.servers": bootstrap_servers, "client.id": self.client_id + "-embeddings",
                                 "acks": "all", "enable.idempotence": True, "linger.ms": 0,
                                 "socket.nagle.disable": True, "message.max.bytes": max(1_000_000, max_record_bytes + 1024),
                                 **(kafka_config or {}), **(producer_config or {})})
        if consumer is None:
            # read_committed: answers of aborted exactly-once attempts are never seen. fetch.wait.max.ms
            # bounds how long the broker holds an empty fetch (librdkafka's default: 500 ms).
            consumer = Consumer({"bootstrap.servers": bootstrap_servers, "client.id": self.client_id + "-gradients",
                                 "group.id": f"{self.client_id}-{uuid.uuid4()}", "isolation.level": "read_committed",
                                 "enable.auto.commit": False, "auto.offset.reset": "latest",
                                 "fetch.wait.max.ms": 10, "socket.nagle.disable": True,
                                 **(kafka_config or {}), **(consumer_config or {})})
        self._producer, self._consumer = producer, consumer
        try:
            assignment = []
            for topic in self.gradient_topics:
                assignment += self._partitions_at_end(topic, start_timeout, required=True)
            self.dead_letter_topic = None
            if dead_letter_topic:
                dead = self._partitions_at_end(dead_letter_topic, min(start_timeout, 5.0), required=False)
                if dead:
                    self.dead_letter_topic = dead_letter_topic
                    assignment += dead
                else:
                    LOG.warning("dead-letter topic '%s' not found: refused batches will time out instead of "
                                "failing with DeadLetterError", dead_letter_topic)
            consumer.assign(assignment)
        except BaseException:
            consumer.close()
            raise
        self._receiver = threading.Thread(target=self._receive, name=self.client_id + "-receiver", daemon=True)
        self._receiver.start()

    # ---- Submitting

    def submit(self, batch: wire.EmbeddingBatch, stream_key: Optional[str] = None,
               timeout: Optional[float] = None) -> PendingAnswer:
        """Publishes ``batch`` under ``stream_key`` (default: the only declared key) and returns the
        future of its answer; blocks while ``max_in_flight`` batches are outstanding, at most
        ``timeout`` seconds (then ``TimeoutError``, nothing published).

        Raises ValueError if the batch exceeds the wire bounds, its stream key was not declared, the
        same (stream key, batch id) is in flight, or the id was answered before or lies below the
        deduplication window (ids must increase per stream key); ClientClosed if closed."""
        key = self._stream_key(stream_key)
        value = wire.encode_embedding_batch(batch, **self._bounds)
        batch_id = int(batch.batch_id)
        ident = (key, batch_id)
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._lock:
            if self._answers.would_refuse(key, batch_id):
                raise ValueError(f"batch {batch_id} of stream '{key}': its answer would be dropped as a duplicate, "
                                 f"because this batch id was answered before or lies below the deduplication window "
                                 f"of {self._answers.window} batches; batch ids must increase per stream key")
            if ident in self._pending:
                raise ValueError(f"batch {batch_id} of stream '{key}' is already in flight")
            while True:
                self._check_open()
                if len(self._pending) < self.max_in_flight:
                    break
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    raise TimeoutError(f"{self.max_in_flight} batches still in flight after {timeout:g} s; "
                                       f"batch {batch_id} of stream '{key}' was not published")
                self._lock.wait(POLL_SECONDS if left is None else min(left, POLL_SECONDS))
            answer = PendingAnswer(key, batch_id)
            expires = None if self.answer_timeout is None else answer.sent_at + self.answer_timeout
            self._pending[ident] = (answer, expires)
            self._submitted += 1
        answer.add_done_callback(lambda f: self._given_up(ident, f))
        try:
            self._producer.produce(self.embeddings_topic, key=key.encode("utf-8"), value=value,
                                   on_delivery=lambda err, _msg: err is None or self._settle(
                                       ident, error=PublishError(f"could not publish batch {batch_id} of stream "
                                                                 f"'{key}' to '{self.embeddings_topic}': {err}")))
            self._producer.poll(0)
        except Exception as e:  # noqa: BLE001 - any producer failure fails this batch, not the client
            self._settle(ident, error=PublishError(f"could not publish batch {batch_id} of stream '{key}': {e}"))
        return answer

    def exchange(self, batch: wire.EmbeddingBatch, timeout: float, stream_key: Optional[str] = None) -> wire.GradientBatch:
        """One blocking round trip within ``timeout`` seconds: ``AnswerTimeout`` after it (the batch is
        given up, a late answer dropped), ``DeadLetterError`` if the job refused the batch."""
        deadline = time.monotonic() + timeout
        answer = self.submit(batch, stream_key, timeout)
        try:
            return answer.result(max(0.0, deadline - time.monotonic()))
        except (TimeoutError, FutureTimeout):
            if answer.done() and not answer.cancelled() and answer.exception() is not None:
                raise
            self._settle((answer.stream_key, answer.batch_id), error=AnswerTimeout(answer.stream_key, answer.batch_id,
                                                                                    timeout))
            raise AnswerTimeout(answer.stream_key, answer.batch_id, timeout) from None

    def _stream_key(self, stream_key: Optional[str]) -> str:
        if stream_key is None:
            if self.stream_keys is None or len(self.stream_keys) != 1:
                raise ValueError("stream_key is required unless exactly one stream key was declared")
            return self.stream_keys[0]
        if self.stream_keys is not None and stream_key not in self.stream_keys:
            raise ValueError(f"stream key '{stream_key}' was not declared; this client serves {list(self.stream_keys)}")
        return stream_key

    def _check_open(self):
        if self._receiver_failure is not None:
            raise ClientClosed(f"the gradient receiver failed: {self._receiver_failure}")
        if self._closed:
            raise ClientClosed("TrainerClient is closed")

    # ---- Completing

    def _settle(self, ident, result: Optional[wire.GradientBatch] = None, error: Optional[BaseException] = None):
        """Completes the batch's future once: bookkeeping first (so stats() is current), then the future."""
        with self._lock:
            entry = self._pending.pop(ident, None)
            if entry is None:
                return False
            if error is None:
                self._answered += 1
            else:
                self._failed += 1
                # Given up: an answer arriving after this is dropped as a duplicate, not taken as unknown.
                self._answers.offer(*ident)
            self._lock.notify_all()
        answer = entry[0]
        answer.completed_at = time.monotonic()
        try:
            if error is None:
                answer.set_result(result)
            else:
                answer.set_exception(error)
        except Exception:  # noqa: BLE001 - cancelled by the caller meanwhile (InvalidStateError)
            pass
        return True

    def _given_up(self, ident, future: Future):
        """A done callback: a future the caller cancelled frees its slot."""
        if future.cancelled():
            with self._lock:
                entry = self._pending.get(ident)
                if entry is not None and entry[0] is future:
                    del self._pending[ident]
                    self._failed += 1
                    self._answers.offer(*ident)
                    self._lock.notify_all()

    # ---- Receiving

    def _receive(self):
        try:
            while not self._closed:
                msg = self._consumer.poll(POLL_SECONDS)
                if msg is not None:
                    self.handle(msg)
                self._producer.poll(0)
                self._expire(time.monotonic())
        except BaseException as e:  # noqa: BLE001 - recorded, every future failed
            if not self._closed:
                LOG.error("gradient receiver of %s failed", self.gradient_topics, exc_info=True)
                self._receiver_failure = e
                self._fail_all(ClientClosed(f"the gradient receiver failed: {e}"))
        finally:
            try:
                self._consumer.close()
            except Exception:  # noqa: BLE001
                LOG.debug("closing the gradient consumer", exc_info=True)

    def handle(self, msg) -> str:
        """Takes one consumed record (a confluent_kafka Message or the like): an answer or a dead
        letter. Returns what it was: 'answer', 'duplicate', 'unknown', 'invalid', 'dead-letter',
        'other-dead-letter' or 'error'. Called by the receiver thread; public for tests."""
        err = msg.error()
        if err is not None:
            if getattr(err, "fatal", lambda: False)():
                raise RuntimeError(f"fatal consumer error: {err}")
            if "PARTITION_EOF" not in str(getattr(err, "name", lambda: "")()):
                LOG.warning("gradient consumer: %s", err)
            return "error"
        if msg.topic() == self.dead_letter_topic:
            return self._dead_letter(msg)
        try:
            key = msg.key()
            if not key:
                raise wire.InvalidRecord("MISSING_KEY", "stream key", "no Kafka key")
            try:
                stream_key = key.decode("utf-8")
            except UnicodeDecodeError:
                raise wire.InvalidRecord("BAD_KEY", "stream key", "not UTF-8") from None
            g = wire.decode_gradient_batch(msg.value(), **self._bounds)
        except wire.InvalidRecord as e:
            with self._lock:
                self._invalid += 1
            LOG.warning("ignoring an invalid gradient record at %s-%s@%s: %s", msg.topic(), msg.partition(),
                        msg.offset(), e)
            return "invalid"
        ident = (stream_key, g.batch_id)
        with self._lock:
            entry = self._pending.get(ident)
            if entry is None and not self._answers.would_refuse(*ident):
                self._unknown += 1  # another trainer's batch, or an earlier run's
                return "unknown"
            if self._answers.offer(*ident) != FIRST:
                self._duplicates += 1
                return "duplicate"
        self._settle(ident, result=g)
        return "answer"

    def _dead_letter(self, msg) -> str:
        key, value = msg.key(), msg.value() or b""
        headers = {k: (v or b"").decode("utf-8", "replace") for k, v in (msg.headers() or [])}
        with self._lock:
            self._dead_letters += 1
        try:
            stream_key = key.decode("utf-8") if key else None
        except UnicodeDecodeError:
            stream_key = None
        if stream_key is None or len(value) < 16:
            return "other-dead-letter"      # no stream key or no batch id: not a batch this client could send
        batch_id = struct.unpack_from("<q", value, 8)[0]
        ok = self._settle((stream_key, batch_id), error=DeadLetterError(
            stream_key, batch_id, headers.get(REASON_HEADER, "unknown"), headers.get(DETAIL_HEADER, ""), msg.topic()))
        return "dead-letter" if ok else "other-dead-letter"

    def _expire(self, now: float):
        with self._lock:
            late = [(ident, e[0]) for ident, e in self._pending.items() if e[1] is not None and e[1] <= now]
        for ident, answer in late:
            self._settle(ident, error=AnswerTimeout(ident[0], ident[1], self.answer_timeout))

    def _fail_all(self, error: BaseException):
        with self._lock:
            idents = list(self._pending)
        for ident in idents:
            self._settle(ident, error=error)

    # ---- State

    @property
    def in_flight(self) -> int:
        """Batches submitted and not yet answered, failed, cancelled or timed out."""
        with self._lock:
            return len(self._pending)

    def stats(self) -> Stats:
        with self._lock:
            return Stats(self._submitted, self._answered, self._failed, self._duplicates, self._unknown,
                         self._invalid, self._dead_letters, len(self._pending))

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self):
        """Stops receiving, fails the outstanding futures (``ClientClosed``), wakes blocked ``submit``
        calls and flushes the producer. Idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._lock.notify_all()
        if threading.current_thread() is not self._receiver:
            self._receiver.join(5)
        self._fail_all(ClientClosed("TrainerClient closed before the answer arrived"))
        try:
            self._producer.flush(5)
        except Exception:  # noqa: BLE001
            LOG.debug("flushing the embeddings producer", exc_info=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ---- Kafka set-up

    def _partitions_at_end(self, topic: str, timeout: float, required: bool):
        """Every partition of ``topic`` at its end offset (resolved now, before any submit)."""
        from confluent_kafka import TopicPartition
        deadline = time.monotonic() + timeout
        while True:
            meta = self._consumer.list_topics(topic, timeout=max(0.5, min(5.0, deadline - time.monotonic())))
            t = meta.topics.get(topic)
            if t is not None and t.error is None and t.partitions:
                break
            if time.monotonic() > deadline:
                if required:
                    raise ClientClosed(f"gradient topic '{topic}' not found within {timeout:g} s "
                                       "(is the job running, or the topic created?)")
                return []
            time.sleep(0.1)
        out = []
        for p in sorted(t.partitions):
            _, high = self._consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=max(1.0, timeout))
            out.append(TopicPartition(topic, p, high))
        return out
