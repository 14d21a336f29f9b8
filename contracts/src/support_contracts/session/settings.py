"""Site and csr settings: session-svc records them in its admin stream and the session rules
read them (S2, S4, S5, S8, S9)."""

from __future__ import annotations

from pydantic import Field, StrictBool, StrictInt

from support_contracts.base import Strict
from support_contracts.vocabulary import (
    SessionMode,
)


class SiteSettings(Strict):
    """The site's limits (S2, S4, S5, I2), set by an admin."""

    multi_session_allowed: StrictBool  # JSON's true and false only, as the document says
    max_sessions_per_csr: StrictInt = Field(ge=1)
    multiple_customers_allowed: StrictBool
    max_customers_per_session: StrictInt = Field(ge=1)
    console_grace_seconds: StrictInt = Field(ge=1)
    invitation_ttl_seconds: StrictInt = Field(ge=60)


class CsrSettings(Strict):
    """A csr's own settings (S2, S8, S9)."""

    session_mode: SessionMode
    is_webacd_agent: StrictBool  # true or false, never 0 or "yes"
    voice_supported: StrictBool
