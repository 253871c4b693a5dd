"""Batching of grounding queries: padding of video, words, characters and targets."""
from typing import Dict, List, Optional, Sequence

import torch
import torch.nn.functional as F
from mmaction.registry import MODELS
from mmengine.model import BaseDataPreprocessor

from mmemtm.structures import TARGET_KEYS


def pad_stack(tensors: Sequence[torch.Tensor], length: int, dim: int = 0,
              value: float = 0) -> torch.Tensor:
    """Pad each tensor along ``dim`` to ``length`` with ``value`` and stack them (new dim 0)."""
    padded = []
    for t in tensors:
        extra = length - t.shape[dim]
        if extra < 0:
            raise ValueError(f'cannot pad a tensor of length {t.shape[dim]} to {length}')
        pad = [0, 0] * (t.dim() - dim - 1) + [0, extra]
        padded.append(F.pad(t, pad, value=value))
    return torch.stack(padded)


def length_mask(lengths: Sequence[int], length: int, device=None) -> torch.Tensor:
    """``[B, length]`` float mask, 1 on the first ``lengths[b]`` positions of row ``b``."""
    lengths = torch.as_tensor(list(lengths), device=device)
    return (torch.arange(length, device=device)[None] < lengths[:, None]).float()


@MODELS.register_module()
class GroundingDataPreprocessor(BaseDataPreprocessor):
    """Pad and stack a list of packed queries into batch tensors.

    Output ``inputs`` (B queries, L clips, N words, C characters, T teachers):

    * ``video`` ``[B, L, D]`` float, ``video_mask`` ``[B, L]`` (1 = valid clip);
    * ``words`` ``[B, N]`` long, ``word_mask`` ``[B, N]``; ``chars`` ``[B, N, C]`` long;
    * ``teacher_curves`` (and ``aggregator_curves``) ``[B, T, 2, L]`` when every query carries
      them;
    * ``targets`` when every data sample has them: ``start_label`` / ``end_label`` ``[B, L]``,
      ``match_label`` ``[B, L]`` long, ``gt_span`` ``[B, 2]`` long.

    Args:
        max_vlen: Pad videos to exactly this many clips (the KAU needs a fixed length); None pads
            to the longest video of the batch.
        min_chars: Pad characters to at least this many (the widest character convolution).
    """

    def __init__(self, max_vlen: Optional[int] = None, min_chars: int = 4) -> None:
        super().__init__()
        self.max_vlen = max_vlen
        self.min_chars = min_chars

    def forward(self, data: dict, training: bool = False) -> dict:
        """Batch ``data['inputs']`` (a list of per-query dicts, or mmengine's ``pseudo_collate``
        form: a dict of per-query lists)."""
        data = self.cast_data(data)
        items = self._per_query(data['inputs'])
        samples = data.get('data_samples')
        v_lens = [x['video'].shape[0] for x in items]
        length = self.max_vlen or max(v_lens)
        if max(v_lens) > length:
            longest = v_lens.index(max(v_lens))
            query = samples[longest].metainfo.get('query_id', '?') if samples else '?'
            raise ValueError(f'query {query} has {max(v_lens)} clips, more than max_vlen={length}; '
                             f'add DownsampleClips(max_vlen={length}) to the pipeline')
        n_words = [x['words'].shape[0] for x in items]
        n_chars = max(max(x['chars'].shape[1] for x in items), self.min_chars)
        device = items[0]['video'].device
        inputs = dict(
            video=pad_stack([x['video'].float() for x in items], length),
            video_mask=length_mask(v_lens, length, device),
            words=pad_stack([x['words'] for x in items], max(n_words)),
            word_mask=length_mask(n_words, max(n_words), device),
            chars=pad_stack([F.pad(x['chars'], (0, n_chars - x['chars'].shape[1]))
                             for x in items], max(n_words)))
        for key in ('teacher_curves', 'aggregator_curves'):
            if all(key in x for x in items):
                inputs[key] = pad_stack([x[key].float() for x in items], length, dim=2)
        if samples and all(all(k in s for k in TARGET_KEYS) for s in samples):
            inputs['targets'] = dict(
                start_label=pad_stack([s.start_label.float() for s in samples], length),
                end_label=pad_stack([s.end_label.float() for s in samples], length),
                match_label=pad_stack([s.match_label for s in samples], length),
                gt_span=torch.stack([s.gt_span for s in samples]))
        return dict(inputs=inputs, data_samples=samples)

    @staticmethod
    def _per_query(inputs) -> List[Dict[str, torch.Tensor]]:
        if isinstance(inputs, dict):
            keys = list(inputs)
            return [dict(zip(keys, values)) for values in zip(*(inputs[k] for k in keys))]
        return list(inputs)
