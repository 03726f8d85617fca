"""How good each detection path is: precision and recall from moderators' decisions (online)."""
