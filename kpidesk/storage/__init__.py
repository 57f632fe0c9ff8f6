"""Storage: SQLModel tables, the engine, migrations, bulk paths."""
