"""session-svc: the support session (rules S1-S12)."""
