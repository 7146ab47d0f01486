"""Storage behind the `Repository` protocol: in memory and SQLite."""
