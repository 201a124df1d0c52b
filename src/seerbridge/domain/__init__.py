"""Plain types of the problem: titles, wanted items, releases, verdicts. No I/O, no SQLAlchemy, no httpx."""
