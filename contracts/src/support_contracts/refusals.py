"""Why a service refuses a command: one type per kind, each with the HTTP status the gateway
answers (CONTRACT.md), a code for programs and a message a user can act on. A refused command
records nothing."""

from __future__ import annotations

from typing import ClassVar


class Refused(Exception):
    status: ClassVar[int] = 400

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


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
