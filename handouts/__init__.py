"""handouts: branded, accessible, reading-level-checked PDF patient handouts from YAML."""

__version__ = "0.2.0"
