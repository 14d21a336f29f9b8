"""media-relay: the live channel of a session (M1-M4, S5, S6, S8)."""
