from typing import Literal

from ..registry import ARCHITECTURES
from ._base import ArchitectureConfig


@ARCHITECTURES.register
class Tokenwise(ArchitectureConfig):
    """Pre-LN residual MLP applied to each position on its own (placeholder until issue 4 lands)."""

    kind: Literal["tokenwise"] = "tokenwise"
