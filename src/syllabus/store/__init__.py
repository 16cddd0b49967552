"""The store: SQLAlchemy tables, engine, migrations and queries."""
from syllabus.store.engine import Store, open_store

__all__ = ["Store", "open_store"]
