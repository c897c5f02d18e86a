"""What the test database's schema holds (PostgreSQL catalogs)."""

from django.db import connection


def index_names(table: str) -> list[str]:
    """The names of the indexes on `table`, sorted."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = %s ORDER BY indexname", [table]
        )
        return [name for (name,) in cursor.fetchall()]
