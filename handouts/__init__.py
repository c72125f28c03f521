"""handouts: branded, accessible, reading-level-checked PDF patient handouts from YAML."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("handouts")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+source"
