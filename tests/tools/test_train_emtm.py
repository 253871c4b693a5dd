"""EMTM trains through tools/train.py on a tiny planted set: the loss falls and it beats the
trivial baseline."""
import pytest

PRIOR_CONFIG = 'configs/baselines/span_prior_tacos_demo.py'


@pytest.mark.slow
def test_emtm_learns_and_beats_the_trivial_baseline(tmp_path, tiny_emtm, tiny_planted,
                                                    tiny_cfg_options, run_tool, scalars):
    records = tiny_emtm['records']
    losses = [r['loss'] for r in records if 'loss' in r]
    assert len(losses) >= 10
    assert sum(losses[-3:]) / 3 < 0.7 * sum(losses[:3]) / 3
    assert any('loss_kd' in r and 'loss_kau' in r and 'loss_cotrained_start' in r
               for r in records)
    run_tool(['tools/train.py', PRIOR_CONFIG, '--work-dir', str(tmp_path / 'prior'),
              '--cfg-options', *tiny_cfg_options(tiny_planted), 'train_cfg.max_epochs=10'])
    emtm_r1 = max(r['R1@0.5'] for r in records if 'R1@0.5' in r)
    prior_r1 = max(r['R1@0.5'] for r in scalars(tmp_path / 'prior') if 'R1@0.5' in r)
    assert emtm_r1 > prior_r1 + 15, (emtm_r1, prior_r1)
