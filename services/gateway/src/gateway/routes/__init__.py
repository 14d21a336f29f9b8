"""The routes of CONTRACT.md, by resource. Each checks who calls (role, and membership of the
session it names), turns the request into one command or query to the service that owns it,
and answers with the reply; the services decide everything else (who controls, limits,
states)."""

from fastapi import APIRouter

from gateway.routes import (
    admin,
    agents,
    customers,
    invitations,
    joining,
    sessions,
    signing_in,
    statistics,
    supervisors,
)

v1 = APIRouter(prefix="/v1")
for resource in (
    sessions, invitations, joining, admin, agents, customers, signing_in, statistics, supervisors
):  # fmt: skip
    v1.include_router(resource.router)

__all__ = ["v1"]
