"""The twin command line."""
