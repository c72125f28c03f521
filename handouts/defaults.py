"""Defaults the command line shows before anything is loaded: kept free of imports so ``--help`` is instant."""

PDF_VARIANTS = ("pdf/ua-1", "pdf/a-3a", "plain")
DEFAULT_VARIANT = "pdf/ua-1"
DEFAULT_TIMEOUT = 120  # seconds one handout may take
