"""Invitations, pure: the invitations of one session folded from its stream, and the rules."""
