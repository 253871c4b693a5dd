"""Rescaling a config's schedule to a new number of epochs (mmemtm.engine.schedule_rescaling)."""
from mmengine.config import Config

from mmemtm.engine import set_epochs

REAL = 'configs/emtm_charades_clip.py'  # 12 epochs: 1-epoch warm-up, decay over epochs 1-12


def schedule_config(*phases: dict, epochs: int = 12, val_interval: int = 1) -> Config:
    return Config(dict(train_cfg=dict(type='EpochBasedTrainLoop', max_epochs=epochs, val_begin=1,
                                      val_interval=val_interval),
                       param_scheduler=list(phases)))


def test_a_warm_up_keeps_its_length_and_the_linear_decay_stretches_to_the_new_end():
    warm_up = dict(type='LinearLR', start_factor=0.01, by_epoch=True, begin=0, end=1,
                   convert_to_iter_based=True)
    decay = dict(type='LinearLR', start_factor=1.0, end_factor=0.1, by_epoch=True, begin=1,
                 end=12)
    cfg = schedule_config(warm_up, decay)
    set_epochs(cfg, 24)
    assert cfg.train_cfg.max_epochs == 24
    assert cfg.param_scheduler == [warm_up, dict(decay, end=24)]  # every other value kept


def test_an_overlapping_constant_warm_up_keeps_its_length():
    # adamw_warmup_linear: ConstantLR restores the rate at end - 1, where the decay starts
    warm_up = dict(type='ConstantLR', factor=0.01, by_epoch=True, begin=0, end=3)
    decay = dict(type='LinearLR', start_factor=0.98, end_factor=0.01, by_epoch=True, begin=2,
                 end=100)
    cfg = schedule_config(warm_up, decay, epochs=100)
    set_epochs(cfg, 10)
    assert cfg.param_scheduler == [warm_up, dict(decay, end=10)]


def test_a_cosine_over_the_whole_run_stretches_with_its_period():
    cosine = dict(type='CosineAnnealingLR', T_max=12, eta_min=2e-5, by_epoch=True, begin=0,
                  end=12)
    cfg = schedule_config(cosine)
    set_epochs(cfg, 6)
    assert cfg.param_scheduler == [dict(cosine, T_max=6, end=6)]


def test_step_milestones_move_with_the_decay_after_the_warm_up():
    warm_up = dict(type='LinearLR', start_factor=0.01, by_epoch=True, begin=0, end=1,
                   convert_to_iter_based=True)
    steps = dict(type='MultiStepLR', milestones=[8, 11], gamma=0.1, by_epoch=True, begin=0,
                 end=12)
    cfg = schedule_config(warm_up, steps)
    set_epochs(cfg, 23)  # epochs 1-12 become 1-23: twice as long
    assert cfg.param_scheduler == [warm_up, dict(steps, milestones=[15, 21], end=23)]
    cfg = schedule_config(dict(steps))
    set_epochs(cfg, 24)
    assert cfg.param_scheduler == [dict(steps, milestones=[16, 22], end=24)]


def test_iteration_phases_are_kept_as_they_are():
    warm_up = dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=500)
    cfg = schedule_config(warm_up)
    set_epochs(cfg, 3)
    assert cfg.param_scheduler == [warm_up]


def test_a_single_epoch_keeps_only_the_warm_up_and_validation_can_be_turned_off():
    cfg = Config.fromfile(REAL)
    set_epochs(cfg, 1, validate=False)
    assert [p['end'] for p in cfg.param_scheduler] == [1]
    assert cfg.train_cfg.val_interval > 1


def test_the_validation_interval_never_exceeds_the_run():
    cfg = schedule_config(val_interval=5)
    set_epochs(cfg, 3)
    assert cfg.train_cfg.val_interval == 3 and cfg.train_cfg.val_begin == 1
    set_epochs(cfg, 12)
    assert cfg.train_cfg.val_interval == 3


def test_schedules_without_phases_stay_empty():
    cfg = Config(dict(train_cfg=dict(max_epochs=3, val_interval=1), param_scheduler=[]))
    set_epochs(cfg, 6)
    assert cfg.param_scheduler == [] and cfg.train_cfg.max_epochs == 6
