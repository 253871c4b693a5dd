"""Benchmarks and scripted experiments: the real-feature grounding benchmark, the recognition
distillation benchmark and its real-video smoke check, the efficiency benchmark, with the
resumable-run store and the statistics they share."""
from .reporting import format_table, machine_info, processor_name
from .statistics import paired_bootstrap, per_seed_deltas, two_level_bootstrap
from .store import ResultStore, config_text, file_digest, fingerprint, run_settings

__all__ = [
    'format_table', 'machine_info', 'processor_name', 'paired_bootstrap', 'per_seed_deltas',
    'two_level_bootstrap', 'ResultStore', 'config_text', 'file_digest', 'fingerprint',
    'run_settings'
]
