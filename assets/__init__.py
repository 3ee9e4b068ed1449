"""twin.assets package."""
