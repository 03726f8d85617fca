"""Imports every domain's models so ``Base.metadata`` is complete (for Alembic and tests)."""

from detector.alerts import models as _alerts  # noqa: F401
from detector.audit import models as _audit  # noqa: F401
from detector.db.base import Base
from detector.jobs import models as _jobs  # noqa: F401
from detector.llm import models as _llm  # noqa: F401
from detector.metrics import models as _metrics  # noqa: F401
from detector.posts import models as _posts  # noqa: F401
from detector.review import models as _review  # noqa: F401
from detector.similarity import models as _similarity  # noqa: F401

metadata = Base.metadata
