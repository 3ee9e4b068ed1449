"""twin.configs package."""
