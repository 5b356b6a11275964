"""bench/scaleout.py's rows: each scale-out figure is judged against one app server's
throughput measured in the same run, never against a fixed number."""

from bench.load import LoadResult
from bench.scaleout import Measured, rows


def measured(app_servers: int, requests: int, seconds: float = 10.0) -> Measured:
    result = LoadResult(latencies_ms=[50.0] * requests, answers=[], seconds=seconds)
    run = Measured(app_servers, result, {f"app{n}": 1 for n in range(1, app_servers + 1)})
    run.app_cpus = [0.2] * app_servers
    return run


def test_two_and_four_app_servers_are_judged_by_their_ratio_to_one():
    table = rows({1: measured(1, 120), 2: measured(2, 210), 4: measured(4, 420)})

    one, two, four = table
    assert (one.value, one.result, one.ratio) == (12.0, "", None)
    assert (two.ratio, two.result) == (21.0 / 12.0, "MISS")  # 1.75x < 1.8x
    assert (four.ratio, four.result) == (42.0 / 12.0, "PASS")  # 3.5x >= 3.4x
    assert "app 0.20+0.20+0.20+0.20 of 0.2 each" in four.how


def test_a_faster_machine_moves_the_targets_with_it():
    table = rows({1: measured(1, 500), 2: measured(2, 900), 4: measured(4, 1800)})

    assert [row.result for row in table] == ["", "PASS", "PASS"]
