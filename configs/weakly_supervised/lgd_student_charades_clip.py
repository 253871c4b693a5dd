# Local-global distillation (our reading of Bao et al., AAAI 2024): the weak student reads the
# APPEARANCE stream only, trained with its weak losses plus the frozen two-modality teacher's
# temporal boundaries (loss_local) and semantic activation map (loss_global). Training batches
# load both streams (the teacher reads both, the student its chunk); val/test load appearance
# only. Set model.teacher_checkpoint to the trained teacher
# (configs/weakly_supervised/mutual_teacher_charades_clip.py), e.g.
#   --cfg-options model.teacher_checkpoint=work_dirs/mutual_teacher/best_R1@0.5_epoch_N.pth
_base_ = ['./weak_student_charades_clip.py']

_teacher_cfg = dict(
    type='CrossModalMutualTeacher',
    branches=[{k: v for k, v in _base_.model.items()
               if k not in ('vocab', 'input_streams', 'data_preprocessor')}] * 2,
    loss_mutual=dict(type='MapDivergenceLoss', divergence='kl', loss_weight=1.0))
streams = 'appearance_motion'
model = dict(
    type='LocalGlobalDistiller',
    teacher=_teacher_cfg,
    teacher_checkpoint=None,
    teacher_streams=_base_.stream_layouts[streams],
    loss_local=dict(type='BoundaryDistillLoss', topk=1, box_weight=1.0, rank_weight=1.0,
                    loss_weight=1.0),
    loss_global=dict(type='MapDivergenceLoss', divergence='kl', loss_weight=1.0))
train_dataloader = dict(dataset=dict(pipeline=_base_.stream_pipelines[streams]['train']))
