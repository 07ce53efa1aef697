"""Fixtures of the client unit tests: a throwaway CA certificate."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.certs import make_ca


@pytest.fixture
def ca_file(tmp_path: Path) -> Path:
    """A self-signed CA certificate (PEM) in ``tmp_path``."""
    path = tmp_path / "unit-ca.pem"
    path.write_bytes(make_ca("unit test CA").pem)
    return path
