"""Run as a script: hold ``FolderLock(folder)`` and print ``locked`` until killed or stdin closes."""
import sys

from mmemtm.utils import FolderLock

if __name__ == '__main__':
    lock = FolderLock(sys.argv[1], 'training').acquire()
    print('locked', flush=True)
    sys.stdin.read()
    lock.release()
