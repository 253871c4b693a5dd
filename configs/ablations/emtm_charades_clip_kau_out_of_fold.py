# Ablation on real CLIP features (the previous default): the student distils the three offline
# teachers' in-sample train curves, mixed per query by a KAU that is FITTED ON THEIR OUT-OF-FOLD
# CURVES (each query's curves from a teacher that never saw its video,
# tools/cross_fit_teacher_curves.py): on their own training split the teachers have memorised the
# answers (SeqPAN most), so a KAU fitted there learns which teacher memorised a query, not which
# one to trust on a new video (docs/real_benchmark.md). The rest: emtm_charades_clip_kau_in_sample.py
# (KAU detached from the shared encoder, no co-trained branch). On val it scored below label KD from
# the plain average (40.9 against 42.3 best val R1@0.5, 5 seeds), now the default
# (configs/emtm_charades_clip.py).
#   python tools/cross_fit_teacher_curves.py configs/teachers/seqpan_charades_clip.py \
#       --folds 2 --name SeqPAN --out work_dirs/charades_clip/curves/seqpan_train_oof.npz \
#       --work-dir work_dirs/charades_clip/cross_fit/seqpan
_base_ = ['./emtm_charades_clip_kau_in_sample.py']

train_pipeline = [
    dict(t, aggregator_files=[f.replace('_train.npz', '_train_oof.npz') for f in t.files])
    if t.type == 'LoadTeacherCurves' else t for t in _base_.train_pipeline
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
