"""Shared fixtures: a seeded numpy generator and glassnet's generator reset per test."""
import numpy as np
import pytest

import glassnet as gn


@pytest.fixture(autouse=True)
def _seed():
    gn.manual_seed(0)


@pytest.fixture
def rng():
    return np.random.default_rng(1234)
