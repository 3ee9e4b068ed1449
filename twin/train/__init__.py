"""Training learned controllers (torch + stable-baselines3; the ``train`` extra)."""
