"""Append-only audit log of who did what, for moderators' and admins' actions."""
