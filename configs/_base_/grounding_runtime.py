# Runtime of every mmemtm experiment: mmaction's defaults, the plugin import, seeding, the
# checkpoint kept by the best R1@0.7 on the validation split, random states saved in checkpoints
# (so --resume continues the interrupted run exactly), a stop at the first non-finite loss (before
# a checkpoint of NaN weights is saved), a lock on the work dir (a second training into it fails
# at once), and a DDP wrapper that also runs on CPU processes.
_base_ = ['mmaction::_base_/default_runtime.py']

custom_imports = dict(imports=['mmemtm'], allow_failed_imports=False)

default_hooks = dict(
    logger=dict(type='LoggerHook', interval=20, ignore_last=False),
    checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=2, save_best='R1@0.7',
                    rule='greater'),
    finite_loss=dict(type='NonFiniteLossHook'),
    work_dir_lock=dict(type='WorkDirLockHook'))

randomness = dict(seed=1234, deterministic=False)

# Stores the global random states (dropout...) in checkpoints and restores them on --resume;
# validation no longer draws from the training stream.
custom_hooks = [dict(type='RandomStateHook')]

# Works for GPU (nccl) and CPU (gloo: --cfg-options env_cfg.dist_cfg.backend=gloo) processes.
# The scope prefix is needed: mmengine looks model wrappers up in its root registry.
model_wrapper_cfg = dict(type='mmaction.DeviceAwareDistributedDataParallel')
