"""invite-svc: invitations to a support session (rules I1-I4, S3)."""
