"""Routing, pure: who gets an offer."""
