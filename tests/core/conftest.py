"""Backend fixture for core tests: every test that takes ``xp`` runs once per array
backend (numpy always; cupy only where a GPU answers, else it is skipped with the reason)."""

from __future__ import annotations

import pytest

from core.backend import BackendError, get_xp


@pytest.fixture(params=["numpy", "cupy"])
def xp(request):
    try:
        return get_xp(request.param)
    except BackendError as e:
        pytest.skip(str(e))
