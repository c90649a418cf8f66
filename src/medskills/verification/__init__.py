"""verification capability package."""

__all__: list[str] = []
