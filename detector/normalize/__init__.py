"""Text normalization before embedding and shingling (see :mod:`detector.normalize.text`)."""

from .tables import NORMALIZER_VERSION
from .text import NormalizedText, normalize, text_hash

__all__ = ["NORMALIZER_VERSION", "NormalizedText", "normalize", "text_hash"]
