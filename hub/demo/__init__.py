"""Demo and test data: realistic, deterministic OneRoster CSV bundles (``fediflow demo``, tests, bench/).

Not part of the runtime core: nothing in the hub imports it but the ``fediflow demo`` command.
"""

from hub.demo._bundle import BundleStats, MutationStats, generate_bundle, mutate_bundle

__all__ = ["BundleStats", "MutationStats", "generate_bundle", "mutate_bundle"]
