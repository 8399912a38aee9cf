"""FediFlow hub: the core (plugins, settings, store, sync engine, change log) and its interfaces.

Third-party connectors import only :mod:`hub.sdk`, :mod:`hub.hookimpl` and :mod:`schemas`.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("fediflow")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"

__all__ = ["__version__"]
