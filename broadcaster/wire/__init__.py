"""The wire contract between the central service and the device agents (docs/protocol.md).

One job per module, each importable on a node without the central service:

* ``vocabulary``: the closed sets (Priority with its one rank order, EventKind, AckStatus,
  MessageType with its topic leaf and sender, DeviceKind) and the one ``Target`` type.
* ``topics``: topic names, node subscriptions and the broker ACL, from one table.
* ``times``: wire time parse (any RFC 3339 spelling) and format (UTC, milliseconds, ``Z``).
* ``messages``: the typed body of each message type, decoded by msgspec with field paths.
* ``envelope``: the v1 envelope, its canonical bytes, decoding a payload.
* ``trust``: signing, verification over what was received, replay guard, expiry, clock skew.
* ``errors``: one exception per cause of refusal.

``broadcaster.protocol`` re-exports the older flat names for callers written before this package.
"""
