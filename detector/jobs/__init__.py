"""Background-job bookkeeping: tasks that exhausted their retries end here, visible, not looping."""
