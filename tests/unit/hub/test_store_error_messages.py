"""hub.store._db.store_error: a database error becomes a short StoreError without SQL or values."""

from __future__ import annotations

from sqlalchemy.exc import DataError, IntegrityError, OperationalError

from hub.errors import StoreError
from hub.store._db import short_reason, store_error


class _DriverError(Exception):
    pass


def test_a_data_error_is_a_short_store_error_without_values() -> None:
    orig = _DriverError("<class 'asyncpg.exceptions.UntranslatableCharacterError'>: unsupported Unicode escape "
                        "sequence\nDETAIL: \\u0000 cannot be converted to text.\nCONTEXT: JSON data, line 1: "
                        "{\"email\": \"ann@school.example.org\"...")
    exc = DataError("INSERT INTO entities VALUES ($1, $2)", [("ann@school.example.org",)], orig)
    error = store_error(exc)
    assert isinstance(error, StoreError)
    assert str(error) == "database error: asyncpg.exceptions.UntranslatableCharacterError: unsupported Unicode " \
                         "escape sequence"
    assert "ann@" not in str(error) and "INSERT" not in str(error)


def test_quoted_values_are_elided_and_the_reason_is_bounded() -> None:
    orig = _DriverError('invalid input syntax for type integer: "secret-42" ' + "x" * 500)
    reason = short_reason(OperationalError("SELECT 1", {}, orig))
    assert "secret-42" not in reason and len(reason) <= 200


def test_an_integrity_error_stays_one() -> None:
    exc = IntegrityError("INSERT", {}, _DriverError("UNIQUE constraint failed: tenants.slug"))
    assert store_error(exc) is exc
