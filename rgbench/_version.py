"""The package version and the stored-data format version (the bottom of the house: imports nothing)."""

__version__ = "0.1.0"
DATA_FORMAT_VERSION = 2
