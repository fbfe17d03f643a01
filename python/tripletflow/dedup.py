"""Tells the first answer to a batch from its replays, in bounded memory: the consumer's half of the
``idempotent`` delivery mode, as ``io.tripletflow.delivery.Deduplicator`` does it in Java (same
verdicts, same counters; ``PythonDeduplicatorTest`` checks them against each other). Pure Python.

The job may write an answer more than once after a failure (its sinks are at-least-once), always
with the same content but ``computed_ms``; whoever applies each (stream key, batch id) at most once
sees every batch exactly once::

    from tripletflow.dedup import Deduplicator
    from tripletflow import wire

    seen = Deduplicator()                      # window=1024 ids for stream_keys=4096 keys
    msg = consumer.poll(0.01)
    g = wire.decode_gradient_batch(msg.value())
    if seen.first_time(msg.key().decode("utf-8"), g.batch_id):
        apply(g)                               # once per batch, whatever the topic holds

The bound. Per stream key it keeps the last ``window`` batch ids it took and the highest id it has
let go of, the *floor*, for at most ``stream_keys`` keys. It assumes what every trainer here does:
batch ids increase per stream key (gaps allowed; order may be mixed up among the last ``window``
batches). The job answers one key in the order it reads it, so a replay is always either still in
the window (``'duplicate'``) or at or below the floor (``'too-old'``, refused too): "at most once"
holds whatever the window. What the window buys is tolerance of reordering: once a key has taken
``window`` answers after some id, that id is at or below the floor, and a first answer to a lower id
is then refused as too old (counted), not applied. So an answer that ``window`` newer ones overtook
is taken; one that ``window + 1`` overtook is not. Ids that do not increase (random ids) are refused
at or below the floor, which rises as soon as the window is full. Past ``stream_keys`` keys the key
seen least recently (offered or asked about) is forgotten (counted in ``forgotten_keys``); an answer
to it after that is taken as new. In CPython a full key costs about 170 KiB at ``window=1024`` (the
ids, the ring and the set): lower ``stream_keys`` in a consumer of many keys.

Not thread-safe: hold a lock around it where several threads share one.
"""

from __future__ import annotations

from collections import OrderedDict, deque

DEFAULT_WINDOW = 1024
DEFAULT_STREAM_KEYS = 4096

FIRST = "first"          # not seen before: apply it
DUPLICATE = "duplicate"  # seen before, inside the window: a replay, drop it
TOO_OLD = "too-old"      # at or below the floor: cannot be told from a replay, dropped


class _Window:
    """One stream key's window: the last ids taken (a ring, and a set of the same ids for O(1)
    membership) and the highest id let go of."""

    __slots__ = ("ids", "members", "floor")

    def __init__(self, capacity: int, batch_id: int):
        self.ids = deque(maxlen=capacity)
        self.members = set()
        self.floor = None
        self.take(batch_id)

    def offer(self, batch_id: int) -> str:
        if batch_id in self.members:
            return DUPLICATE
        if self.floor is not None and batch_id <= self.floor:
            return TOO_OLD
        self.take(batch_id)
        return FIRST

    def would_refuse(self, batch_id: int) -> bool:
        return batch_id in self.members or (self.floor is not None and batch_id <= self.floor)

    def take(self, batch_id: int):
        if len(self.ids) == self.ids.maxlen:
            released = self.ids.popleft()
            self.members.discard(released)
            self.floor = released if self.floor is None else max(self.floor, released)
        self.ids.append(batch_id)
        self.members.add(batch_id)


class Deduplicator:
    """Says whether an answer is the first to its (stream key, batch id); see the module's doc."""

    def __init__(self, window: int = DEFAULT_WINDOW, stream_keys: int = DEFAULT_STREAM_KEYS):
        if window < 1:
            raise ValueError(f"window must be >= 1 batch id, got {window}")
        if stream_keys < 1:
            raise ValueError(f"stream_keys must be >= 1, got {stream_keys}")
        self._window = window
        self._max_stream_keys = stream_keys
        self._keys: OrderedDict[str, _Window] = OrderedDict()   # least recently seen first
        self._first = self._duplicates = self._too_old = self._forgotten_keys = 0

    def offer(self, stream_key: str, batch_id: int) -> str:
        """Records the answer to ``batch_id`` of ``stream_key``: ``'first'``, ``'duplicate'`` or
        ``'too-old'``."""
        if stream_key is None:
            raise TypeError("stream_key must not be None")
        w = self._touch(stream_key)
        if w is None:
            self._keys[stream_key] = _Window(self._window, batch_id)
            if len(self._keys) > self._max_stream_keys:
                self._keys.popitem(last=False)
                self._forgotten_keys += 1
            self._first += 1
            return FIRST
        verdict = w.offer(batch_id)
        if verdict == FIRST:
            self._first += 1
        elif verdict == DUPLICATE:
            self._duplicates += 1
        else:
            self._too_old += 1
        return verdict

    def first_time(self, stream_key: str, batch_id: int) -> bool:
        """``offer(stream_key, batch_id) == 'first'``."""
        return self.offer(stream_key, batch_id) == FIRST

    def would_refuse(self, stream_key: str, batch_id: int) -> bool:
        """Whether an answer to this batch would be refused now (seen, or at or below the floor),
        without recording it. Like the Java class it counts as a use of the key for the
        least-recently-seen order."""
        w = self._touch(stream_key)
        return w is not None and w.would_refuse(batch_id)

    def _touch(self, stream_key: str):
        """The key's window, made the most recently seen; None for a key not remembered."""
        w = self._keys.get(stream_key)
        if w is not None:
            self._keys.move_to_end(stream_key)
        return w

    @property
    def window(self) -> int:
        """Batch ids remembered per stream key."""
        return self._window

    @property
    def max_stream_keys(self) -> int:
        """Stream keys remembered at most."""
        return self._max_stream_keys

    @property
    def stream_keys(self) -> int:
        """Stream keys remembered now."""
        return len(self._keys)

    @property
    def first_answers(self) -> int:
        """Answers taken as the first of their batch."""
        return self._first

    @property
    def duplicates(self) -> int:
        """Answers refused as replays of one already seen (inside the window)."""
        return self._duplicates

    @property
    def too_old(self) -> int:
        """Answers refused for arriving at or below the floor."""
        return self._too_old

    @property
    def forgotten_keys(self) -> int:
        """Stream keys forgotten because more than ``max_stream_keys`` were seen."""
        return self._forgotten_keys
