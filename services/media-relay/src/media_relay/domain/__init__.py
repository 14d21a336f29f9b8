"""The relay's pure part: its fold of a session, and who may send what."""
