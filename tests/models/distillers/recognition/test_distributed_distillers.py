"""Two CPU processes (gloo) train GKD and staged KD like one process at the same global batch.

Each test builds the distiller in every process, wraps it in the DDP wrapper of its config's
``model_wrapper_cfg`` (as mmengine's runner does) and trains a few steps; rank ``r`` takes items
``r, r + 2, ...`` of each global batch, as mmengine's ``DefaultSampler`` does. The losses are
means over the samples (the students keep their batch-norm statistics, ``norm_eval``: per-process
batch statistics would make the two set-ups differ; the CVAE latent is its mean, not a draw), so
DDP's average of the two ranks' gradients is the one-process gradient in exact arithmetic. The
models train in float64: in float32 the rounding differences of the reduction grow over the steps
to ~5e-5 (relative; reordering one process's batch alone gives ~7e-6), in float64 they stay below
1e-12, far from the 1e-3 by which half the global batch moves the weights.
"""
from pathlib import Path
from typing import Dict, List

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from mmaction.registry import MODEL_WRAPPERS, MODELS, OPTIM_WRAPPER_CONSTRUCTORS
from mmengine.config import Config
from mmengine.registry import init_default_scope

import mmemtm  # noqa: F401  (registers the models in the spawned processes)

from ports import free_port
from recognition_kd_helpers import make_batch, recognizer, set_epoch

REPO = Path(__file__).resolve().parents[4]
GKD_CONFIG = REPO / 'configs/recognition_kd/gkd_synthetic_motion.py'
STAGED_CONFIG = REPO / 'configs/recognition_kd/staged_kd_synthetic_motion.py'
NUM_SAMPLES, GLOBAL_BATCH, EPOCHS = 8, 4, 2
LABELS = [0, 1, 2, 3, 1, 0, 3, 2]


def global_batches(epoch: int) -> List[List[int]]:
    """Sample indices of each global batch of ``epoch`` (a seeded shuffle per epoch)."""
    order = torch.randperm(NUM_SAMPLES, generator=torch.Generator().manual_seed(epoch)).tolist()
    return [order[i:i + GLOBAL_BATCH] for i in range(0, NUM_SAMPLES, GLOBAL_BATCH)]


def select(data: dict, items: List[int]) -> dict:
    return dict(inputs=[data['inputs'][i] for i in items],
                data_samples=[data['data_samples'][i] for i in items])


def student_cfg() -> dict:
    cfg = recognizer('mixed_4d')
    cfg['backbone']['norm_eval'] = True
    return cfg


def build_gkd():
    model = MODELS.build(dict(
        type='GenerativeFeatureDistiller', student=student_cfg(),
        teacher=recognizer('conv3d_1a_7x7', cvae=True),
        cvae=dict(type='FeatureCVAE', spatial_size=1), sample_latent=False,
        loss_reconstruction=dict(type='RampedMSELoss', loss_weight=0.5, ramp_epochs=1)))
    optim = dict(type='PartsOptimWrapperConstructor', optim_wrapper_cfg=dict(
        student=dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=0.1)),
        cvae=dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=0.1))))
    return model, optim, GKD_CONFIG


def build_staged():
    # Only the (pseudo-)label loss is active: the substages and the logits join after training.
    model = MODELS.build(dict(
        type='StagedDistiller', student=student_cfg(), teacher=recognizer('conv3d_1a_7x7'),
        stage_epochs=(9, 9, 9, 9),
        pseudo_label=dict(num_samples=NUM_SAMPLES, momentum=0.5, source='teacher',
                          temperature=2.0)))
    optim = dict(type='DefaultOptimWrapperConstructor',
                 optim_wrapper_cfg=dict(type='OptimWrapper',
                                        optimizer=dict(type='SGD', lr=0.1)))
    return model, optim, STAGED_CONFIG


BUILDERS = dict(gkd=build_gkd, staged=build_staged)


def in_float64(model: torch.nn.Module) -> None:
    """Parameters, buffers and preprocessed inputs in float64 (the preprocessor casts to
    float32)."""
    model.double()
    model.data_preprocessor.register_forward_hook(
        lambda module, args, out: dict(out, inputs=out['inputs'].double()))


def train(kind: str, rank: int, world_size: int, items_per_rank=None) -> Dict[str, torch.Tensor]:
    """Train ``kind`` for :data:`EPOCHS` epochs as rank ``rank`` of ``world_size``; the model's
    final state. ``items_per_rank`` overrides which items of a global batch this process takes."""
    torch.manual_seed(0)
    model, optim_cfg, config = BUILDERS[kind]()
    model.init_weights()
    # teacher predictions that differ between samples and classes (staged KD's pseudo labels
    # follow them; the untrained teacher's features are ~1e-6)
    torch.nn.init.normal_(model.teacher.cls_head.fc_cls.weight, std=1e6)
    in_float64(model)
    model.train()
    optim_wrapper = OPTIM_WRAPPER_CONSTRUCTORS.build(optim_cfg)(model)
    runner_model = model
    if world_size > 1:
        runner_model = MODEL_WRAPPERS.build(Config.fromfile(config).model_wrapper_cfg,
                                            default_args=dict(module=model, device_ids=[0]))
        assert type(runner_model).__name__ == 'DeviceAwareDistributedDataParallel'
    data = make_batch(LABELS, list(range(NUM_SAMPLES)))
    take = items_per_rank or slice(rank, None, world_size)
    for epoch in range(EPOCHS):
        set_epoch(epoch)
        for batch in global_batches(epoch):
            runner_model.train_step(select(data, batch[take]), optim_wrapper)
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


KINDS = ('gkd', 'staged')


def worker(rank: int, world_size: int, port: int, out: str) -> None:
    """Rank ``rank``: each distiller of :data:`KINDS` in turn, its weights to
    ``out/{kind}_rank{rank}.pth``."""
    torch.set_num_threads(1)
    init_default_scope('mmaction')
    dist.init_process_group('gloo', init_method=f'tcp://127.0.0.1:{port}', rank=rank,
                            world_size=world_size)
    try:
        for kind in KINDS:
            torch.save(train(kind, rank, world_size), Path(out) / f'{kind}_rank{rank}.pth')
    finally:
        dist.destroy_process_group()


@pytest.fixture(scope='module')
def two_processes(tmp_path_factory) -> Dict[str, List[Dict[str, torch.Tensor]]]:
    """Each distiller's weights on both ranks of one 2-process run (one start-up of two fresh
    interpreters for both distillers): kind -> [rank 0, rank 1]."""
    out = tmp_path_factory.mktemp('two_processes')
    mp.spawn(worker, args=(2, free_port(), str(out)), nprocs=2, join=True)
    return {kind: [torch.load(out / f'{kind}_rank{r}.pth', weights_only=True) for r in range(2)]
            for kind in KINDS}


def trained(state: Dict[str, torch.Tensor], prefixes) -> Dict[str, torch.Tensor]:
    return {k: v.double() for k, v in state.items()
            if k.startswith(prefixes) and v.is_floating_point()}


def relative_gap(a: Dict[str, torch.Tensor], b: Dict[str, torch.Tensor]) -> float:
    """``||a - b|| / ||a||`` over all tensors together."""
    diff = sum(float(((a[k] - b[k])**2).sum()) for k in a)
    return (diff / sum(float((a[k]**2).sum()) for k in a))**0.5


def assert_same_training(single: dict, ranks: List[dict], control: dict, prefixes) -> None:
    """Both ranks hold the one-process weights up to rounding; a different global batch
    (``control``) moves them far further."""
    expected = trained(single, prefixes)
    for state in ranks:
        got = trained(state, prefixes)
        assert got.keys() == expected.keys()
        # float64 rounding of the gradient reduction only (~1e-14 measured)
        assert relative_gap(expected, got) < 1e-9
        worst = max(float((expected[k] - got[k]).abs().max()) for k in expected)
        assert worst < 1e-8, worst
    assert relative_gap(expected, trained(control, prefixes)) > 1e-3


@pytest.mark.slow
def test_gkd_two_processes_match_one_process(two_processes):
    ranks = two_processes['gkd']
    single = train('gkd', 0, 1)
    control = train('gkd', 0, 1, items_per_rank=slice(0, None, 2))
    assert_same_training(single, ranks, control, ('student.', 'cvae.'))


@pytest.mark.slow
def test_staged_kd_pseudo_label_bank_two_processes_match_one_process(two_processes):
    ranks = two_processes['staged']
    single = train('staged', 0, 1)
    control = train('staged', 0, 1, items_per_rank=slice(0, None, 2))
    assert bool(single['pseudo_labels.seen'].all())
    for state in ranks:
        # every process holds the whole bank: the samples of both ranks, moved as in one process
        assert torch.equal(state['pseudo_labels.seen'], single['pseudo_labels.seen'])
        torch.testing.assert_close(state['pseudo_labels.labels'], single['pseudo_labels.labels'],
                                   rtol=0, atol=1e-9)
    assert_same_training(single, ranks, control, ('student.',))
