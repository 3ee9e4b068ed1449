"""Shared fixtures for twin.record tests (helpers live in record_fakes.py)."""

import numpy as np
import pytest


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)
