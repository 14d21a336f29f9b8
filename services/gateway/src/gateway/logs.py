"""The services' logs: each service's default schema name (what ``supportctl`` replays and
migrates) and the context of the events it records itself (what its outbox relay publishes; the
relay's log also keeps copies of session events, which are session-svc's to publish). A module
of its own so that the command line imports nothing else for it."""

LOGS = ("session_svc", "invite_svc", "routing_svc", "media_relay")
OWN_CONTEXT = {
    "session_svc": "session",
    "invite_svc": "invite",
    "routing_svc": "routing",
    "media_relay": "relay",
}


def parse_logs(given: list[str] | None) -> dict[str, str]:
    """``--log SERVICE`` or ``--log SERVICE=SCHEMA`` (a deployment's own ``DATABASE_SCHEMA``)
    -> service: schema; none given: every service's log by its default schema."""
    logs: dict[str, str] = {}
    for text in given or list(LOGS):
        service, _, schema = text.partition("=")
        if service not in OWN_CONTEXT:
            known = ", ".join(LOGS)
            raise ValueError(f"--log {text}: name the service ({known}), as SERVICE=SCHEMA")
        if schema == "" and "=" in text:
            raise ValueError(f"--log {text}: give the schema after =")
        logs[service] = schema or service
    return logs


def parse_positions(given: list[str] | None, logs: dict[str, str]) -> dict[str, int]:
    """``--from N`` (every log) or ``--from SERVICE=N`` (positions are per log: what the last
    replay printed) -> service: the position to publish after; -1 where nothing is given."""
    after = dict.fromkeys(logs, -1)
    for text in given or []:
        service, _, number = text.rpartition("=")
        if service and service not in logs:
            raise ValueError(f"--from {text}: {service} is not a log being replayed")
        try:
            position = int(number)
        except ValueError:
            raise ValueError(f"--from {text}: a position is a whole number") from None
        for name in [service] if service else list(logs):
            after[name] = position
    return after
