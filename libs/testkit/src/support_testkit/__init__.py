"""Test support shared by every package: real-service fixtures (the pytest plugin) and
polling with a deadline instead of sleeping."""

from support_testkit.waiting import eventually, stopped

__all__ = ["eventually", "stopped"]
