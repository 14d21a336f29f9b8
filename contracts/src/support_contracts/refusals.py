"""Why something is refused: one type on the wire and in every service (issue 15.5),
:class:`Refusal`, with the HTTP status the gateway answers (CONTRACT.md), a code for programs
and a message a user can act on. A service's rules raise it by kind (``NotFound``,
``StateForbids``...); ``support_rpc`` carries it from a service to its caller as it is (the
error reply), and the gateway and the relay render it. A refused command records nothing."""

from __future__ import annotations

from typing import Any


class Refusal(Exception):
    status: int

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def as_reply(self) -> dict[str, Any]:
        """As ``support_rpc``'s error reply carries it."""
        return {"status": self.status, "code": self.code, "message": self.message}

    @classmethod
    def from_reply(cls, error: dict[str, Any]) -> Refusal:
        return cls(int(error["status"]), str(error["code"]), str(error["message"]))


class Refused(Refusal):
    """A refusal of a service's rules, its status by kind."""

    status = 400

    def __init__(self, code: str, message: str) -> None:
        super().__init__(type(self).status, code, message)


class BadCredentials(Refused):
    """A token that is unknown, expired or otherwise not valid (401)."""

    status = 401


class NotAllowed(Refused):
    """The caller's role does not allow this (403)."""

    status = 403


class NotFound(Refused):
    """What the command names does not exist (404)."""

    status = 404


class StateForbids(Refused):
    """The state forbids it now: ended, waiting, used, a limit reached (409)."""

    status = 409


class Invalid(Refused):
    """The request names something that cannot be used this way (422)."""

    status = 422
