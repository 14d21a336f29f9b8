"""R16: queues' statistics, now and for the 15-minute interval under way (routing-svc's
projection of its log; each ended interval is also published on ``support.events`` as
``routing.QueueIntervalEnded`` for analytics). For supervisors (R17) and admins."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter

from gateway import answers
from gateway.answers import documented
from gateway.identity import Role
from gateway.routes.common import Gw, Reply, Who, staff, wire
from support_contracts.replies import QueueStatsReply
from support_contracts.routing import GetQueueStats

router = APIRouter(tags=["statistics"])


@router.get("/queues/stats", **documented(answers.QueueStatsReply, 401, 403, 503))
async def every_queue_stats(gw: Gw, who: Who) -> Reply:
    """Every queue: waiting, the longest wait, its agents by state, and the interval's figures
    (offered, answered, in time, abandoned, service level, average wait and handling): for
    supervisors (R17) and admins."""
    staff(who, Role.SUPERVISOR, Role.ADMIN)
    return wire(await gw.services(GetQueueStats, QueueStatsReply, who))


@router.get("/queues/{queue_id}/stats", **documented(answers.QueueStatsReply, 401, 403, 404, 503))
async def queue_stats(queue_id: UUID, gw: Gw, who: Who) -> Reply:
    """One queue's statistics (404 ``unknown_queue``): for supervisors and admins."""
    staff(who, Role.SUPERVISOR, Role.ADMIN)
    return wire(await gw.services(GetQueueStats, QueueStatsReply, who, queue_id=queue_id))
