"""rgbench: a declarative benchmark suite for renormalization-group claims about deep networks."""

from ._warnings import RgbenchWarning as RgbenchWarning

__version__ = "0.1.0"
DATA_FORMAT_VERSION = 2
