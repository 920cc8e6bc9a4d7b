"""The capacity plan is arithmetic on the fleet benchmark's figures: cores follow CPU ms per frame."""

import math

from benchmarks.capacity import ASSUMED, CITY, markdown, plan


def _fleet(worker_ms: float, gated_worker_ms: float) -> dict:
    cpu = {"web": 5.0, "worker": worker_ms, "postgres": 1.0, "redis": 0.5, "pgbouncer": 0.2}
    return {
        "cpu_ms_per_frame": cpu,
        "sql_statements_per_frame": 0.5,
        "disk_bytes_per_frame": 300,
        "jpeg_bytes_mean": 40_000,
        "p95_post_to_alert_ms": 400.0,
        "cameras_per_core": 10.0,
        "gated_idle_clip": {
            "cpu_ms_per_frame": {**cpu, "worker": gated_worker_ms, "web": 3.0},
            "analysed_share": 0.2,
            "sql_statements_per_frame": 0.2,
            "cameras_per_core": 30.0,
        },
    }


def test_worker_cores_are_the_citys_frames_times_the_measured_cpu_at_the_target_utilisation():
    found = plan(_fleet(worker_ms=20.0, gated_worker_ms=5.0))
    offered = CITY["branches"] * (CITY["door_fps"] + 2 * CITY["other_fps"])
    assert found["city"]["frames_per_second_offered"] == offered == 18_000
    util = ASSUMED["target_utilisation"]
    assert found["central"]["gating off"]["worker_cores"] == math.ceil(20.0 * offered / 1000 / util)
    assert found["central"]["gating on (idle clip)"]["worker_cores"] == math.ceil(5.0 * offered / 1000 / util)
    assert found["network_per_branch_kbit"]["jpeg_push"] == round(9 * 40_000 * 8 / 1000)


def test_halving_the_cost_of_a_frame_halves_the_worker_cores_and_the_page_says_so():
    slow, fast = plan(_fleet(40.0, 10.0)), plan(_fleet(20.0, 5.0))
    assert abs(slow["central"]["gating off"]["worker_cores"] - 2 * fast["central"]["gating off"]["worker_cores"]) <= 1
    page = markdown(fast, {"cpu": "AMD EPYC", "cores_available": 2, "load_average_at_start": [1.0]})
    assert f"**{fast['central']['gating off']['total_cores']}**" in page and "AMD EPYC" in page
