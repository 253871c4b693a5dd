"""The suite's in-process tool runner (``run_tool`` in tests/conftest.py)."""
import time


def test_a_run_starts_in_a_later_second_than_the_previous_run_ended(tmp_path, run_tool):
    """mmengine names a runner's logger after its config and the second it is built, and a
    logger of that name is reused with the output stream it was made with. A run whose runner
    was built in the second the previous run ended in would write its log into the previous
    run's captured output: here the first run ends in a later second than it started."""
    first = tmp_path / 'first.py'
    first.write_text('import time\n'
                     'time.sleep(1.02 - time.time() % 1)  # just into the next second\n'
                     f'open({str(tmp_path / "ended")!r}, "w").write(repr(time.time()))\n')
    second = tmp_path / 'second.py'
    second.write_text(f'import time; open({str(tmp_path / "started")!r}, "w")'
                      '.write(repr(time.time()))\n')
    run_tool([str(first)], cwd=tmp_path)
    run_tool([str(second)], cwd=tmp_path)
    ended, started = (float((tmp_path / name).read_text()) for name in ('ended', 'started'))
    assert int(started) > int(ended), (time.ctime(ended), time.ctime(started))
