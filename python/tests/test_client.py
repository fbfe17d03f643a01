"""TrainerClient's matching, deduplication, dead letters, timeouts and window, with fake Kafka clients."""
import struct
import threading
import time
import unittest
from types import SimpleNamespace

import numpy as np

from tripletflow import wire
from tripletflow.client import AnswerTimeout, ClientClosed, DeadLetterError, TrainerClient


class FakeMessage:
    def __init__(self, topic, key, value, headers=None, error=None):
        self._t, self._k, self._v, self._h, self._e = topic, key, value, headers, error

    def topic(self): return self._t
    def key(self): return self._k
    def value(self): return self._v
    def headers(self): return self._h
    def error(self): return self._e
    def partition(self): return 0
    def offset(self): return 0


class FakeProducer:
    def __init__(self):
        self.sent = []

    def produce(self, topic, key, value, on_delivery=None):
        self.sent.append((topic, key, value))

    def poll(self, timeout): return 0
    def flush(self, timeout): return 0


class FakeConsumer:
    """Topics with partitions; messages queued by the test; assign() recorded."""

    def __init__(self, topics):
        self.topics, self.queue, self.assigned, self.lock = topics, [], None, threading.Lock()

    def list_topics(self, topic, timeout):
        parts = self.topics.get(topic)
        meta = None if parts is None else SimpleNamespace(error=None, partitions={p: None for p in range(parts)})
        return SimpleNamespace(topics={topic: meta} if meta else {})

    def get_watermark_offsets(self, tp, timeout): return (0, 42)
    def assign(self, partitions): self.assigned = partitions

    def poll(self, timeout):
        with self.lock:
            if self.queue:
                return self.queue.pop(0)
        time.sleep(min(timeout, 0.005))
        return None

    def close(self): pass

    def push(self, msg):
        with self.lock:
            self.queue.append(msg)


def batch(batch_id, rows=4, dim=3):
    return wire.EmbeddingBatch(batch_id, 0, 0, np.array([0, 0, 1, 1][:rows], np.int32),
                               np.ones((rows, dim), np.float32))


def answer(batch_id, loss=0.5, rows=4, dim=3):
    return wire.encode_gradient_batch(wire.GradientBatch(batch_id, 0, 0, 0, loss, 1, 1,
                                                         np.full((rows, dim), batch_id, np.float32)))


class ClientTest(unittest.TestCase):
    def make(self, **kw):
        self.producer = FakeProducer()
        self.consumer = FakeConsumer({"gradients": 2, "gradients.k": 1, "embeddings.dead-letters": 1})
        c = TrainerClient("fake:9092", stream_keys=["k"], producer=self.producer, consumer=self.consumer, **kw)
        self.addCleanup(c.close)
        return c

    def test_assigns_every_partition_at_the_end_and_publishes_keyed(self):
        c = self.make()
        self.assertEqual(sorted((tp.topic, tp.partition, tp.offset) for tp in self.consumer.assigned),
                         [("embeddings.dead-letters", 0, 42), ("gradients", 0, 42), ("gradients", 1, 42)])
        c.submit(batch(1))
        topic, key, value = self.producer.sent[0]
        self.assertEqual((topic, key), ("embeddings", b"k"))
        self.assertEqual(wire.decode_embedding_batch(value).batch_id, 1)

    def test_key_template_reads_the_keys_topic(self):
        producer, consumer = FakeProducer(), FakeConsumer({"gradients.k": 1})
        c = TrainerClient("fake", gradients_topic="gradients.{key}", stream_keys=["k"], dead_letter_topic=None,
                          producer=producer, consumer=consumer)
        self.addCleanup(c.close)
        self.assertEqual(c.gradient_topics, ["gradients.k"])
        with self.assertRaises(ValueError):
            TrainerClient("fake", gradients_topic="gradients.{key}", producer=producer, consumer=consumer)

    def test_matches_answers_by_key_and_id_and_drops_duplicates(self):
        c = self.make()
        f1, f2 = c.submit(batch(1)), c.submit(batch(2))
        self.consumer.push(FakeMessage("gradients", b"k", answer(2, 0.2)))
        self.consumer.push(FakeMessage("gradients", b"k", answer(2, 0.2)))      # a replay
        self.consumer.push(FakeMessage("gradients", b"other", answer(1)))       # another trainer's
        self.consumer.push(FakeMessage("gradients", b"k", b"garbage"))          # invalid
        self.consumer.push(FakeMessage("gradients", b"k", answer(1, 0.1)))
        self.assertEqual(f2.result(5).loss, np.float32(0.2))
        self.assertEqual(f1.result(5).gradients[0, 0], 1.0)
        deadline = time.time() + 5
        while c.stats().duplicate_answers + c.stats().unknown_answers + c.stats().invalid_answers < 3:
            self.assertLess(time.time(), deadline)
            time.sleep(0.01)
        s = c.stats()
        self.assertEqual((s.submitted, s.answered, s.duplicate_answers, s.unknown_answers, s.invalid_answers,
                          s.in_flight), (2, 2, 1, 1, 1, 0))
        with self.assertRaises(ValueError):          # answered before: its id would be refused
            c.submit(batch(2))

    def test_dead_letter_fails_the_batch_with_reason_and_detail(self):
        c = self.make()
        f = c.submit(batch(5))
        value = wire.encode_embedding_batch(batch(5))
        self.assertEqual(struct.unpack_from("<q", value, 8)[0], 5)
        self.consumer.push(FakeMessage("embeddings.dead-letters", b"k", value,
                                       [("tripletflow.reason", b"label-mismatch"), ("tripletflow.detail", b"row 1")]))
        with self.assertRaises(DeadLetterError) as e:
            f.result(5)
        self.assertEqual((e.exception.reason, e.exception.detail, e.exception.batch_id), ("label-mismatch", "row 1", 5))
        self.assertIn("label-mismatch", str(e.exception))
        self.consumer.push(FakeMessage("gradients", b"k", answer(5)))        # late: a duplicate now
        deadline = time.time() + 5
        while c.stats().duplicate_answers < 1:
            self.assertLess(time.time(), deadline)
            time.sleep(0.01)
        self.assertEqual((c.stats().failed, c.stats().dead_letters), (1, 1))

    def test_answer_timeout_and_exchange_timeout(self):
        c = self.make(answer_timeout=0.1)
        with self.assertRaises(AnswerTimeout):
            c.submit(batch(1)).result(5)
        with self.assertRaises(AnswerTimeout):
            c.exchange(batch(2), timeout=0.05)
        self.assertEqual(c.stats().in_flight, 0)
        self.assertEqual(c.stats().failed, 2)

    def test_window_blocks_submit_until_an_answer_frees_a_slot(self):
        c = self.make(max_in_flight=2)
        c.submit(batch(1)), c.submit(batch(2))
        t0 = time.monotonic()
        with self.assertRaises(TimeoutError):
            c.submit(batch(3), timeout=0.1)
        self.assertGreaterEqual(time.monotonic() - t0, 0.09)
        self.assertEqual(len(self.producer.sent), 2)
        threading.Timer(0.1, lambda: self.consumer.push(FakeMessage("gradients", b"k", answer(1)))).start()
        c.submit(batch(3), timeout=5)                      # unblocked by the answer to batch 1
        self.assertEqual(len(self.producer.sent), 3)

    def test_cancel_frees_the_slot_and_close_fails_the_rest(self):
        c = self.make(max_in_flight=1)
        f = c.submit(batch(1))
        self.assertTrue(f.cancel())
        g = c.submit(batch(2), timeout=1)
        c.close()
        with self.assertRaises(ClientClosed):
            g.result(1)
        with self.assertRaises(ClientClosed):
            c.submit(batch(3))

    def test_undeclared_key_and_duplicate_in_flight_are_refused(self):
        c = self.make()
        with self.assertRaises(ValueError):
            c.submit(batch(1), "nope")
        c.submit(batch(1))
        with self.assertRaises(ValueError):
            c.submit(batch(1))


if __name__ == "__main__":
    unittest.main()
