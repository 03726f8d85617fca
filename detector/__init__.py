"""sellerwatch's domain logic: everything the workers, CLI and admin UI adapt."""

__version__ = "0.1.0"
