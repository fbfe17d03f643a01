import unittest

import numpy as np

from tripletflow import wire


class WireTest(unittest.TestCase):
    def test_embedding_batch_round_trip(self):
        rng = np.random.default_rng(1)
        b = wire.EmbeddingBatch(-7, 3, 1_700_000_000_000, rng.integers(-5, 5, 6).astype(np.int32),
                                rng.standard_normal((6, 4)).astype(np.float32))
        rec = wire.encode_embedding_batch(b)
        self.assertEqual(len(rec), wire.embedding_record_bytes(6, 4))
        back = wire.decode_embedding_batch(rec)
        self.assertEqual((back.batch_id, back.model_step, back.created_ms), (-7, 3, 1_700_000_000_000))
        np.testing.assert_array_equal(back.labels, b.labels)
        np.testing.assert_array_equal(back.embeddings, b.embeddings)

    def test_gradient_batch_round_trip_with_mask(self):
        rng = np.random.default_rng(2)
        g = wire.GradientBatch(9, 1, 2, 3, 0.25, 7, 5, rng.standard_normal((5, 3)).astype(np.float32),
                               rng.random((5, 5)) < 0.5)
        back = wire.decode_gradient_batch(wire.encode_gradient_batch(g))
        self.assertEqual((back.batch_id, back.loss, back.selected_triplets, back.nonzero_hinges), (9, 0.25, 7, 5))
        np.testing.assert_array_equal(back.gradients, g.gradients)
        np.testing.assert_array_equal(back.mask, g.mask)

    def test_crc_and_corruption(self):
        self.assertEqual(wire.crc32c_table(b"123456789"), 0xE3069283)
        rec = bytearray(wire.encode_embedding_batch(wire.EmbeddingBatch(1, 0, 0, np.zeros(2, np.int32),
                                                                        np.ones((2, 2), np.float32))))
        rec[45] ^= 1
        with self.assertRaises(wire.InvalidRecord) as e:
            wire.decode_embedding_batch(bytes(rec))
        self.assertEqual(e.exception.reason, "BAD_CRC")
        self.assertEqual(e.exception.code, "bad-crc")


if __name__ == "__main__":
    unittest.main()
