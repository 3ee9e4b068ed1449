"""twin.envs package."""
