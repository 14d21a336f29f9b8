"""What an admin sets for routing (R1, R9-R18): a queue's definition, its hours and their
dated exceptions, its skills and their relaxation, and the site's status reasons until an admin
sets others."""

from __future__ import annotations

from datetime import date, time
from uuid import UUID

from pydantic import Field, StrictBool, StrictInt, model_validator

from support_contracts.base import Strict, exactly_one
from support_contracts.vocabulary import (
    DisplayName,
    Proficiency,
    RoutingPolicy,
    SkillName,
    UserId,
    WrapUpCode,
)

DEFAULT_STATUS_REASONS = ("lunch", "break", "training", "meeting")
"""R12: the site's reasons for away and offline until an admin sets others."""


def _absent(value: object) -> bool:
    """A field left out of the JSON when not set: an event or definition without it is then
    what it was before the field, so a consumer still running that version reads it (a
    rolling upgrade)."""
    return value is None


class OpeningHours(Strict):
    """One weekday's window in the queue's time zone; 0 is Monday."""

    weekday: int = Field(ge=0, le=6)
    opens: time
    closes: time


class HoursException(Strict):
    """R18: a date on which the queue keeps other hours, in its time zone: closed all day (no
    ``opens`` and ``closes``), or open from ``opens`` to ``closes`` only."""

    day: date
    opens: time | None = None
    closes: time | None = None

    @model_validator(mode="after")
    def _whole_window(self) -> HoursException:
        if (self.opens is None) != (self.closes is None):
            raise ValueError("give both opens and closes for special hours, or neither: closed")
        if self.opens is not None and self.closes is not None and self.opens >= self.closes:
            raise ValueError("closes must be after opens")
        return self


class RelaxationStep(Strict):
    """R9: once a session has waited ``after_seconds``, its match widens: one skill is no longer
    needed (``drop_skill``: the queue's, or one its hand-off or entry form added), or the
    minimum proficiency falls to ``lower_minimum_to``. One of the two a step."""

    after_seconds: StrictInt = Field(ge=1)
    drop_skill: SkillName | None = Field(default=None, exclude_if=_absent)
    lower_minimum_to: Proficiency | None = Field(default=None, exclude_if=_absent)

    @model_validator(mode="after")
    def _one_change(self) -> RelaxationStep:
        message = "a relaxation step gives drop_skill or lower_minimum_to, one of them"
        return exactly_one(self, "drop_skill", "lower_minimum_to", message)


class QueueDefinition(Strict):
    """What an admin sets for a queue (R1, R2, R4)."""

    name: DisplayName
    agent_ids: list[UserId]
    policy: RoutingPolicy
    time_zone: str = Field(min_length=1, max_length=64)
    hours: list[OpeningHours]
    escalation_seconds: int = Field(ge=1)
    offer_timeout_seconds: int = Field(ge=1)
    # R13: an agent who lets this many offers in a row expire is set away, not responding
    max_missed_offers: StrictInt | None = Field(default=None, ge=1, exclude_if=_absent)
    # R11: after a session of this queue ends, its agent's slot stays taken this long, or
    # until the agent finishes the wrap-up (with one of the codes, if required)
    wrap_up_seconds: StrictInt | None = Field(default=None, ge=1, le=3600, exclude_if=_absent)
    wrap_up_codes: list[WrapUpCode] | None = Field(default=None, max_length=50, exclude_if=_absent)
    wrap_up_code_required: StrictBool | None = Field(default=None, exclude_if=_absent)
    # R10: a waiting session's priority rises one step every this many seconds
    priority_aging_seconds: StrictInt | None = Field(default=None, ge=1, exclude_if=_absent)
    # R15: at most this many sessions wait; the entry form and hand-offs are refused beyond
    max_waiting: StrictInt | None = Field(default=None, ge=1, exclude_if=_absent)
    # R16: a session answered within this many seconds of its queueing meets the service level
    service_level_seconds: StrictInt | None = Field(default=None, ge=1, exclude_if=_absent)
    # R14: past a wait of overflow_after_seconds, or with an estimated wait over the other
    # threshold, a session is offered in the overflow queue too, keeping its age and priority
    overflow_queue_id: UUID | None = Field(default=None, exclude_if=_absent)
    overflow_after_seconds: StrictInt | None = Field(default=None, ge=1, exclude_if=_absent)
    overflow_when_estimated_wait_over_seconds: StrictInt | None = Field(
        default=None, ge=1, exclude_if=_absent
    )
    # R18: a session naming a preferred agent is offered to that agent only, this long
    preferred_agent_seconds: StrictInt | None = Field(default=None, ge=1, exclude_if=_absent)
    # R18: dated exceptions to ``hours`` (closed days, special hours), one a date
    exceptions: list[HoursException] | None = Field(
        default=None, max_length=400, exclude_if=_absent
    )
    # R9: agents offered this queue's sessions have each of these skills at the minimum or
    # better (1 when not given), the best match first; ``relaxation`` widens it as they wait
    required_skills: list[SkillName] | None = Field(default=None, max_length=20, exclude_if=_absent)
    minimum_proficiency: Proficiency | None = Field(default=None, exclude_if=_absent)
    relaxation: list[RelaxationStep] | None = Field(default=None, max_length=10, exclude_if=_absent)

    @model_validator(mode="after")
    def _skills_make_sense(self) -> QueueDefinition:
        skills = self.required_skills or []
        if len(set(skills)) != len(skills):
            raise ValueError("required_skills names a skill twice")
        steps = self.relaxation or []
        after = [step.after_seconds for step in steps]
        if after != sorted(set(after)):
            raise ValueError("relaxation steps come in order of after_seconds, each later")
        minimum = self.minimum_proficiency or 1
        for step in steps:
            if step.lower_minimum_to is not None:
                if step.lower_minimum_to >= minimum:
                    raise ValueError(
                        f"lower_minimum_to {step.lower_minimum_to} does not lower the minimum"
                        f" of {minimum} in force by then"
                    )
                minimum = step.lower_minimum_to
        return self
