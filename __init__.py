"""fundopt: allocate a mother fund's capital across candidate sub-funds."""

__version__ = "0.1.0"
