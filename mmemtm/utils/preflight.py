"""Preflight: every file a config reads, checked before a run builds anything.

Without it a run fails at the first missing input it opens, one input per attempt, hundreds of
log lines in (the teacher curves only inside a data-loader worker). :func:`check_config_inputs`
lists the inputs of a config (annotation files, feature folders and the features of the videos
they list, vocabularies, teacher curve files, checkpoints) and raises
:class:`MissingInputsError`, which names every missing one with the command that creates it.

Readers are built from mmaction's ``TASK_UTILS`` registry (where mmemtm registers them), so this
module needs no other mmemtm layer.
"""
import glob
import json
import os
import os.path as osp
import shlex
from dataclasses import dataclass, field
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

SHARED_DATA = osp.join('..', 'shared', 'data')
LAYOUT_DOC = "docs/data.md 'Pointing the configs at real features'"
DEMO_PLANTED = osp.join('data', 'planted', 'tacos_subset')
DEMO_WORK_DIR = osp.join('work_dirs', 'demo')
CHECKPOINT_KEYS = ('checkpoint', 'teacher_ckpt', 'pretrained')
# Folder names of the configs' data sets under ../shared/data where they differ.
SHARED_NAMES = {'activitynet': 'activitynet_captions'}


@dataclass
class ConfigInput:
    """A file or folder a config reads: its kind, path and the config keys that name it."""
    kind: str
    path: str
    keys: List[str] = field(default_factory=list)


@dataclass
class MissingInput:
    """An input that is not there (``detail``: what exactly), and how to make it."""
    kind: str
    path: str
    keys: List[str]
    remedy: str
    detail: str = ''


@dataclass
class FeatureSource:
    """A feature folder and the annotation file (with its reader) whose videos it must hold."""
    features: str
    ann_file: str
    reader: Optional[dict]
    key: str
    vocab: Optional[str] = None


class MissingInputsError(FileNotFoundError):
    """Inputs of a config are missing; the message lists them all, each with its remedy."""

    def __init__(self, config: str, missing: Sequence[MissingInput]) -> None:
        self.config = config
        self.missing = list(missing)
        super().__init__(format_missing_inputs(config, self.missing))

    def __str__(self) -> str:
        return self.args[0]


@dataclass
class _Inputs:
    """What :func:`config_inputs` collects while walking a config."""
    inputs: Dict[Tuple[str, str], ConfigInput] = field(default_factory=dict)
    features: List[FeatureSource] = field(default_factory=list)

    def add(self, kind: str, path: str, key: str) -> None:
        entry = self.inputs.setdefault((kind, path), ConfigInput(kind, path))
        if key not in entry.keys:
            entry.keys.append(key)


def config_inputs(cfg: dict, splits: Sequence[str] = ('train', 'val'),
                  checkpoints: Sequence[str] = ()) -> Tuple[List[ConfigInput], List[FeatureSource]]:
    """The inputs a run of ``cfg`` reads: those of the dataloaders of ``splits``, of the model
    (vocabularies, checkpoints it loads), ``load_from`` and the extra ``checkpoints``.

    Returns:
        tuple: ``(inputs, feature_sources)``.
    """
    found = _Inputs()
    for split in splits:
        loader = cfg.get(f'{split}_dataloader')
        if loader and loader.get('dataset'):
            for key, dataset in leaf_datasets(loader['dataset'], f'{split}_dataloader.dataset'):
                _dataset_inputs(dataset, key, found)
    for key, kind, path in _model_inputs(cfg.get('model'), 'model'):
        found.add(kind, path, key)
    if isinstance(cfg.get('load_from'), str) and cfg['load_from']:
        found.add('checkpoint', cfg['load_from'], 'load_from')
    for path in checkpoints:
        found.add('checkpoint', path, 'CHECKPOINT')
    return list(found.inputs.values()), found.features


def leaf_datasets(dataset: dict, key: str) -> Iterator[Tuple[str, dict]]:
    """``(config key, dataset config)`` of every dataset inside wrappers (``dataset``,
    ``datasets``)."""
    if not isinstance(dataset, dict):
        return
    if isinstance(dataset.get('datasets'), (list, tuple)):
        for i, inner in enumerate(dataset['datasets']):
            yield from leaf_datasets(inner, f'{key}.datasets.{i}')
    elif isinstance(dataset.get('dataset'), dict):
        yield from leaf_datasets(dataset['dataset'], f'{key}.dataset')
    else:
        yield key, dataset


def _dataset_inputs(dataset: dict, key: str, found: _Inputs) -> None:
    root = dataset.get('data_root') or ''

    def join(path: str) -> str:
        return path if not root or osp.isabs(path) else osp.join(root, path)

    ann_file = dataset.get('ann_file')
    if isinstance(ann_file, str) and ann_file:
        found.add('annotation file', join(ann_file), f'{key}.ann_file')
    reader = dataset.get('reader')
    if isinstance(reader, dict) and isinstance(reader.get('duration_file'), str):
        found.add('duration file', reader['duration_file'], f'{key}.reader.duration_file')
    if isinstance(ann_file, str) and ann_file:
        for kind, path in reader_inputs(join(ann_file), reader):
            found.add(kind, path, f'{key}.reader')
    vocab = None
    for i, transform in enumerate(dataset.get('pipeline') or []):
        if isinstance(transform, dict):
            vocab = _transform_inputs(transform, f'{key}.pipeline.{i}', found) or vocab
    for name, prefix in (dataset.get('data_prefix') or {}).items():
        if not isinstance(prefix, str) or not prefix:
            continue
        kind = 'features' if name == 'features' else 'data folder'
        found.add(kind, join(prefix), f'{key}.data_prefix.{name}')
        if kind == 'features' and isinstance(ann_file, str) and ann_file:
            found.features.append(FeatureSource(join(prefix), join(ann_file), reader,
                                                f'{key}.data_prefix.{name}', vocab))


def _transform_inputs(transform: dict, key: str, found: _Inputs) -> Optional[str]:
    """Adds the files of a pipeline transform; returns its vocabulary, if it has one."""
    vocab = transform.get('vocab')
    if isinstance(vocab, str) and vocab:
        found.add('vocabulary', vocab, f'{key}.vocab')
    if transform.get('type') == 'LoadTeacherCurves':
        for name in ('files', 'aggregator_files'):
            for i, spec in enumerate(transform.get(name) or []):
                spec = dict(path=spec) if isinstance(spec, str) else spec
                if isinstance(spec, dict) and isinstance(spec.get('path'), str):
                    found.add('teacher curves', spec['path'], f'{key}.{name}.{i}')
                    if isinstance(spec.get('ann_file'), str):
                        found.add('annotation file', spec['ann_file'],
                                  f'{key}.{name}.{i}.ann_file')
    return vocab if isinstance(vocab, str) and vocab else None


def _model_inputs(node, key: str) -> Iterator[Tuple[str, str, str]]:
    """``(config key, kind, path)`` of the vocabularies and local checkpoints of a model."""
    if isinstance(node, dict):
        for name, value in node.items():
            sub = f'{key}.{name}'
            if isinstance(value, str):
                if name == 'vocab' and value:
                    yield sub, 'vocabulary', value
                elif name in CHECKPOINT_KEYS and value and '://' not in value:
                    yield sub, 'checkpoint', value
            else:
                yield from _model_inputs(value, sub)
    elif isinstance(node, (list, tuple)):
        for i, value in enumerate(node):
            yield from _model_inputs(value, f'{key}.{i}')


def check_config_inputs(cfg: dict, splits: Sequence[str] = ('train', 'val'),
                        checkpoints: Sequence[str] = ()) -> None:
    """Raise :class:`MissingInputsError` listing every missing input of ``cfg`` (see
    :func:`config_inputs`) with the command that creates it; return if all are there."""
    missing = find_missing_inputs(cfg, splits, checkpoints)
    if missing:
        raise MissingInputsError(config_name(cfg), missing)


def find_missing_inputs(cfg: dict, splits: Sequence[str] = ('train', 'val'),
                        checkpoints: Sequence[str] = ()) -> List[MissingInput]:
    """Every missing input of ``cfg``, each with its remedy: missing files and folders, and
    feature folders without the features of videos their annotation files list."""
    inputs, sources = config_inputs(cfg, splits, checkpoints)
    remedies = Remedies(cfg)
    missing = [MissingInput(i.kind, i.path, i.keys, remedies(i)) for i in inputs
               if not osp.exists(i.path)]
    absent = {m.path for m in missing}
    folders: Dict[str, List[FeatureSource]] = {}
    for source in sources:
        if not {source.features, source.ann_file} & absent:
            folders.setdefault(source.features, []).append(source)
    for folder, readable in folders.items():
        detail = missing_features(folder, readable)
        if detail:
            entry = ConfigInput('features', folder, list(dict.fromkeys(s.key for s in readable)))
            missing.append(MissingInput('features', folder, entry.keys, remedies(entry), detail))
    return missing


def missing_features(folder: str, sources: Sequence[FeatureSource]) -> str:
    """Which videos of the annotation files of ``sources`` have no features in ``folder`` (''
    when none; annotation files that cannot be read are skipped: the dataset reports them with
    its own error)."""
    if not osp.isdir(folder):
        return ''  # an HDF5 file: opening it is the dataset's check
    anns = list(dict.fromkeys((s.ann_file, json.dumps(s.reader, sort_keys=True))
                              for s in sources))
    videos = list(dict.fromkeys(v for ann, reader in anns
                                for v in annotation_videos(ann, json.loads(reader))))
    present = set(os.listdir(folder))
    absent = [v for v in videos if f'{v}.npy' not in present]
    if not absent:
        return ''
    names = ', '.join(dict.fromkeys(ann for ann, _ in anns))
    return (f'{len(absent)} of the {len(videos)} videos of {names} have no features there, '
            f'e.g. {absent[0]}.npy')


def default_reader(ann_file: str) -> dict:
    """The reader of an annotation file without a reader config (as
    ``mmemtm.datasets.default_reader``): ``CSVReader`` for ``.csv``, else ``JsonListReader``."""
    return dict(type='CSVReader' if ann_file.lower().endswith('.csv') else 'JsonListReader')


def reader_inputs(ann_file: str, reader: Optional[dict] = None) -> List[Tuple[str, str]]:
    """``(kind, path)`` of what a reader needs besides an existing annotation file (its
    ``inputs`` method, e.g. the video folder of a CSV without durations); [] if it has none or
    the file cannot be read."""
    from mmaction.registry import TASK_UTILS
    if not osp.isfile(ann_file):
        return []
    try:
        read = TASK_UTILS.build(reader or default_reader(ann_file))
        return list(read.inputs(ann_file)) if hasattr(read, 'inputs') else []
    except Exception:  # noqa: BLE001  (a bad file: the dataset names the culprit when built)
        return []


def annotation_videos(ann_file: str, reader: Optional[dict] = None) -> List[str]:
    """The video ids of an annotation file in first-seen order; [] if it cannot be read."""
    from mmaction.registry import TASK_UTILS
    try:
        read = TASK_UTILS.build(reader or default_reader(ann_file))
        videos = dict.fromkeys(raw.video_id for raw in read(ann_file))
    except Exception:  # noqa: BLE001  (a bad file: the dataset names the culprit when built)
        return []
    return [v for v in videos
            if isinstance(v, str) and v not in ('', '.', '..') and '/' not in v]


class Remedies:
    """The command (or the action) that creates a missing input of a config."""

    def __init__(self, cfg: dict) -> None:
        self.cfg = cfg
        self.config = config_name(cfg, 'CONFIG')
        self.all_sources = config_inputs(cfg, ('train', 'val', 'test'))[1]

    def __call__(self, item: ConfigInput) -> str:
        kind = item.kind.replace(' ', '_')
        return getattr(self, f'_{kind}', self._data_folder)(item)

    def _videos(self, item: ConfigInput) -> str:
        anns = ', '.join(dict.fromkeys(
            s.ann_file for s in self.all_sources
            if item.path in [path for _, path in reader_inputs(s.ann_file, s.reader)]))
        anns = anns or 'the annotation file'
        return (f'the video files <video_id>.<ext> that the durations of {anns} are read from '
                '(it has no "duration" column): place them there, set the reader\'s '
                'video_folder, or add a "duration" column (seconds); see '
                'docs/your_own_dataset.md')

    def _teacher_curves(self, item: ConfigInput) -> str:
        teacher = osp.basename(item.path).split('_')[0]
        config = teacher_config(self.config, teacher) or '<teacher config>'
        work = osp.join('work_dirs', osp.splitext(osp.basename(config))[0])
        if '_oof' in osp.basename(item.path):
            return (f'out-of-fold curves: python tools/cross_fit_teacher_curves.py {config} '
                    f'--folds 5 --out {item.path} --work-dir {work}_oof')
        command = (f'python tools/train.py {config}, then python tools/dump_teacher_curves.py '
                   f'{config} {work}/best_*.pth --out {item.path}')
        if _inside(item.path, DEMO_WORK_DIR):
            return f'make demo (trains the teachers and writes them), or: {command}'
        return command

    def _features(self, item: ConfigInput) -> str:
        if 'planted' in item.path.split(os.sep) or 'planted' in osp.basename(item.path):
            command = self._planting_command(item.path)
            if osp.normpath(item.path) == DEMO_PLANTED:
                return f'synthetic (planted) features, as make demo plants them: {command}'
            return f'synthetic (planted) features: {command}'
        return self._real_data(item, 'I3D features of videos: python tools/extract_features.py '
                               f'VIDEOS --out {item.path}')

    def _planting_command(self, folder: str) -> str:
        sources = [s for s in self.all_sources if s.features == folder]
        anns = list(dict.fromkeys(s.ann_file for s in sources))
        readers = {json.dumps(s.reader or dict(type='JsonListReader'), sort_keys=True)
                   for s in sources}
        vocab = next((s.vocab for s in sources if s.vocab), None) or _model_vocab(self.cfg)
        reader = ('' if readers <= {json.dumps(dict(type='JsonListReader'))} or len(readers) > 1
                  else f' --reader {shlex.quote(readers.pop())}')
        return (f'python tools/data/generate_planted_features.py --ann {" ".join(anns)}{reader} '
                f'--glove {vocab or "GLOVE"} --out {folder} --seed 0')

    def _vocabulary(self, item: ConfigInput) -> str:
        if _tracked_by_the_repository(item.path):
            return bundled(item.path)
        anns = ' '.join(dict.fromkeys(s.ann_file for s in self.all_sources)) or 'ANN_FILES'
        reader = vocabulary_reader_option(self.all_sources)
        return self._real_data(item, 'from GloVe: python tools/data/build_glove_subset.py --glove '
                               f'GLOVE_TXT --ann {anns}{reader} --out {item.path}')

    def _checkpoint(self, item: ConfigInput) -> str:
        if item.path.endswith('.onnx'):
            return (f'python tools/deployment/export_onnx.py {self.config} CHECKPOINT '
                    f'--out {item.path}')
        config = self.config
        parts = osp.normpath(item.path).split(os.sep)
        if 'load_from' not in item.keys and 'CHECKPOINT' not in item.keys:
            # a checkpoint of another model (a teacher): the config of its work dir, if known
            named = parts[1] if len(parts) > 2 and parts[0] == 'work_dirs' else None
            config = (named and config_by_name(self.config, named)) or 'ITS_CONFIG'
        name = osp.splitext(osp.basename(config))[0]
        return (f'python tools/train.py {config} writes checkpoints into '
                f'work_dirs/{name}/ (best_*.pth, epoch_N.pth)')

    def _annotation_file(self, item: ConfigInput) -> str:
        if _tracked_by_the_repository(item.path):
            return bundled(item.path)
        return self._real_data(item)

    def _data_folder(self, item: ConfigInput) -> str:
        return self._real_data(item)

    def _real_data(self, item: ConfigInput, make: str = '') -> str:
        parts = osp.normpath(item.path).split(os.sep)
        generated = [i for i, part in enumerate(parts) if part.startswith('synthetic_motion')]
        if generated:
            root = os.sep.join(parts[:generated[0] + 1])
            return f'the synthetic motion set: python tools/data/generate_synthetic_motion.py {root}'
        where = shared_candidates(item.path)
        text = ('real data, not made by mmemtm: place it there or pass --cfg-options '
                f'{item.keys[0]}=PATH')
        text += f' (e.g. {" or ".join(where)})' if where else ''
        return f'{text}; {make + "; " if make else ""}see {LAYOUT_DOC}'


def vocabulary_reader_option(sources: Sequence[FeatureSource]) -> str:
    """`` --reader JSON`` for ``build_glove_subset.py`` over the annotation files of
    ``sources``: '' when they are read by the reader their file ending selects; the reader
    without its ``split`` (the vocabulary covers every sentence) when they share one."""
    readers = set()
    for source in sources:
        reader = {k: v for k, v in (source.reader or {}).items() if k != 'split'}
        if reader and reader != default_reader(source.ann_file):
            readers.add(json.dumps(reader, sort_keys=True))
    if not readers:
        return ''
    return f' --reader {shlex.quote(readers.pop())}' if len(readers) == 1 else ' --reader READER'


def teacher_config(config: str, teacher: str) -> Optional[str]:
    """``<configs>/teachers/<teacher>_<tag>.py`` whose data set ``tag`` is the longest that
    ``config``'s name contains (``emtm_tacos_demo.py`` -> ``teachers/seqpan_tacos_demo.py``)."""
    name = osp.splitext(osp.basename(config))[0]
    folder = osp.dirname(osp.abspath(config))
    for _ in range(3):
        best: Optional[Tuple[str, str]] = None
        for candidate in glob.glob(osp.join(folder, 'teachers', f'{teacher}_*.py')):
            tag = osp.basename(candidate)[len(teacher) + 1:-len('.py')]
            if tag in name and (best is None or len(tag) > len(best[0])):
                best = (tag, candidate)
        if best is not None:
            return display_path(best[1])
        folder = osp.dirname(folder)
    return None


def config_by_name(config: str, name: str) -> Optional[str]:
    """``<name>.py`` in the configs folder that holds ``config`` (searched from ``config``'s
    folder up to two levels above it)."""
    folder = osp.dirname(osp.abspath(config))
    for _ in range(3):
        found = sorted(glob.glob(osp.join(folder, '**', f'{name}.py'), recursive=True))
        if found:
            return display_path(found[0])
        folder = osp.dirname(folder)
    return None


def display_path(path: str) -> str:
    """``path`` relative to the working directory when it lies inside it."""
    relative = osp.relpath(path)
    return path if relative.startswith('..') else relative


def shared_candidates(path: str, limit: int = 2) -> List[str]:
    """Files of the same name under ``../shared/data/<data set>/`` (the data set: a folder of
    ``path``), at most ``limit``."""
    if not osp.isdir(SHARED_DATA):
        return []
    parts = osp.normpath(path).split(os.sep)
    for part in parts[:-1]:
        folder = osp.join(SHARED_DATA, SHARED_NAMES.get(part, part))
        if part not in ('', '.', '..', 'data', 'shared') and osp.isdir(folder):
            name = parts[-1]
            if name == 'glove':
                found = glob.glob(osp.join(SHARED_DATA, 'glove_subsets', f'{part}_*'))
            else:
                found = glob.glob(osp.join(folder, '**', name), recursive=True)
            return sorted(found)[:limit]
    return []


def config_name(cfg: dict, default: str = 'the config') -> str:
    """The file ``cfg`` was read from (relative to the working directory), else ``default``."""
    filename = getattr(cfg, 'filename', None)
    return display_path(filename) if filename else default


def _model_vocab(cfg: dict) -> Optional[str]:
    model = cfg.get('model') or {}
    vocab = model.get('vocab') if isinstance(model, dict) else None
    return vocab if isinstance(vocab, str) else None


def _inside(path: str, folder: str) -> bool:
    path = osp.normpath(path)
    return path == folder or path.startswith(folder + os.sep)


def bundled(path: str) -> str:
    """The remedy of a missing file of the data bundled with the mmemtm repository."""
    return ('bundled with the mmemtm repository: run from its root (the path is relative to the '
            f'working directory), or restore it there with git checkout -- {path}')


def _tracked_by_the_repository(path: str) -> bool:
    """Whether ``path`` is among the data bundled with mmemtm (``demo/data``)."""
    return _inside(path, osp.join('demo', 'data'))


def format_missing_inputs(config: str, missing: Sequence[MissingInput]) -> str:
    """The report: one line per missing input (kind, path, config keys) and one with its remedy."""
    lines = [f'{config}: {len(missing)} input(s) missing; nothing was built or written. '
             f'Make them, then run again:']
    for item in missing:
        keys = ', '.join(item.keys[:2]) + (' ...' if len(item.keys) > 2 else '')
        detail = f': {item.detail}' if item.detail else ''
        lines.append(f'  - {item.kind} {item.path} ({keys}){detail}')
        lines.append(f'      -> {item.remedy}')
    return '\n'.join(lines)
