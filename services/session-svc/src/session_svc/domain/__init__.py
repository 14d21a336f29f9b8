"""The session's rules, pure: state folded from events, decisions that return events."""

from session_svc.domain.errors import Invalid, NotAllowed, NotFound, Refused, StateForbids
from session_svc.domain.settings import Csr, fold_csr, fold_site
from session_svc.domain.state import Session, Status, apply, fold

__all__ = [
    "Csr",
    "Invalid",
    "NotAllowed",
    "NotFound",
    "Refused",
    "Session",
    "StateForbids",
    "Status",
    "apply",
    "fold",
    "fold_csr",
    "fold_site",
]
