# Puts the repository root first on sys.path so tests import this checkout's mmemtm.
