"""The broker's topology in one place (issue 14.11): the events exchange, every service's
command queue, and which queue of which service is bound to which events. Pure data: the
services' settings take their queue names from it, and every service's start and ``supportctl
migrate`` declare all of it (``eventlog.rabbit.declare_topology``), so an event published
before its consumer first started waits in that consumer's queue instead of being dropped.

Names are the base names here behind a prefix (``QUEUE_PREFIX``, empty in a deployment; the
tests give each test its own)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from support_contracts import session
from support_contracts.envelope import EXCHANGE
from support_contracts.routing import OfferAccepted

QUORUM: dict[str, Any] = {"x-queue-type": "quorum"}  # every durable queue: command, events, dead

COMMAND_QUEUES = {
    "session-svc": "session-svc.commands",
    "invite-svc": "invite-svc.commands",
    "routing-svc": "routing-svc.commands",
}


@dataclass(frozen=True)
class Subscription:
    """A service's durable queue of events (quorum, with ``<queue>.dead`` beside it)."""

    queue: str
    routing_keys: tuple[str, ...]
    single_active: bool = False  # one consumer at a time takes its messages, in order

    @property
    def dead_letter_queue(self) -> str:
        return f"{self.queue}.dead"

    @property
    def arguments(self) -> dict[str, Any]:
        return {**QUORUM, "x-single-active-consumer": True} if self.single_active else dict(QUORUM)


ROUTING_FOLLOWS = (
    session.SessionRequested,
    session.HandedToQueue,
    session.HandedToAgents,
    session.SessionRequeued,
    session.SessionEnded,
)
# M3: what the relay's view of a session folds (``media_relay/domain/state.py``; its tests
# check the two agree), and all the relay keeps in its log: not the csrs' ledgers, the numbers,
# the settings, the heartbeats or a re-queue, which were more than half of what it was sent
RELAY_FOLLOWS = (
    session.SessionStarted,
    session.SessionRequested,
    session.CustomerJoined,
    session.AssistantJoined,
    session.ActiveCustomerSelected,
    session.ControlTransferred,
    session.ActivityStarted,
    session.ActivityEnded,
    session.ParticipantLeft,
    session.HandedToQueue,
    session.HandedToAgents,
    session.AgentAssigned,
    session.SessionEnded,
)

SUBSCRIPTIONS = {
    # R6: an accepted offer makes its agent the controller
    "session-svc": Subscription("session-svc.routing-events", (OfferAccepted.routing_key(),)),
    # S10: an ended session's invitations are revoked
    "invite-svc": Subscription("invite-svc.session-events", (session.SessionEnded.routing_key(),)),
    # S9, R8, issue 14.2: what queues, re-queues or withdraws a routing task
    "routing-svc": Subscription(
        "routing-svc.session-events",
        tuple(e.routing_key() for e in ROUTING_FOLLOWS),
        single_active=True,
    ),
    # M3: the relay follows the session events its view folds
    "media-relay": Subscription(
        "media-relay.session-events",
        tuple(e.routing_key() for e in RELAY_FOLLOWS),
        single_active=True,
    ),
}


@dataclass(frozen=True)
class Topology:
    exchange: str = EXCHANGE
    prefix: str = ""

    def command_queue(self, service: str) -> str:
        return self.prefix + COMMAND_QUEUES[service]

    def subscription(self, service: str) -> Subscription:
        base = SUBSCRIPTIONS[service]
        return Subscription(self.prefix + base.queue, base.routing_keys, base.single_active)

    @property
    def command_queues(self) -> list[str]:
        return [self.command_queue(s) for s in COMMAND_QUEUES]

    @property
    def subscriptions(self) -> list[Subscription]:
        return [self.subscription(s) for s in SUBSCRIPTIONS]

    @property
    def queues(self) -> list[str]:
        """Every queue it declares, dead-letter queues too."""
        events = self.subscriptions
        return [*self.command_queues, *(q for s in events for q in (s.queue, s.dead_letter_queue))]
