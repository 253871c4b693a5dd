# EMTM's student alone (no teachers, no co-trained teacher; the reference's "BaseFast") on YOUR OWN
# data set: a folder of videos and a CSV of sentences with CLIP ViT-L/14 features
# (../_base_/datasets/custom_csv_clip.py; docs/your_own_dataset.md). The cheapest real model of
# mmemtm: the network and settings of ../ablations/emtm_charades_clip_student_only.py ("student
# alone" in docs/real_benchmark.md: test R1@0.5 33.5 over 3 seeds on the real Charades-STA CLIP
# set). Distilling teachers comes next: train configs/teachers/* on this data set and see
# docs/teacher_curves.md.
#   MMEMTM_DATA_ROOT=data/my_dataset python tools/train.py configs/custom/student_custom_csv_clip.py
# Checkpoint: best val R1@0.5; test once with tools/test.py.
_base_ = [
    '../_base_/grounding_runtime.py', '../_base_/datasets/custom_csv_clip.py',
    '../_base_/models/emtm.py', '../_base_/schedules/cpu_real.py'
]

model = dict(
    vocab=_base_.glove,
    max_vlen=_base_.max_vlen,
    video_dim=_base_.feature_dim,
    encoder=dict(char_dim=100),
    drop_rate=0.1,
    num_teachers=0,
    cotrained=None,
    aggregator=None,
    loss_kau=None,
    loss_kd=None,
    detach_aggregator_inputs=False)
default_hooks = dict(checkpoint=dict(save_best='R1@0.5', max_keep_ckpts=1))
