"""``make demo``: the story of REQUIREMENTS.md as far as it is built, step by step."""
