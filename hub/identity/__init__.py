"""Identity across sources: source-scoped ids (each source's id prefix) and links between the
records of several sources that describe one person, org, course or class (declarative match
rules, precedence by source). See docs/identity.md."""

from hub.identity._links import LinkOutcome, group_candidates, relink
from hub.identity._prefix import prefix_ids

__all__ = ["LinkOutcome", "group_candidates", "prefix_ids", "relink"]
