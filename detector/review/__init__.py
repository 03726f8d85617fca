"""What the paths flagged (detections) and what moderators decided about it."""
