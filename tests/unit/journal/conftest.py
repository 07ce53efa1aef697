"""Fixtures of the journal unit tests (the throwaway CA is shared with the client tests)."""

from __future__ import annotations

from tests.unit.client.conftest import ca_file

__all__ = ["ca_file"]
