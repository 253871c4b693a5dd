import pytest
import torch

from mmemtm.benchmarks.reporting import SIMD_FLAGS, format_table, machine_info


def test_format_table_aligns_columns():
    table = format_table(['model', 'ms'], [['a', 1.5], ['long name', 12]]).splitlines()
    assert table == ['model       ms', '---------  ---', 'a          1.5', 'long name   12']
    with pytest.raises(ValueError, match='2 cells'):
        format_table(['a', 'b'], [[1]])


def test_machine_info_describes_the_machine():
    info = machine_info()
    assert info['processor'] and info['cpu_count'] >= 1
    assert info['cpu_capability'] == torch.backends.cpu.get_cpu_capability()
    assert set(info['simd_flags']) <= set(SIMD_FLAGS)
    if info['cpu_capability'] in ('AVX2', 'AVX512'):
        assert 'avx2' in info['simd_flags']
    assert info['torch_threads'] == torch.get_num_threads()
    assert len(info['load_average_start']) == 3 and info['date'].endswith('+00:00')
