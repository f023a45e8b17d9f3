class RgbenchWarning(UserWarning):
    """Base of rgbench's own warnings (tests turn them into errors)."""
