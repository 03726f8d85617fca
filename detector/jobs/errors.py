"""Which errors are worth retrying: the distinction between 'try again later' and 'this input is bad'."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, OperationalError

TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (OperationalError, ConnectionError, TimeoutError)


def is_transient(exc: BaseException) -> bool:
    """Connectivity and timeouts heal by themselves; anything else will fail the same way again."""
    from detector.index.base import IndexUnavailable

    return (isinstance(exc, TRANSIENT_ERRORS + (IndexUnavailable,))
            or (isinstance(exc, DBAPIError) and exc.connection_invalidated))
