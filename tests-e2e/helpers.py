"""What the end-to-end tests share: tokens, calls to the gateway, a participant's relay
connection, waiting for an offer."""

from __future__ import annotations

from typing import Any

from support_demo.relay_client import RelayClient
from support_demo.stack import staff
from support_testkit.gateway_api import ALWAYS, call, offer_for

__all__ = [
    "ALICE",
    "ALWAYS",
    "BOB",
    "ROOT",
    "ZOE",
    "Client",
    "bearer",
    "call",
    "offer_for",
    "staff",
]

ROOT, ALICE, BOB, ZOE = (
    staff("root", "admin"),
    staff("alice", "csr", "agent"),
    staff("bob", "csr"),
    staff("zoe", "agent"),
)


def bearer(reply: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {reply['participant_token']}"}


Client = RelayClient  # a participant's relay connection, as the demo holds it
