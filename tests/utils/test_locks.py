"""FolderLock: one process per folder, released however the holder ends."""
import os

import pytest

from mmemtm.utils import FolderLock, FolderLockedError, locked_folder
from mmemtm.utils.locks import LOCK_FILE


@pytest.fixture
def holder(tmp_path, lock_held):
    """A second process holding the lock of ``tmp_path / 'work'``."""
    with lock_held(tmp_path / 'work') as process:
        yield process


def test_a_second_process_is_refused_with_the_holder_named(tmp_path, holder):
    with pytest.raises(FolderLockedError, match=rf'work is in use by another run \(pid '
                       rf'{holder.pid}, training, since .*lock-holder'):
        FolderLock(str(tmp_path / 'work'), 'training').acquire()


def test_a_killed_holder_leaves_the_folder_free(tmp_path, holder):
    holder.kill()
    holder.join()
    assert (tmp_path / 'work' / LOCK_FILE).exists()  # the file stays, the lock does not
    with locked_folder(str(tmp_path / 'work'), 'training'):
        pass


def test_release_removes_the_lock_file_and_frees_the_folder(tmp_path):
    with locked_folder(str(tmp_path), 'training') as lock:
        assert lock.held and (tmp_path / LOCK_FILE).exists()
    assert not (tmp_path / LOCK_FILE).exists()
    FolderLock(str(tmp_path), 'training').acquire().release()


def test_a_lock_this_process_still_holds_is_handed_over(tmp_path):
    """A run that raised before releasing must not block the next run of the same process."""
    first = FolderLock(str(tmp_path), 'training').acquire()
    second = FolderLock(str(tmp_path), 'training').acquire()
    assert second.held and not first.held
    second.release()


@pytest.mark.parametrize('link', ['symbolic', 'hard'])
def test_a_link_in_place_of_the_lock_file_is_refused_and_its_target_kept(tmp_path, link):
    work, victim = tmp_path / 'work', tmp_path / 'precious.txt'
    work.mkdir()
    victim.write_text('not yours')
    if link == 'symbolic':
        (work / LOCK_FILE).symlink_to(victim)
    else:
        os.link(victim, work / LOCK_FILE)
    with pytest.raises(OSError, match=rf'{LOCK_FILE} is a {link} link.* remove it'):
        FolderLock(str(work), 'training').acquire()
    assert victim.read_text() == 'not yours'
