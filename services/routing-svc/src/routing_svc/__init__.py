"""routing-svc: WebACD queues, agents and offers (R1-R8, S9)."""
