# The two-modality weak teacher with cross-modal mutual learning (our reading of Bao et al.,
# AAAI 2024; docs/weakly_supervised.md): one WeakGaussianGrounder branch per stream (appearance,
# motion), each with its weak loss, plus a mutual term pulling each branch's activation map
# towards the other's (which gets no gradient from it). loss_mutual=None: no mutual learning.
_base_ = ['./weak_gaussian.py']

branch = {k: v for k, v in _base_.model.items() if k not in ('vocab', 'input_streams',
                                                              'data_preprocessor')}
model = dict(
    _delete_=True,
    type='CrossModalMutualTeacher',
    vocab=None,
    branches=[branch, branch],
    input_streams=('appearance', 'motion'),
    loss_mutual=dict(type='MapDivergenceLoss', divergence='kl', loss_weight=1.0),
    predict_with='fused',
    topk=5,
    nms_thr=0.5,
    data_preprocessor=dict(type='GroundingDataPreprocessor', max_vlen=None))
