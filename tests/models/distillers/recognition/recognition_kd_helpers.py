"""Tiny recognizers (16 frames of 32 x 32, 64-channel Mixed_5c) for the distiller tests."""
import copy

import torch
from mmaction.structures import ActionDataSample
from mmengine.logging import MessageHub

NUM_CLASSES = 4


def recognizer(first_3d: str, cvae: bool = False) -> dict:
    head = dict(type='GKDAttentionHead', num_classes=NUM_CLASSES, in_channels=64,
                attention=dict(temporal_size=2, spatial_size=1, mid_channels=16,
                               resample_length=8), dropout_ratio=0.0, average_clips='prob')
    if cvae:
        head['cvae'] = dict(type='FeatureCVAE', spatial_size=1)
    return dict(type='Recognizer3D',
                backbone=dict(type='TopHeavyInceptionI3D', first_3d=first_3d, width=0.0625,
                              bn_momentum=0.1),
                cls_head=head,
                data_preprocessor=dict(type='ActionDataPreprocessor', mean=[127.5] * 3,
                                       std=[127.5] * 3, format_shape='NCTHW'))


def make_batch(labels, indices=None, seed: int = 0) -> dict:
    """A data batch as the dataloader gives it: uint8-range clips ``[1, 3, 16, 32, 32]``."""
    g = torch.Generator().manual_seed(seed)
    inputs = [torch.randint(0, 256, (1, 3, 16, 32, 32), generator=g).float() for _ in labels]
    samples = []
    for i, label in enumerate(labels):
        sample = ActionDataSample().set_gt_label(torch.tensor(label))
        sample.set_metainfo(dict(sample_idx=i if indices is None else indices[i]))
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


def snapshot(module: torch.nn.Module) -> dict:
    """Copies of every parameter and buffer."""
    return copy.deepcopy({k: v.detach().clone() for k, v in module.state_dict().items()})


def changed(before: dict, module: torch.nn.Module) -> list:
    """Names of the entries of ``module`` that differ from ``before``."""
    return [k for k, v in module.state_dict().items() if not torch.equal(v, before[k])]


def loss_step(model, batch):
    data = model.data_preprocessor(batch, True)
    losses = model(**data, mode='loss')
    total = sum(v for k, v in losses.items() if 'loss' in k)
    total.backward()
    return losses


def noisy_and_true_labels():
    from mmemtm.datasets.synthetic_motion import SyntheticMotionConfig, split_records
    cfg = SyntheticMotionConfig(num_per_class=(('train', 20), ), label_noise=0.4, seed=3)
    records = split_records('train', cfg)
    noisy = torch.tensor([r['label'] for r in records])
    true = torch.tensor([r['true_label'] for r in records])
    return noisy, true


def set_epoch(epoch: int) -> None:
    MessageHub.get_current_instance().update_info('epoch', epoch)
