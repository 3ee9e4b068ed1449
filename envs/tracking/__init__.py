"""G1 whole-body motion tracking: motion library, observation/reward terms, envs."""
