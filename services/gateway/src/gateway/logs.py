"""The services' logs, by their default schema names (what ``supportctl`` replays and
migrates); a module of its own so that the command line imports nothing else for it."""

LOGS = ("session_svc", "invite_svc", "routing_svc", "media_relay")
