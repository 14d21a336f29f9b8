"""Why a command is refused. One type per kind of refusal, each mapped to the gateway's HTTP
status; the message says what the user can do about it. A refused command records nothing."""

from __future__ import annotations

from typing import ClassVar


class Refused(Exception):
    status: ClassVar[int] = 400

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


class NotFound(Refused):
    """The session or participant named does not exist (404)."""

    status = 404


class NotAllowed(Refused):
    """The caller's role in the session does not allow this (403)."""

    status = 403


class StateForbids(Refused):
    """The session's state forbids it now: ended, waiting, a limit reached (409)."""

    status = 409


class Invalid(Refused):
    """The request names something that cannot be used this way (422)."""

    status = 422
