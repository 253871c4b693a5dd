"""Atomic writes: a failed or killed write leaves the previous file and, after the next write,
no temporary file."""
import numpy as np
import pytest

from mmemtm.utils import AtomicWriteError, atomic_write, remove_stale_temporaries


def write_new_content(path: str) -> None:
    with atomic_write(path, 'w') as f:
        f.write('new content')


def test_a_killed_write_keeps_the_old_file_and_the_next_write_removes_its_temporary(
        tmp_path, killed_at_fsync):
    target = tmp_path / 'epoch_1.pth'
    target.write_text('old content')
    killed_at_fsync(write_new_content, str(target))
    assert target.read_text() == 'old content'
    left = [p.name for p in tmp_path.iterdir() if p.name != 'epoch_1.pth']
    assert len(left) == 1 and left[0].startswith('.epoch_1.pth.mmemtm-')
    with atomic_write(str(tmp_path / 'epoch_2.pth')) as f:  # any write into the folder cleans
        f.write('x')
    assert sorted(p.name for p in tmp_path.iterdir()) == ['epoch_1.pth', 'epoch_2.pth']


def test_temporaries_of_running_writers_are_kept(tmp_path):
    with atomic_write(str(tmp_path / 'a.json')) as f:
        f.write('{}')
        assert remove_stale_temporaries(str(tmp_path)) == []  # ours: the process is alive
        assert len(list(tmp_path.iterdir())) == 1
    assert [p.name for p in tmp_path.iterdir()] == ['a.json']


def test_other_files_are_never_removed(tmp_path):
    for name in ('.hidden.tmp', 'x.tmp', '.a.mmemtm-tmp', '.a.json.mmemtm-otherhost-1-abc.tmp'):
        (tmp_path / name).write_text('keep')
    assert remove_stale_temporaries(str(tmp_path)) == []


def test_a_write_error_names_the_file_and_keeps_the_old_one(tmp_path, monkeypatch):
    target = tmp_path / 'v1.npy'
    np.save(target, np.zeros(3))

    def full_disk(*args, **kwargs):
        raise OSError(28, 'No space left on device')

    monkeypatch.setattr(np, 'save', full_disk)
    with pytest.raises(AtomicWriteError, match=r'cannot write .*v1\.npy: \[Errno 28\] No space '
                       r'left on device; is the disk full\?') as info:
        with atomic_write(str(target), 'wb') as f:
            np.save(f, np.ones(3))
    assert info.value.errno == 28
    monkeypatch.undo()
    assert np.load(target).tolist() == [0, 0, 0]
    assert [p.name for p in tmp_path.iterdir()] == ['v1.npy']


@pytest.mark.parametrize('length', [200, 250, 255])
def test_any_name_that_fits_its_folder_is_written_atomically(tmp_path, length, killed_at_fsync):
    """The temporary file's name adds about 40 bytes to the target's: long names are shortened
    there (with a hash), and a killed writer's temporary is still recognised and removed."""
    target = tmp_path / ('v' * (length - 4) + '.npy')
    with atomic_write(str(target)) as f:
        f.write('x')
    assert target.read_text() == 'x'
    killed_at_fsync(write_new_content, str(target))
    assert len(list(tmp_path.iterdir())) == 2
    assert remove_stale_temporaries(str(tmp_path)) != []
    assert [p.name for p in tmp_path.iterdir()] == [target.name]
