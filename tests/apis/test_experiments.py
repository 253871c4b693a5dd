"""Config surgery of scripted experiments (mmemtm.apis.experiments)."""
from mmengine.config import Config

from mmemtm.apis.experiments import set_epochs

REAL = 'configs/emtm_charades_clip.py'  # 12 epochs: 1-epoch warm-up, decay over epochs 1-12


def test_set_epochs_keeps_the_warm_up_and_stretches_the_configs_own_decay():
    cfg = Config.fromfile(REAL)
    warm_up, decay = (dict(p) for p in cfg.param_scheduler)
    set_epochs(cfg, 8)
    assert cfg.train_cfg.max_epochs == 8
    assert cfg.param_scheduler == [warm_up, dict(decay, end=8)]  # every other value kept


def test_a_single_epoch_keeps_only_the_warm_up_and_validation_can_be_turned_off():
    cfg = Config.fromfile(REAL)
    set_epochs(cfg, 1, validate=False)
    assert [p['end'] for p in cfg.param_scheduler] == [1]
    assert cfg.train_cfg.val_interval > 1


def test_schedules_without_phases_stay_empty():
    cfg = Config(dict(train_cfg=dict(max_epochs=3, val_interval=1), param_scheduler=[]))
    set_epochs(cfg, 6)
    assert cfg.param_scheduler == [] and cfg.train_cfg.max_epochs == 6
