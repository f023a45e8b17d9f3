"""Equinox residual MLP families; each returns the residual stream at every layer plus logits."""

from ._base import ArchitectureConfig as ArchitectureConfig
from ._stub import Tokenwise as Tokenwise
