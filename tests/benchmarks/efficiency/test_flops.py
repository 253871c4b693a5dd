"""The float32 GEMM rate that turns MACs into a compute floor."""
from mmemtm.benchmarks.efficiency.flops import floor_entry, gemm_mac_rate


def test_gemm_rate_and_the_floor():
    rate = gemm_mac_rate(size=128, repeats=3)
    assert rate['best_macs_per_s'] >= rate['macs_per_s'] > 0 and rate['runs'] == 3
    floor = floor_entry(2e9, dict(macs_per_s=1e12), latency_ms=4.0)
    assert floor == dict(floor_ms=2.0, x_floor=2.0)
