"""kafka_config: the properties both Kafka clients of a TrainerClient get (security settings)."""
import sys
import types
import unittest
from types import SimpleNamespace

from tripletflow.client import TrainerClient

from .test_client import FakeConsumer, FakeProducer


class KafkaConfigTest(unittest.TestCase):
    def setUp(self):
        # A stand-in for confluent_kafka that records the configuration each client is built with.
        self.configs = {}
        fake = types.ModuleType("confluent_kafka")

        def producer(config):
            self.configs["producer"] = config
            return FakeProducer()

        def consumer(config):
            self.configs["consumer"] = config
            return FakeConsumer({"gradients": 1, "embeddings.dead-letters": 1})

        saved = sys.modules.get("confluent_kafka")
        fake.Producer, fake.Consumer = producer, consumer
        fake.TopicPartition = lambda topic, partition, offset=-1001: SimpleNamespace(
            topic=topic, partition=partition, offset=offset)
        sys.modules["confluent_kafka"] = fake
        self.addCleanup(lambda: sys.modules.__setitem__("confluent_kafka", saved) if saved
                        else sys.modules.pop("confluent_kafka", None))

    def test_both_clients_get_it_between_the_defaults_and_their_own_overrides(self):
        secured = {"security.protocol": "SASL_SSL", "sasl.mechanism": "SCRAM-SHA-512", "sasl.username": "u",
                   "sasl.password": "p", "ssl.ca.location": "/ca.pem", "linger.ms": 3}
        c = TrainerClient("broker:9093", kafka_config=secured, producer_config={"linger.ms": 7})
        self.addCleanup(c.close)
        for role in ("producer", "consumer"):
            for key in ("security.protocol", "sasl.mechanism", "sasl.username", "sasl.password", "ssl.ca.location"):
                self.assertEqual(self.configs[role][key], secured[key], f"{role} {key}")
            self.assertEqual(self.configs[role]["bootstrap.servers"], "broker:9093")
        self.assertEqual(self.configs["producer"]["linger.ms"], 7, "producer_config wins")
        self.assertEqual(self.configs["consumer"]["isolation.level"], "read_committed")


if __name__ == "__main__":
    unittest.main()
