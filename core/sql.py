"""Precompiled SQL for the hot paths (click redirect, postback, ledger posting).

Measured on those paths: compiling a query with the ORM costs more CPU than PostgreSQL spends
running it. Statements here are built once per process from the models' metadata (so a new
column is picked up without editing SQL) and run with bound parameters only.

On PostgreSQL they go through a server-side-binding psycopg cursor on Django's own connection,
wrapped like any Django cursor (query logging, execute wrappers, error mapping, the connection's
transaction state). With `prepare_threshold=0` in the database OPTIONS, PostgreSQL plans each of
them once per connection. Django's ORM uses client-side binding, which never prepares, so only
these statements are affected. Elsewhere (SQLite, the quickstart) a plain Django cursor runs the
same text: only portable SQL belongs here (INSERT ... ON CONFLICT DO NOTHING ... RETURNING works on
both).
"""

import functools
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

import psycopg
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connection, connections, models
from django.db.backends.utils import CursorDebugWrapper
from django.db.models import Field, Model

_M = TypeVar("_M", bound=Model)


def hot_connection() -> Any:
    """The default connection itself, to look up once per call: every attribute read on the
    `django.db.connection` proxy is a context-local lookup, measurable at dozens per request."""
    return connections[DEFAULT_DB_ALIAS]


# Fields whose database value is the Python value itself when it is a str, int or bool: the
# ORM's preparation (to_python, validation of the type) is skipped for those values. Exact
# classes only, so a subclass with its own preparation is always prepared.
_PLAIN_FIELDS = frozenset(
    {
        models.CharField,
        models.TextField,
        models.BooleanField,
        models.IntegerField,
        models.BigIntegerField,
        models.SmallIntegerField,
        models.PositiveIntegerField,
        models.PositiveSmallIntegerField,
        models.PositiveBigIntegerField,
        models.AutoField,
        models.BigAutoField,
    }
)
_PLAIN_VALUES = (str, int, bool)


def column_of(field: Field) -> str:
    """The table column of a concrete field. (A many-to-many field has none: asking for its
    column is a programming error.)"""
    if field.column is None:
        raise TypeError(f"{field!r} has no column of its own")
    return field.column


def concrete_field(model: type[Model], name: str) -> Field:
    """`model`'s field `name`, which must have a column (not a reverse relation or a
    many-to-many field)."""
    field = model._meta.get_field(name)
    if not isinstance(field, Field) or field.column is None:
        raise TypeError(f"{model.__name__}.{name} has no column of its own")
    return field


def _is_plain(field: Field) -> bool:
    if type(field) is models.ForeignKey or type(field) is models.OneToOneField:
        return _is_plain(field.target_field)
    return type(field) in _PLAIN_FIELDS


@functools.cache
def _plain_fields(model: type[Model]) -> frozenset[str]:
    return frozenset(field.name for field in model._meta.concrete_fields if _is_plain(field))


def prepared(fields: Sequence[Field], values: Sequence[Any], db: Any) -> list[Any]:
    """`values` for `fields` ready to bind, as the ORM would prepare them for a save."""
    params = []
    for field, value in zip(fields, values, strict=True):
        if value is None or (
            type(value) in _PLAIN_VALUES and field.name in _plain_fields(field.model)
        ):
            params.append(value)
        else:
            params.append(field.get_db_prep_save(value, db))
    return params


class _PreparedDebugCursor(CursorDebugWrapper):
    """Query logging (DEBUG, tests) for server-side-binding cursors, whose executed query
    Django cannot read back: the statement is logged with its parameters inlined instead."""

    def execute(self, sql: Any, params: Any = None) -> Any:  # as Django's: a str or composed SQL
        log_length = len(self.db.queries_log)
        try:
            return super().execute(sql, params)
        finally:
            if len(self.db.queries_log) > log_length and self.db.queries_log[-1]["sql"] is None:
                try:
                    self.db.queries_log[-1]["sql"] = self.db.ops.compose_sql(sql, params)
                except Exception:
                    self.db.queries_log[-1]["sql"] = sql


@contextmanager
def hot_cursor() -> Iterator[Any]:
    """A Django-wrapped cursor whose statements PostgreSQL prepares (see the module docstring)."""
    db = hot_connection()
    if db.vendor != "postgresql":
        with db.cursor() as cursor:
            yield cursor
        return
    # As Django's own cursors do: a connection the server has ended since the last request is
    # replaced here, not found dead by the click's INSERT. Free on a quiet connection
    # (core.db.postgresql).
    db.close_if_health_check_failed()
    db.ensure_connection()
    raw_cursor = psycopg.Cursor(db.connection)
    wrapped = (
        _PreparedDebugCursor(raw_cursor, db) if db.queries_logged else db.make_cursor(raw_cursor)
    )
    with wrapped as cursor:
        yield cursor


def execute_fetchone(sql: str, params: Sequence[Any]) -> tuple | None:
    """Run one statement and return its first row (None when it returns no row)."""
    with hot_cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def execute_returning(sql: str, params: Sequence[Any]) -> tuple:
    """Run a statement that always returns a row (an INSERT ... RETURNING without ON CONFLICT)
    and return that row."""
    row = execute_fetchone(sql, params)
    if row is None:
        raise DatabaseError("The statement returned no row.")
    return row


def execute_fetchall(sql: str, params: Sequence[Any]) -> list[tuple]:
    with hot_cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


@functools.cache
def _insert_statement(
    model: type[Model], *, on_conflict_do_nothing: bool, with_pk: bool
) -> tuple[str, tuple[Field, ...]]:
    fields = tuple(
        field for field in model._meta.concrete_fields if with_pk or not field.primary_key
    )
    pk_column = column_of(model._meta.pk)
    # Table and column names come from our models; every value is a bound parameter.
    sql = "INSERT INTO {table} ({columns}) VALUES ({values}){conflict} RETURNING {pk}".format(  # noqa: S608
        table=connection.ops.quote_name(model._meta.db_table),
        columns=", ".join(connection.ops.quote_name(column_of(field)) for field in fields),
        values=", ".join(["%s"] * len(fields)),
        conflict=" ON CONFLICT DO NOTHING" if on_conflict_do_nothing else "",
        pk=connection.ops.quote_name(pk_column),
    )
    return sql, fields


@functools.cache
def _bulk_insert_statement(model: type[Model], fields: tuple[str, ...], rows: int) -> str:
    columns = [column_of(concrete_field(model, name)) for name in fields]
    row = "(" + ", ".join(["%s"] * len(columns)) + ")"
    return "INSERT INTO {table} ({columns}) VALUES {rows}".format(  # noqa: S608 - see above
        table=connection.ops.quote_name(model._meta.db_table),
        columns=", ".join(connection.ops.quote_name(column) for column in columns),
        rows=", ".join([row] * rows),
    )


def rows_insert(model: type[Model], fields: tuple[str, ...], rows: Sequence[Sequence[Any]]) -> None:
    """INSERT several rows of `model` in one statement; `rows` hold values for `fields`, in order.

    Values are prepared for the database by the fields (like the ORM does), no instance is built.
    """
    if not rows:
        return
    model_fields = [concrete_field(model, name) for name in fields]
    db = hot_connection()
    params = [value for row in rows for value in prepared(model_fields, row, db)]
    with hot_cursor() as cursor:
        cursor.execute(_bulk_insert_statement(model, fields, len(rows)), params)


@functools.cache
def _attnames(model: type[Model]) -> tuple[str, ...]:
    return tuple(field.attname for field in model._meta.concrete_fields)


@functools.cache
def _converters(model: type[Model]) -> tuple[tuple[Any, list], ...]:
    # What the ORM applies to a column read from the database (JSON decoding, SQLite's dates...).
    columns = [field.get_col(model._meta.db_table) for field in model._meta.concrete_fields]
    return tuple(
        (col, connection.ops.get_db_converters(col) + col.get_db_converters(connection))
        for col in columns
    )


def model_columns(model: type[Model], alias: str) -> str:
    """`alias.col1, alias.col2, ...`: every concrete column of `model`, in field order."""
    return ", ".join(
        f"{alias}.{connection.ops.quote_name(column_of(field))}"
        for field in model._meta.concrete_fields
    )


def model_from_row(model: type[_M], values: Sequence[Any]) -> _M:
    """An instance from the values of `model_columns(model, ...)`, as the ORM would build it."""
    db = hot_connection()
    converted = []
    for (col, converters), value in zip(_converters(model), values, strict=True):
        for converter in converters:
            value = converter(value, col, db)
        converted.append(value)
    return model.from_db(db.alias, _attnames(model), converted)


def model_insert(instance: Model, *, on_conflict_do_nothing: bool = False) -> bool:
    """INSERT `instance` in one statement, like `save(force_insert=True)` without signals.

    Every concrete field is written as it is on the instance (defaults were applied by the
    model's __init__; `auto_now` fields are not touched: set them yourself). The primary key is
    sent when set, else assigned from the RETURNING clause.

    With `on_conflict_do_nothing`, a row that would violate any unique constraint is not written
    and False is returned (PostgreSQL first waits for a concurrent transaction inserting the same
    key, exactly as the unique violation would): the caller reads the existing row, no savepoint
    needed. Returns True when the row was inserted.
    """
    with_pk = instance.pk is not None
    sql, fields = _insert_statement(
        type(instance), on_conflict_do_nothing=on_conflict_do_nothing, with_pk=with_pk
    )
    db = hot_connection()
    params = prepared(fields, [getattr(instance, field.attname) for field in fields], db)
    row = execute_fetchone(sql, params)
    if row is None:
        return False
    if not with_pk:
        instance.pk = row[0]
    instance._state.adding = False
    instance._state.db = db.alias
    return True
