"""Federation applies the hub's one scope rule: what a follower receives follows the scopes granted
at its approval (hub.auth.may_read); a follower approved without any gets roster-core only."""

from __future__ import annotations

from hub.auth import ROSTER_CORE_READONLY, ROSTER_DEMOGRAPHICS_READONLY, ROSTER_READONLY
from hub.federation._outbox import follower_may_read, follower_scopes


def test_no_scopes_means_roster_core_without_demographics() -> None:
    assert follower_scopes(None) == (ROSTER_CORE_READONLY,)
    assert follower_may_read(None, "User") and follower_may_read(None, "Enrollment")
    assert not follower_may_read(None, "Demographics")


def test_demographics_need_their_own_scope() -> None:
    assert not follower_may_read([ROSTER_READONLY], "Demographics")  # roster.readonly excludes them
    assert follower_may_read([ROSTER_CORE_READONLY, ROSTER_DEMOGRAPHICS_READONLY], "Demographics")
    assert not follower_may_read([ROSTER_DEMOGRAPHICS_READONLY], "User")


def test_types_no_oneroster_scope_speaks_of_go_to_every_follower() -> None:
    assert follower_may_read(None, "LibraryItem")
