"""Site and csr settings, and what each csr controls: folded from the admin stream
``site-settings`` and each csr's stream ``csr-<id>`` (S2, S4, S5, S8, S9)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from uuid import UUID

from session_svc.domain.state import Session
from support_contracts import Envelope, Event
from support_contracts.session import (
    ControlGained,
    ControlReleased,
    CsrSettings,
    CsrSettingsChanged,
    SiteSettings,
    SiteSettingsChanged,
)
from support_contracts.vocabulary import SessionMode

SITE_STREAM = "site-settings"

DEFAULT_SITE = SiteSettings(
    multi_session_allowed=True,
    max_sessions_per_csr=3,
    multiple_customers_allowed=True,
    max_customers_per_session=5,
    console_grace_seconds=60,
    invitation_ttl_seconds=24 * 3600,
)
DEFAULT_CSR = CsrSettings(
    session_mode=SessionMode.SINGLE, is_webacd_agent=False, voice_supported=True
)


def csr_stream(csr_id: str) -> str:
    return f"csr-{csr_id}"


def fold_site(events: list[Envelope]) -> SiteSettings:
    site = DEFAULT_SITE
    for envelope in events:
        event = envelope.event()
        if isinstance(event, SiteSettingsChanged):
            site = event.settings
    return site


@dataclass(frozen=True)
class Csr:
    """A csr's settings and the live sessions it controls now."""

    settings: CsrSettings = DEFAULT_CSR
    controls: frozenset[UUID] = field(default_factory=frozenset)
    version: int = -1

    def session_limit(self, site: SiteSettings) -> int:
        """S2: multi-session mode only where both the site and the csr's settings say so."""
        multi = site.multi_session_allowed and self.settings.session_mode is SessionMode.MULTI
        return site.max_sessions_per_csr if multi else 1


def fold_csr(events: list[Envelope], csr: Csr | None = None) -> Csr:
    """The csr's stream folded, on from ``csr`` (folded up to its version) if given."""
    csr = csr or Csr()
    for envelope in events:
        event = envelope.event()
        if isinstance(event, CsrSettingsChanged):
            csr = replace(csr, settings=event.settings)
        elif isinstance(event, ControlGained):
            csr = replace(csr, controls=csr.controls | {event.session_id})
        elif isinstance(event, ControlReleased):
            csr = replace(csr, controls=csr.controls - {event.session_id})
        csr = replace(csr, version=envelope.stream_version)
    return csr


def control_changes(before: Session, after: Session) -> dict[str, list[Event]]:
    """The events for each csr's own stream when a decision moved control (S2's ledger)."""
    session_id = after.id or before.id
    if before.controller == after.controller or session_id is None:
        return {}
    changes: dict[str, list[Event]] = {}
    if before.controller is not None:
        changes[before.controller] = [ControlReleased(session_id=session_id)]
    if after.controller is not None:
        changes.setdefault(after.controller, []).append(ControlGained(session_id=session_id))
    return changes
