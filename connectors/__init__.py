"""Built-in connector plugins, one sub-package per system.

Each is registered through the ``fediflow`` entry-point group, exactly like a third-party package;
nothing here is imported by the hub core.
"""

__all__: list[str] = []
