"""Run every module notebook with nbdev-test, one pytest test per notebook (so CI reads a pytest summary)."""
import os, subprocess, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
NBS = sorted((ROOT/'nbs').glob('*.ipynb'))

@pytest.mark.parametrize('nb', NBS, ids=[p.name for p in NBS])
def test_notebook(nb):
    r = subprocess.run([str(BIN/'nbdev-test'), str(nb)], cwd=ROOT, capture_output=True, text=True,
                       env={**os.environ, 'MPLBACKEND': 'Agg'})
    assert r.returncode == 0, f'{nb.name} failed under nbdev-test:\n{r.stdout[-6000:]}\n{r.stderr[-6000:]}'
