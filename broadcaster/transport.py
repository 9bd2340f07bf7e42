"""Broker connection: the seam between broadcaster and MQTT, with one real implementation on paho-mqtt 2.x.

Both the central service and the device agents use it, so it depends on nothing but paho and the
standard library. Properties that matter on a 4G speaker node:

* persistent session (fixed client id, clean_session false) and QoS 1, so messages published while
  the link was down are delivered when it comes back;
* reconnect with exponential backoff (paho's own loop, 1 s doubling to ``max_backoff``), including
  when the very first connection fails: a node boots before its modem has a link;
* subscriptions are remembered here and made again on every connect, so a broker that lost its
  session store (restart without persistence) still serves the node;
* a last will, so the broker itself announces a node that vanished.
"""

from __future__ import annotations

import logging
import ssl
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as mqtt

from broadcaster.errors import ConfigError

log = logging.getLogger(__name__)

Handler = Callable[[str, bytes, bool], None]
"""Called with (topic, payload, retained) on paho's network thread: keep it short, never block."""


class BrokerConnection(Protocol):
    """What the rest of broadcaster needs from a message broker."""

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def subscribe(self, topic: str, handler: Handler) -> None: ...

    def publish(self, topic: str, payload: bytes, *, retain: bool = False, qos: int = 1) -> bool: ...

    @property
    def connected(self) -> bool: ...

    def wait_connected(self, timeout: float) -> bool: ...


@dataclass(frozen=True)
class BrokerAddress:
    host: str
    port: int
    username: str | None = None
    password: str | None = None
    tls: bool = False

    @classmethod
    def parse(cls, url: str, *, source: str = "BROADCASTER_MQTT_URL") -> BrokerAddress:
        """mqtt://[user[:password]@]host[:port] or mqtts://... (TLS, default port 8883)."""
        parts = urlsplit(url)
        if parts.scheme not in ("mqtt", "mqtts", "tcp") or not parts.hostname:
            raise ConfigError(source, "mqtt_url", f"{url!r} is not a broker address", "mqtt://host:1883 or mqtts://host:8883")
        tls = parts.scheme == "mqtts"
        try:
            port = parts.port or (8883 if tls else 1883)
        except ValueError as exc:
            raise ConfigError(source, "mqtt_url", f"bad port in {url!r}", "a number 1-65535") from exc
        return cls(
            host=parts.hostname,
            port=port,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            tls=tls,
        )

    def __str__(self) -> str:  # never print the password
        user = f"{self.username}@" if self.username else ""
        return f"{'mqtts' if self.tls else 'mqtt'}://{user}{self.host}:{self.port}"


@dataclass(frozen=True)
class Will:
    topic: str
    payload: bytes
    retain: bool = True
    qos: int = 1


class MqttConnection:
    """paho-mqtt client with remembered subscriptions, backoff and an on-connect hook."""

    def __init__(
        self,
        address: BrokerAddress,
        client_id: str,
        *,
        will: Will | None = None,
        persistent: bool = True,
        keepalive: int = 30,
        max_backoff: int = 30,
        on_connect: Callable[[], None] | None = None,
        max_inflight: int = 100,
        ca_file: str | None = None,
        on_link_error: Callable[[str], None] | None = None,
    ) -> None:
        self.address = address
        self.client_id = client_id
        # Why the link is down, in words a technician can act on (TLS certificate, refused login,
        # no route); kept after a reconnect so the node can report what happened.
        self.last_error: str | None = None
        self._on_link_error = on_link_error
        self._logged_error: tuple[str, float] | None = None
        self._subs: dict[str, Handler] = {}
        self._lock = threading.Lock()
        self._connected = threading.Event()
        self._on_connect_hook = on_connect
        self._keepalive = keepalive
        self._client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=client_id,
            clean_session=not persistent,
            protocol=mqtt.MQTTv311,
        )
        if address.username:
            self._client.username_pw_set(address.username, address.password)
        if address.tls:
            # the ward's own CA (a private broker certificate), else the system's trust store
            try:
                self._client.tls_set(ca_certs=ca_file) if ca_file else self._client.tls_set()
            except (OSError, ssl.SSLError) as exc:
                raise ConfigError(
                    ca_file or "(system CA store)", "BROADCASTER_MQTT_CA", f"cannot load the CA certificate: {exc}",
                    "the ward's ca.crt from `broadcaster broker-config --tls`",
                ) from exc
        if will:
            self._client.will_set(will.topic, will.payload, qos=will.qos, retain=will.retain)
        self._client.reconnect_delay_set(min_delay=1, max_delay=max_backoff)
        self._client.max_inflight_messages_set(max_inflight)
        self._client.max_queued_messages_set(0)  # unbounded: QoS 1 publishes wait for the link
        self._client.on_connect = self._on_connect
        self._client.on_connect_fail = self._on_connect_fail
        self._client.on_disconnect = self._on_disconnect
        self._client.on_message = self._on_message
        self._started = False
        self._stopping = False

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        """Connect in the background; returns at once. paho retries until the broker answers."""
        if self._started:
            return
        self._started = True
        self._client.connect_async(self.address.host, self.address.port, keepalive=self._keepalive)
        self._client.loop_start()

    def stop(self, *, publish_first: tuple[str, bytes] | None = None) -> None:
        """Disconnect cleanly (the broker then does *not* send the will)."""
        if not self._started:
            return
        if publish_first and self._connected.is_set():
            info = self._client.publish(publish_first[0], publish_first[1], qos=1, retain=True)
            try:
                info.wait_for_publish(timeout=2)
            except (RuntimeError, ValueError):
                pass
        self._stopping = True
        self._client.disconnect()
        self._client.loop_stop()
        self._started = False
        self._stopping = False
        self._connected.clear()

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def wait_connected(self, timeout: float) -> bool:
        return self._connected.wait(timeout)

    # -- messaging ---------------------------------------------------------------------------

    def subscribe(self, topic: str, handler: Handler) -> None:
        with self._lock:
            self._subs[topic] = handler
        if self._connected.is_set():
            self._client.subscribe(topic, qos=1)

    def publish(self, topic: str, payload: bytes, *, retain: bool = False, qos: int = 1) -> bool:
        """Queue a message. With QoS 1 it is kept and sent after a reconnect; returns False if refused."""
        info = self._client.publish(topic, payload, qos=qos, retain=retain)
        if info.rc not in (mqtt.MQTT_ERR_SUCCESS, mqtt.MQTT_ERR_NO_CONN):
            log.warning("publish to %s refused by client: %s", topic, mqtt.error_string(info.rc))
            return False
        return True

    def publish_and_wait(self, topic: str, payload: bytes, *, retain: bool = False, timeout: float = 5.0) -> bool:
        """Publish with QoS 1 and wait for the broker's PUBACK (for events that must not be lost)."""
        info = self._client.publish(topic, payload, qos=1, retain=retain)
        try:
            info.wait_for_publish(timeout=timeout)
        except (RuntimeError, ValueError):
            return False
        return info.is_published()

    # -- paho callbacks (network thread) -----------------------------------------------------

    def _link_error(self, text: str) -> None:
        self.last_error = text
        now = time.monotonic()
        # every backoff retry fails the same way: say it when it changes, then every 10 minutes
        if self._logged_error is None or self._logged_error[0] != text or now - self._logged_error[1] > 600:
            log.error("%s", text)
            self._logged_error = (text, now)
        if self._on_link_error:
            try:
                self._on_link_error(text)
            except Exception:
                log.exception("link-error hook failed")

    def _on_connect_fail(self, client: mqtt.Client, userdata: object) -> None:
        exc = sys.exc_info()[1]  # paho calls this inside its `except OSError`
        where = f"broker {self.address}"
        if isinstance(exc, ssl.SSLCertVerificationError):
            text = (f"{where}: TLS certificate not trusted ({exc.verify_message}): give this device the ward's CA "
                    "(BROADCASTER_MQTT_CA=/etc/broadcaster/ca.crt, from `broadcaster broker-config --tls`)")
        elif isinstance(exc, ssl.SSLError):
            text = f"{where}: TLS handshake failed ({exc.reason or exc}): is it a TLS listener, and the right port?"
        elif exc is not None:
            text = f"{where}: cannot connect ({exc.__class__.__name__}: {exc}); retrying with backoff"
        else:
            text = f"{where}: cannot connect; retrying with backoff"
        self._link_error(text)

    def _on_connect(self, client: mqtt.Client, userdata: object, flags: object, reason: object, props: object) -> None:
        if getattr(reason, "is_failure", False):
            self._link_error(f"broker {self.address} refused the connection: {reason} (user name and password of this device?)")
            return
        log.info("connected to %s as %s", self.address, self.client_id)
        with self._lock:
            topics = list(self._subs)
        if topics:
            client.subscribe([(t, 1) for t in topics])
        self._connected.set()
        if self._on_connect_hook:
            try:
                self._on_connect_hook()
            except Exception:  # a hook bug must not kill paho's network thread
                log.exception("on-connect hook failed")

    def _on_disconnect(self, client: mqtt.Client, userdata: object, flags: object, reason: object, props: object) -> None:
        if self._stopping:
            log.info("disconnected from %s", self.address)
        elif self._connected.is_set():
            log.warning("lost broker %s (%s); reconnecting with backoff", self.address, reason)
        self._connected.clear()

    def _on_message(self, client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        with self._lock:
            handler = self._subs.get(msg.topic) or self._match(msg.topic)
        if handler is None:
            return
        try:
            handler(msg.topic, bytes(msg.payload), bool(msg.retain))  # paho types it bytes | bytearray
        except Exception:  # one bad message must not stop the others
            log.exception("handler for %s failed", msg.topic)

    def _match(self, topic: str) -> Handler | None:
        for pattern, handler in self._subs.items():
            if mqtt.topic_matches_sub(pattern, topic):
                return handler
        return None
