"""Alembic environment: one migration tree for SQLite and PostgreSQL.

``render_as_batch`` lets SQLite alter tables (it rebuilds them); ``compare_type`` makes
``alembic check`` catch column type drift too.
"""

from alembic import context

from detector.db.registry import metadata
from detector.db.session import make_engine
from detector.settings import get_settings

config = context.config
url = (context.get_x_argument(as_dictionary=True).get("url") or config.attributes.get("url")
       or get_settings().effective_database_url)


def _configure(**kwargs) -> None:
    context.configure(target_metadata=metadata, render_as_batch=True, compare_type=True, **kwargs)


if context.is_offline_mode():
    _configure(url=url, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()
    else:
        engine = make_engine(url)
        with engine.connect() as conn:
            _configure(connection=conn)
            with context.begin_transaction():
                context.run_migrations()
        engine.dispose()
