"""``broadcaster keys``: the ward's signing key (khóa ký) for the central service.

``keys init`` makes an Ed25519 key pair once: ``<home>/keys/central.key`` (private, mode 0600,
stays on the central machine) and ``central.pub`` (copy it to every node). Nodes play only what this
key signed. ``keys show`` prints where the public key is and its fingerprint, to compare on a node.

Examples::

    broadcaster keys init
    broadcaster keys show
"""

from __future__ import annotations

import argparse
import hashlib
import os
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("keys", help="make or show the central signing key", description="Khóa ký của phường / signing key.")
    p.add_argument("action", choices=("init", "show"), help="init: make the key pair once; show: public key and fingerprint")
    p.add_argument("--force", action="store_true", help="with init: replace an existing key (every node then needs the new central.pub)")
    p.add_argument("--ward", type=Path, help="ward file (default: $BROADCASTER_WARD or devices/ward.toml)")
    p.set_defaults(func=run)


def fingerprint(pub_pem: bytes) -> str:
    h = hashlib.sha256(pub_pem.strip()).hexdigest()[:32]
    return ":".join(h[i : i + 4] for i in range(0, len(h), 4))


def run(args: argparse.Namespace) -> int:
    from broadcaster.central.service import key_paths
    from broadcaster.config import load_ward
    from broadcaster.errors import ConfigError
    from broadcaster.fsutil import atomic_write
    from broadcaster.wire.trust import generate_keypair

    ward = load_ward(args.ward)
    priv, pub = key_paths(ward)
    if args.action == "show":
        if not pub.is_file():
            raise ConfigError(str(pub), "(file)", "does not exist", "a key pair made with `broadcaster keys init`")
        print(f"public key: {pub}\nfingerprint: {fingerprint(pub.read_bytes())}")
        return 0
    if priv.exists() and not args.force:
        raise ConfigError(str(priv), "(file)", "a signing key already exists",
                          "keep it (nodes trust it), or --force to replace it and copy the new central.pub to every node")
    priv_pem, pub_pem = generate_keypair()
    priv.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(priv.parent, 0o700)
    atomic_write(priv, priv_pem, mode=0o600)  # created 0600: never readable by others, not even briefly
    atomic_write(pub, pub_pem, mode=0o644)
    print(f"Đã tạo khóa / key pair made:\n  private (keep here, 0600): {priv}\n  public (copy to every node): {pub}")
    print(f"  fingerprint: {fingerprint(pub_pem)}")
    return 0
