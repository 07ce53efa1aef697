"""The throttle on ``denied`` audit entries of 401s (:class:`DenialThrottle`)."""

from __future__ import annotations

from pos_app.server.denials import DenialThrottle


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_key_gets_its_burst_then_is_counted_and_the_count_is_named_later() -> None:
    clock = _Clock()
    throttle = DenialThrottle(burst=2, global_limit=100, window=60, clock=clock)
    key = ("10.0.0.1", "POST", "/sales", "no credentials")
    assert [throttle.admit(key) for _ in range(5)] == [0, 0, None, None, None]
    assert throttle.admit(("10.0.0.2", "POST", "/sales", "no credentials")) == 0
    clock.now = 61
    assert throttle.admit(key) == 3  # the next entry names the three left out
    assert throttle.admit(key) == 0


def test_the_global_limit_caps_every_key_together() -> None:
    clock = _Clock()
    throttle = DenialThrottle(burst=5, global_limit=3, window=60, clock=clock)
    admitted = [throttle.admit((f"10.0.0.{i}", "POST", "/holds", "token not valid"))
                for i in range(5)]
    assert admitted == [0, 0, 0, None, None]
    clock.now = 60
    assert throttle.admit(("10.0.0.4", "POST", "/holds", "token not valid")) == 1
