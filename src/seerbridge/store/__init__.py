"""Persistence: SQLAlchemy models, the engine, and alembic migrations applied at start-up."""
