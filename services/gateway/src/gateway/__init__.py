"""The gateway: the HTTP API of CONTRACT.md over request/reply to the services (E1)."""
