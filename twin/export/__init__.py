"""Exporters of twin scenes to the formats of other tools (OpenUSD for Isaac Sim / Lab)."""
