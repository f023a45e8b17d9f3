"""Input distributions: synthetic token sequences with exactly known spectral structure."""

from ._base import InputConfig as InputConfig, Masking as Masking
from ._stub import Sticky as Sticky
