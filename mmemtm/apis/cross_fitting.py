"""Cross-fitted (out-of-fold) teacher curves of the training split.

A teacher decodes the queries it was trained on almost perfectly (it memorised them), so its
curves on its own training split are far sharper, and far more often right, than on unseen
videos; a student distilled from them learns that overconfidence. Cross-fitting splits the
training queries into ``K`` folds by video (:func:`video_fold`), trains ``K`` teachers, each
without one fold, and takes every training query's curves from the teacher that never saw its
video.

Layout of ``work_dir`` (each fold is resumable)::

    fold{k}/                     mmengine run of the teacher trained without fold k
    fold{k}/fold.json            the fold's plan: held-out videos, trained and held-out query ids
    fold{k}/trained.json         the checkpoint kept (best on val), once training has ended
    fold{k}/fold{k}_curves.npz   that teacher's curves of fold k's queries
    fold{k}/finished             marker of a finished fold: its checkpoint and curve file

The curve file written at the end covers the whole training split, in its annotation order (see
:func:`cross_fit_teacher_curves` for its meta information).
"""
import copy
import glob
import hashlib
import json
import numbers
import os
import os.path as osp
import time
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple, Union

import torch
from mmengine.config import Config
from mmengine.logging import print_log
from mmengine.runner import Runner, find_latest_checkpoint

from mmemtm.datasets.curve_file import TeacherCurveFile, save_teacher_curves
from mmemtm.engine import set_epochs
from mmemtm.utils import dump_json_atomic, read_json
from mmemtm.utils.config_options import merge_cfg_options
from .curve_dumping import build_split_dataloader, dump_teacher_curves


class FoldPlan(NamedTuple):
    """Fold ``fold``: positions in the train dataset of the queries its teacher trains on
    (every video outside the fold) and of the queries it gives curves of (the fold's)."""
    fold: int
    train_indices: List[int]
    held_out_indices: List[int]


def check_folds(folds: int) -> None:
    """Raise a ValueError unless ``folds`` is an integer >= 2."""
    if isinstance(folds, bool) or not isinstance(folds, numbers.Integral) or folds < 2:
        raise ValueError(f'folds must be an integer >= 2, got {folds!r}')


def video_fold(video_id: str, folds: int) -> int:
    """Fold (``0 .. folds - 1``) of ``video_id``: its SHA-1 digest as an integer, mod ``folds``.

    It depends on the id alone (not on the order of the videos, nor on Python's hash seed), so
    a video keeps its fold across runs and machines, and all its queries share it.
    """
    check_folds(folds)
    return int(hashlib.sha1(video_id.encode('utf-8')).hexdigest(), 16) % folds


def plan_folds(video_ids: Sequence[str], folds: int) -> List[FoldPlan]:
    """One :class:`FoldPlan` per fold of the queries of ``video_ids`` (one per query, in
    dataset order).

    Raises:
        ValueError: ``folds`` < 2, no queries, a fold with every video (removing it leaves no
            training query) or a fold with no video.
    """
    check_folds(folds)
    if not video_ids:
        raise ValueError('the train split has no queries to cross-fit')
    fold_of = [video_fold(v, folds) for v in video_ids]
    plans = []
    for k in range(folds):
        held_out = [i for i, f in enumerate(fold_of) if f == k]
        train = [i for i, f in enumerate(fold_of) if f != k]
        if not train:
            raise ValueError(f'fold {k} of {folds} holds every video of the train split: '
                             'removing it leaves no training query')
        if not held_out:
            raise ValueError(f'fold {k} of {folds} has no videos (the train split has '
                             f'{len(set(video_ids))}); use fewer folds')
        plans.append(FoldPlan(k, train, held_out))
    return plans


def load_teacher_config(config: Union[str, Config], cfg_options: Optional[dict],
                        epochs: Optional[int], seed: int) -> Config:
    """The teacher's config (a copy) with ``cfg_options`` merged, ``epochs`` (None: the
    config's) and the random seed ``seed``."""
    cfg = Config.fromfile(config) if isinstance(config, str) else copy.deepcopy(config)
    merge_cfg_options(cfg, cfg_options)
    if epochs is not None:
        set_epochs(cfg, epochs)
    cfg.randomness = dict(cfg.get('randomness') or {}, seed=seed)
    return cfg


def config_digest(cfg: Config) -> str:
    """SHA-1 (hex) of the config's content."""
    return hashlib.sha1(json.dumps(cfg.to_dict(), sort_keys=True, default=str).encode()
                        ).hexdigest()


def train_split(cfg: Config) -> Tuple[str, List[Tuple[str, str]]]:
    """The train annotation file and ``(query_id, video_id)`` of its queries, in dataset order
    (the positions that ``indices`` of the train dataset select)."""
    if cfg.train_dataloader.dataset.get('indices') is not None:
        raise ValueError('train_dataloader.dataset.indices is set: cross-fitting chooses the '
                         'training queries of each fold itself')
    dataset = build_split_dataloader(cfg, 'train', 1, 0).dataset
    infos = [dataset.get_data_info(i) for i in range(len(dataset))]
    return dataset.ann_file, [(info['query_id'], info['video_id']) for info in infos]


def with_train_queries(cfg: Config, indices: Sequence[int]) -> Config:
    """A copy of ``cfg`` whose train dataset holds the queries at ``indices`` only."""
    subset = copy.deepcopy(cfg)
    subset.train_dataloader.dataset.indices = list(indices)
    return subset


def fold_record(plan: FoldPlan, queries: Sequence[Tuple[str, str]], facts: dict) -> dict:
    """Content of ``fold.json``: ``facts`` of the run, held-out videos, trained and held-out
    query ids."""
    return dict(facts, fold=plan.fold,
                held_out_videos=sorted({queries[i][1] for i in plan.held_out_indices}),
                train_query_ids=[queries[i][0] for i in plan.train_indices],
                held_out_query_ids=[queries[i][0] for i in plan.held_out_indices])


def claim_fold_dir(fold_dir: str, record: dict) -> None:
    """Write ``fold.json`` in ``fold_dir``, or check that the one there records the same plan
    (a run with other folds, data, config, seed or epochs cannot be resumed)."""
    path = osp.join(fold_dir, 'fold.json')
    if osp.isfile(path):
        if read_json(path) != record:
            raise ValueError(f'{path} records another cross-fitting run (other folds, data, '
                             'config, seed or epochs); use another work_dir')
        return
    os.makedirs(fold_dir, exist_ok=True)
    dump_json_atomic(record, path, indent=1)


def kept_checkpoint(runner: Runner) -> str:
    """The checkpoint a finished run keeps: the best on val (the config's ``save_best``; the
    newest ``best_*.pth`` when a resumed run lost track of it), else the last one."""
    best = runner.message_hub.get_info('best_ckpt')
    if best and osp.isfile(best):
        return best
    bests = sorted(glob.glob(osp.join(runner.work_dir, 'best_*.pth')), key=osp.getmtime)
    checkpoint = bests[-1] if bests else find_latest_checkpoint(runner.work_dir)
    if not checkpoint:
        raise RuntimeError(f'{runner.work_dir}: the run saved no checkpoint (enable '
                           'default_hooks.checkpoint)')
    return checkpoint


def train_fold(cfg: Config) -> Tuple[torch.nn.Module, str]:
    """Train ``cfg`` in ``cfg.work_dir`` (resuming an interrupted run; not again once it ended)
    and return its model with the kept checkpoint (:func:`kept_checkpoint`) loaded, and that
    checkpoint."""
    trained = osp.join(cfg.work_dir, 'trained.json')
    cfg.resume = osp.isfile(osp.join(cfg.work_dir, 'last_checkpoint'))
    runner = Runner.from_cfg(cfg)
    if osp.isfile(trained):
        checkpoint = read_json(trained)['checkpoint']
    else:
        runner.train()
        checkpoint = kept_checkpoint(runner)
        dump_json_atomic(dict(checkpoint=checkpoint), trained)
    runner.load_checkpoint(checkpoint)
    return runner.model, checkpoint


def run_fold(cfg: Config, plan: FoldPlan, fold_dir: str, name: str) -> Dict[str, str]:
    """Train fold ``plan.fold``'s teacher in ``fold_dir`` and dump its curves of the fold's
    queries, unless the fold finished earlier.

    Returns:
        dict: ``checkpoint`` (the teacher's) and ``curves`` (its curve file of the fold).
    """
    finished = osp.join(fold_dir, 'finished')
    if osp.isfile(finished):
        print_log(f'{name} fold {plan.fold}: finished earlier, skipped', logger='current')
        return read_json(finished)
    print_log(f'{name} fold {plan.fold}: training on {len(plan.train_indices)} queries, then '
              f'dumping the curves of its {len(plan.held_out_indices)} held-out queries '
              f'({fold_dir})', logger='current')
    train_cfg = with_train_queries(cfg, plan.train_indices)
    train_cfg.work_dir = fold_dir
    train_cfg.experiment_name = f'fold{plan.fold}_{time.time_ns()}'
    model, checkpoint = train_fold(train_cfg)
    curves = osp.join(fold_dir, f'fold{plan.fold}_curves.npz')
    dump_teacher_curves(model, with_train_queries(cfg, plan.held_out_indices), curves, 'train',
                        name, extra_meta=dict(fold=plan.fold, checkpoint=checkpoint))
    done = dict(checkpoint=checkpoint, curves=curves)
    dump_json_atomic(done, finished)
    print_log(f'{name} fold {plan.fold}: done ({checkpoint})', logger='current')
    return done


def merge_fold_curves(files: Sequence[str], query_ids: Sequence[str], out: str, name: str,
                      meta: dict) -> int:
    """Write the curves of ``query_ids`` (in that order), each taken from the fold file that
    holds it, to ``out``; returns the number of queries written."""
    folds = [TeacherCurveFile(f) for f in files]
    kinds = {f.kind for f in folds}
    if len(kinds) != 1:
        raise ValueError(f'the fold teachers output different kinds {sorted(kinds)}')
    source = {qid: f for f in folds for qid in f.query_ids}
    missing = [qid for qid in query_ids if qid not in source]
    if missing:
        raise ValueError(f'{len(missing)} train queries are in no fold curve file, e.g. '
                         f'{missing[:5]}')
    entries = [source[qid].entry(qid) for qid in query_ids]
    meta = dict(meta, converter=folds[0].meta.get('converter'))
    return save_teacher_curves(out, entries, teacher=name, kind=kinds.pop(), extra_meta=meta)


def cross_fit_teacher_curves(config: Union[str, Config], out: str, work_dir: str,
                             folds: int = 5, name: str = 'teacher', device: str = 'cpu',
                             epochs: Optional[int] = None, seed: int = 0,
                             cfg_options: Optional[dict] = None) -> str:
    """Write out-of-fold curves of a teacher for every query of the train split.

    The train queries are split into ``folds`` folds by video (:func:`video_fold`); for each
    fold ``k`` the teacher is trained on the queries of the other folds (checkpoint chosen on
    val by the config's ``save_best``) and gives the curves of fold ``k``'s queries. Finished
    folds are skipped and an interrupted training resumes (layout of ``work_dir``: see the
    module's documentation).

    The written file (:func:`save_teacher_curves` format, curves ``[2, L_q]`` on each query's
    teacher grid) follows the order of the train annotation file; its meta holds
    ``split='train'``, ``ann_file``, ``converter`` and ``cross_fit=dict(folds, fold_of_query
    ({query_id: k}), checkpoints ([K] paths, fold k's at k), config (its file, or None),
    config_sha1, seed, epochs)``.

    Args:
        config: Teacher config (file or :class:`Config`); it must have train and val
            dataloaders and a checkpoint hook.
        out: Output curve file (``.npz``), written atomically.
        work_dir: Folder of the folds' runs.
        folds: Number of folds ``K`` (>= 2).
        name: Teacher name stored in the file.
        device: ``'cpu'`` or ``'cuda'``.
        epochs: Training epochs (None: the config's schedule).
        seed: Random seed of every fold's training.
        cfg_options: Config overrides, as ``--cfg-options`` of ``tools/train.py``.

    Returns:
        str: ``out``.
    """
    check_folds(folds)
    if device.startswith('cuda') and not torch.cuda.is_available():
        raise ValueError(f'device {device!r}: CUDA is not available')
    cfg = load_teacher_config(config, cfg_options, epochs, seed)
    facts = dict(folds=folds, config_sha1=config_digest(cfg), seed=seed,
                 epochs=cfg.train_cfg.get('max_epochs'))
    cfg.device = device
    ann_file, queries = train_split(cfg)
    plans = plan_folds([video for _, video in queries], folds)
    work_dir = osp.abspath(work_dir)
    done = []
    for plan in plans:
        fold_dir = osp.join(work_dir, f'fold{plan.fold}')
        claim_fold_dir(fold_dir, fold_record(plan, queries, facts))
        done.append(run_fold(cfg, plan, fold_dir, name))
    fold_of_query = {qid: video_fold(video, folds) for qid, video in queries}
    cross_fit = dict(facts, fold_of_query=fold_of_query,
                     checkpoints=[d['checkpoint'] for d in done],
                     config=osp.abspath(config) if isinstance(config, str) else cfg.filename)
    merge_fold_curves([d['curves'] for d in done], [qid for qid, _ in queries], out, name,
                      dict(split='train', ann_file=ann_file, cross_fit=cross_fit))
    print_log(f'{name}: out-of-fold curves of {len(queries)} train queries ({folds} folds) '
              f'written to {out}', logger='current')
    return out
