"""The session's refusals: the kinds every service shares (``support_contracts.refusals``)."""

from support_contracts.refusals import Invalid, NotAllowed, NotFound, Refused, StateForbids

__all__ = ["Invalid", "NotAllowed", "NotFound", "Refused", "StateForbids"]
