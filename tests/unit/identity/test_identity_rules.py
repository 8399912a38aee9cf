"""hub.identity's pure parts: the id prefix walk and the grouping of link candidates."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from hub.identity import group_candidates, prefix_ids
from hub.settings import IdentitySettings
from hub.store import LinkCandidate

DOCS = Path(__file__).parents[3] / "docs" / "identity.md"


def test_prefix_reaches_the_id_and_every_reference_but_not_metadata() -> None:
    mapped = {"sourcedId": "7", "class": {"sourcedId": "c1", "type": "class"},
              "terms": [{"sourcedId": "t1", "type": "academicSession"}],
              "roles": [{"role": "student", "org": {"sourcedId": "o1", "type": "org"}}],
              "metadata": {"x": {"sourcedId": "keep", "type": "org"}}, "title": "7"}
    prefix_ids(mapped, "lms:")
    assert mapped["sourcedId"] == "lms:7" and mapped["title"] == "7"
    assert mapped["class"]["sourcedId"] == "lms:c1" and mapped["terms"][0]["sourcedId"] == "lms:t1"
    assert mapped["roles"][0]["org"]["sourcedId"] == "lms:o1" and mapped["roles"][0]["role"] == "student"
    assert mapped["metadata"]["x"]["sourcedId"] == "keep"
    assert prefix_ids({"sourcedId": "7"}, "") == {"sourcedId": "7"}


def _c(id_: int, source: int, *keys: str | None, linked: int | None = None) -> LinkCandidate:
    return LinkCandidate(id_, source, linked, tuple(keys))


def test_records_of_different_sources_link_transitively_and_precedence_picks_the_shown_one() -> None:
    candidates = [_c(1, 10, "m1", "a"), _c(2, 20, None, "a"), _c(3, 30, "m1", None), _c(4, 20, "m2", "b")]
    wanted, groups, ambiguous = group_candidates(candidates, {10: 100, 20: 5, 30: 100})
    assert (groups, ambiguous) == (1, 0)
    assert wanted == {1: 2, 2: None, 3: 2, 4: None}


def test_a_group_with_two_records_of_one_source_is_ambiguous_and_not_linked() -> None:
    candidates = [_c(1, 10, "fam"), _c(2, 10, "fam"), _c(3, 20, "fam", linked=None), _c(4, 20, "x", linked=9)]
    wanted, groups, ambiguous = group_candidates(candidates, {})
    assert (groups, ambiguous) == (0, 1)
    assert wanted == {1: None, 2: None, 3: None, 4: None}  # and a stale link is cleared


def test_ties_in_precedence_show_the_oldest_record() -> None:
    wanted, _, _ = group_candidates([_c(8, 1, "k"), _c(5, 2, "k")], {})
    assert wanted == {8: 5, 5: None}


def test_the_documented_default_rules_are_the_settings_defaults() -> None:
    text = DOCS.read_text(encoding="utf-8")
    documented = json.loads(re.search(r"FEDIFLOW_IDENTITY__MATCH='(\{.*?\})'", text).group(1))
    assert {k: tuple(v) for k, v in documented.items()} == IdentitySettings().match


def test_rules_name_real_fields_of_canonical_types() -> None:
    with pytest.raises(ValueError, match="not a canonical type"):
        IdentitySettings(match={"Person": ("email",)})
    with pytest.raises(ValueError, match="unknown: mail"):
        IdentitySettings(match={"User": ("mail",)})
    assert IdentitySettings(match={"Class": ("classCode",)}).match == {"Class": ("classCode",)}
