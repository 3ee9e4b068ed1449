"""twin.controllers package."""
