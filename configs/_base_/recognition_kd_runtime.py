# Runtime of the recognition distillation configs: mmaction's defaults, the plugin import, the
# checkpoint kept by the best validation top-1 accuracy, random states saved in checkpoints (so
# --resume continues an interrupted run exactly) and a DDP wrapper that also runs on CPU processes.
_base_ = ['mmaction::_base_/default_runtime.py']

custom_imports = dict(imports=['mmemtm'], allow_failed_imports=False)

default_hooks = dict(
    logger=dict(type='LoggerHook', interval=10, ignore_last=False),
    checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=1, save_best='acc/top1',
                    rule='greater'))

randomness = dict(seed=0, deterministic=False)
custom_hooks = [dict(type='RandomStateHook')]
model_wrapper_cfg = dict(type='mmaction.DeviceAwareDistributedDataParallel')
