"""Every command and query session-svc takes, mapped to its rule: one place to read."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

from pydantic import BaseModel

from eventlog import Transaction
from session_svc.domain import Session, Status, rules, supervising
from session_svc.views import session_view
from session_svc.writing import Reads, SessionLog
from support_contracts import Command, Event
from support_contracts import session as contract
from support_contracts.replies import (
    ActivityReply,
    CsrReply,
    EventsReply,
    JoinedReply,
    SessionReply,
    SessionsReply,
    SiteReply,
)


async def _session_reply(
    h: SessionLog,
    cmd: Command,
    session_id: UUID,
    decide: Callable[[Session, Transaction], Awaitable[list[Event]]],
    reads: Reads | None = None,
) -> SessionReply:
    outcome = await h.run(cmd, session_id, decide, reads)
    return SessionReply(session=session_view(outcome.session))


async def start_session(h: SessionLog, cmd: contract.StartSession) -> SessionReply:
    session_id, number = h.id_for(cmd, "session"), h.new_number()

    async def decide(s: Session, tx: Transaction) -> list[Event]:
        return rules.start_session(
            cmd,
            session_id=session_id,
            number=await h.free_number(tx, number),
            csr=await h.csr(tx, cmd.csr_id),
            site=await h.site(tx),
        )

    reads = h.reads(site=True, csrs=[cmd.csr_id], number=number)
    return await _session_reply(h, cmd, session_id, decide, reads)


async def open_requested_session(h: SessionLog, cmd: contract.OpenRequestedSession) -> JoinedReply:
    session_id, customer_id = h.id_for(cmd, "session"), str(h.id_for(cmd, "customer"))
    number = h.new_number()

    async def decide(s: Session, tx: Transaction) -> list[Event]:
        free = await h.free_number(tx, number)
        return rules.open_requested_session(
            cmd, session_id=session_id, number=free, customer_id=customer_id
        )

    reads = h.reads(number=number)
    session = (await _session_reply(h, cmd, session_id, decide, reads)).session
    return JoinedReply(session=session, participant_id=customer_id)


async def _target(h: SessionLog, session_id: UUID | None, number: str | None) -> UUID:
    if session_id is not None:
        return session_id
    assert number is not None  # the contract asks for exactly one of the two
    return await h.session_id_by_number(number)


async def join_as_customer(h: SessionLog, cmd: contract.JoinAsCustomer) -> JoinedReply:
    participant_id = str(h.id_for(cmd, "participant"))

    async def decide(s: Session, tx: Transaction) -> list[Event]:
        return rules.join_as_customer(s, cmd, participant_id=participant_id, site=await h.site(tx))

    target = await _target(h, cmd.session_id, cmd.session_number)
    session = (await _session_reply(h, cmd, target, decide, h.reads(site=True))).session
    return JoinedReply(session=session, participant_id=participant_id)


async def join_as_assistant(h: SessionLog, cmd: contract.JoinAsAssistant) -> SessionReply:
    async def decide(s: Session, tx: Transaction) -> list[Event]:
        return rules.join_as_assistant(s, cmd)

    return await _session_reply(
        h, cmd, await _target(h, cmd.session_id, cmd.session_number), decide
    )


def _pure(
    rule: Callable[[Session, Any], list[Event]], cmd: Any
) -> Callable[[Session, Transaction], Awaitable[list[Event]]]:
    async def decide(s: Session, tx: Transaction) -> list[Event]:
        return rule(s, cmd)

    return decide


async def select_active_customer(h: SessionLog, cmd: contract.SelectActiveCustomer) -> SessionReply:
    return await _session_reply(h, cmd, cmd.session_id, _pure(rules.select_active_customer, cmd))


async def start_activity(h: SessionLog, cmd: contract.StartActivity) -> ActivityReply:
    activity_id = h.id_for(cmd, "activity")

    async def decide(s: Session, tx: Transaction) -> list[Event]:
        return rules.start_activity(s, cmd, activity_id=activity_id)

    session = (await _session_reply(h, cmd, cmd.session_id, decide)).session
    return ActivityReply(session=session, activity_id=activity_id)


async def end_activity(h: SessionLog, cmd: contract.EndActivity) -> SessionReply:
    return await _session_reply(h, cmd, cmd.session_id, _pure(rules.end_activity, cmd))


async def transfer_control(h: SessionLog, cmd: contract.TransferControl) -> SessionReply:
    async def decide(s: Session, tx: Transaction) -> list[Event]:
        return rules.transfer_control(s, cmd, receiver=await h.csr(tx, cmd.to_csr))

    return await _session_reply(h, cmd, cmd.session_id, decide, h.reads(csrs=[cmd.to_csr]))


async def hand_off_to_queue(h: SessionLog, cmd: contract.HandOffToQueue) -> SessionReply:
    async def decide(s: Session, tx: Transaction) -> list[Event]:
        return rules.hand_off_to_queue(s, cmd, controller=await h.csr(tx, cmd.actor_id or ""))

    reads = h.reads(csrs=[cmd.actor_id or ""])
    return await _session_reply(h, cmd, cmd.session_id, decide, reads)


async def hand_off_to_agents(h: SessionLog, cmd: contract.HandOffToAgents) -> SessionReply:
    async def decide(s: Session, tx: Transaction) -> list[Event]:
        agents = {a: await h.csr(tx, a) for a in dict.fromkeys(cmd.agent_ids)}
        controller = await h.csr(tx, cmd.actor_id or "")
        return rules.hand_off_to_agents(s, cmd, controller=controller, agents=agents)

    reads = h.reads(csrs=[*cmd.agent_ids, cmd.actor_id or ""])
    return await _session_reply(h, cmd, cmd.session_id, decide, reads)


async def assign_agent(h: SessionLog, cmd: contract.AssignAgent) -> SessionReply:
    return await _session_reply(h, cmd, cmd.session_id, _pure(rules.assign_agent, cmd))


async def leave(h: SessionLog, cmd: contract.Leave) -> SessionReply:
    return await _session_reply(h, cmd, cmd.session_id, _pure(rules.leave, cmd))


async def end_session(h: SessionLog, cmd: contract.EndSession) -> SessionReply:
    return await _session_reply(h, cmd, cmd.session_id, _pure(rules.end_session, cmd))


async def end_as_admin(h: SessionLog, cmd: contract.EndSessionAsAdmin) -> SessionReply:
    return await _session_reply(h, cmd, cmd.session_id, _pure(supervising.end_as_admin, cmd))


async def requeue(h: SessionLog, cmd: contract.RequeueSession) -> SessionReply:
    return await _session_reply(h, cmd, cmd.session_id, _pure(supervising.requeue, cmd))


async def take_over(h: SessionLog, cmd: contract.TakeOverSession) -> SessionReply:
    async def decide(s: Session, tx: Transaction) -> list[Event]:
        return supervising.take_over(s, cmd, supervisor=await h.csr(tx, cmd.supervisor_id))

    reads = h.reads(csrs=[cmd.supervisor_id])
    return await _session_reply(h, cmd, cmd.session_id, decide, reads)


async def record_heartbeat(h: SessionLog, cmd: contract.RecordHeartbeat) -> SessionReply:
    async def decide(s: Session, tx: Transaction) -> list[Event]:
        return rules.record_heartbeat(s, cmd, now=h.now(), site=await h.site(tx))

    return await _session_reply(h, cmd, cmd.session_id, decide, h.reads(site=True))


async def change_site_settings(h: SessionLog, cmd: contract.ChangeSiteSettings) -> SiteReply:
    return SiteReply(site=await h.change_site_settings(cmd))


async def change_csr_settings(h: SessionLog, cmd: contract.ChangeCsrSettings) -> CsrReply:
    csr = await h.change_csr_settings(cmd)
    return CsrReply(csr_id=cmd.csr_id, settings=csr.settings)


async def amend_csr_settings(h: SessionLog, cmd: contract.AmendCsrSettings) -> CsrReply:
    csr = await h.amend_csr_settings(cmd)
    return CsrReply(csr_id=cmd.csr_id, settings=csr.settings)


async def get_session(h: SessionLog, cmd: contract.GetSession) -> SessionReply:
    return SessionReply(session=session_view(await h.session(cmd.session_id)))


async def get_session_events(h: SessionLog, cmd: contract.GetSessionEvents) -> EventsReply:
    return EventsReply(events=await h.session_events(cmd.session_id))


async def get_site_settings(h: SessionLog, cmd: contract.GetSiteSettings) -> SiteReply:
    async with h.store.transaction() as tx:
        return SiteReply(site=await h.site(tx))


async def list_sessions(h: SessionLog, cmd: contract.ListSessions) -> SessionsReply:
    status = Status(cmd.status) if cmd.status else None
    return SessionsReply(sessions=await h.sessions.listed(status))


async def find_session_by_number(h: SessionLog, cmd: contract.FindSessionByNumber) -> SessionReply:
    return SessionReply(session=session_view(await h.session_by_number(cmd.session_number)))


HANDLERS: dict[type[Command], Callable[[SessionLog, Any], Awaitable[BaseModel]]] = {
    contract.StartSession: start_session,
    contract.OpenRequestedSession: open_requested_session,
    contract.JoinAsCustomer: join_as_customer,
    contract.JoinAsAssistant: join_as_assistant,
    contract.SelectActiveCustomer: select_active_customer,
    contract.StartActivity: start_activity,
    contract.EndActivity: end_activity,
    contract.TransferControl: transfer_control,
    contract.HandOffToQueue: hand_off_to_queue,
    contract.HandOffToAgents: hand_off_to_agents,
    contract.AssignAgent: assign_agent,
    contract.Leave: leave,
    contract.EndSession: end_session,
    contract.EndSessionAsAdmin: end_as_admin,
    contract.RequeueSession: requeue,
    contract.TakeOverSession: take_over,
    contract.RecordHeartbeat: record_heartbeat,
    contract.ChangeSiteSettings: change_site_settings,
    contract.ChangeCsrSettings: change_csr_settings,
    contract.AmendCsrSettings: amend_csr_settings,
    contract.GetSession: get_session,
    contract.GetSessionEvents: get_session_events,
    contract.FindSessionByNumber: find_session_by_number,
    contract.ListSessions: list_sessions,
    contract.GetSiteSettings: get_site_settings,
}
