"""tripletflow for Python trainers.

- ``tripletflow.wire``: wire format v1 (embedding and gradient batches), numpy only.
- ``tripletflow.dedup``: ``Deduplicator``, each (stream key, batch id) applied once.
- ``tripletflow.client``: ``TrainerClient``, publishes batches and matches the job's answers (confluent_kafka).
- ``tripletflow.torch``: ``RemoteTripletLoss``, a ``torch.nn.Module`` whose backward pass is the job's gradient.

Importing the package imports none of them; ``tripletflow.torch`` is the only one that needs torch.
"""

__version__ = "0.1.0"
