"""The package's layering rules (``.importlinter``) hold: ``benchmarks`` sits above ``apis``,
``datasets`` and ``models`` never import each other, everything shared lives below both, and
inside ``models`` the layers only import downwards."""
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_are_kept():
    lint = Path(sys.executable).with_name('lint-imports')
    proc = subprocess.run([str(lint), '--config', str(REPO_ROOT / '.importlinter')],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert 'Contracts: 2 kept, 0 broken.' in proc.stdout
