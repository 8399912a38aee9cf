"""hub.sync._storable: text a database cannot hold is found, with its field, before the write."""

from __future__ import annotations

from hub.jsonutil import canonical_bytes
from hub.sync._storable import find_text, nul_field, surrogate_field


def test_a_nul_is_found_with_its_field() -> None:
    record = {"givenName": "Ann", "roles": [{"role": "teacher"}, {"role": "te\x00acher"}]}
    assert nul_field(canonical_bytes(record), record) == "roles[1].role"
    key = {"metadata": {"x\x00": "1"}}
    assert nul_field(canonical_bytes(key), key) == "metadata.x\x00"


def test_a_backslash_u0000_written_as_text_is_no_nul() -> None:
    record = {"note": "\\u0000 is how JSON writes a NUL"}
    assert b"\\u0000" in canonical_bytes(record)
    assert nul_field(canonical_bytes(record), record) is None


def test_a_clean_record_costs_one_search() -> None:
    record = {"givenName": "Zoë"}
    assert nul_field(canonical_bytes(record), record) is None


def test_a_lone_surrogate_is_found() -> None:
    assert surrogate_field({"a": "ok", "b": ["x\udcffy"]}) == "b[0]"
    assert surrogate_field({"a": "Zoë"}) is None
    assert find_text([1, 2.0, None, True], lambda t: True) is None  # only text is searched
