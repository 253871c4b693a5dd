# EMTM on REAL CLIP ViT-L/14 features of Charades-STA (the default's label KD) with the teachers
# weighed by fixed weights fitted on their VAL curves (videos none of them trained on), instead of
# the plain average: a teacher that memorised its training split cannot look better than it is
# there. The weights below are those tools/analysis/benchmark_real.py fitted on the teachers of
# docs/real_benchmark.md (start, end per teacher: SeqPAN, 2D-TAN, SCDM); the benchmark refits
# them for its own teachers (mmemtm.apis.teacher_ensembles.fit_teacher_weights).
_base_ = ['../emtm_charades_clip.py']

model = dict(aggregator=dict(_delete_=True, type='FixedTeacherWeights',
                             weights=[[1.0, 1.0], [1.0, 1.0], [1.0, 1.0]]))
