import torch

from mmemtm.models.backbones import InceptionI3D
from mmemtm.models.heads import I3DLogitsHead


def test_same_logits_as_inception_i3d_classifier():
    torch.manual_seed(0)
    i3d, head = InceptionI3D(num_classes=7).eval(), I3DLogitsHead(num_classes=7).eval()
    head.load_state_dict({k: v for k, v in i3d.state_dict().items() if k.startswith('logits.')})
    features = torch.randn(2, 1024, 3, 7, 7)
    torch.testing.assert_close(head(features), i3d.classify(features))
    assert head(torch.randn(2, 1024, 1, 2, 2)).shape == (2, 7)  # smaller maps: pooled whole
