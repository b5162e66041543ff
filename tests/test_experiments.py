"""Smoke runs of the papermill experiment notebooks (nbs/experiments/*.ipynb) with `smoke=True`.

Each run uses temporary data/results/figures roots, so the committed tables and figures are never touched.
"""
import os, subprocess, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
EXPERIMENTS = sorted((ROOT/'nbs'/'experiments').glob('*.ipynb'))

@pytest.mark.parametrize('nb', EXPERIMENTS, ids=[p.stem for p in EXPERIMENTS])
def test_experiment_smoke(nb, tmp_path):
    env = {**os.environ, 'SOI_DATA': str(tmp_path/'data'), 'SOI_RESULTS': str(tmp_path/'results'),
           'SOI_FIGURES': str(tmp_path/'figures'), 'MPLBACKEND': 'Agg'}
    r = subprocess.run([str(BIN/'papermill'), str(nb), str(tmp_path/nb.name), '-p', 'smoke', 'True', '-k', 'python3',
                        '--cwd', str(nb.parent)], capture_output=True, text=True, env=env)
    assert r.returncode == 0, f'{nb.name} failed under papermill:\n{r.stdout[-4000:]}\n{r.stderr[-6000:]}'

def test_experiments_have_parameters_cell():
    import nbformat
    for nb in EXPERIMENTS:
        cells = nbformat.read(nb, as_version=4).cells
        tagged = [c for c in cells if 'parameters' in c.get('metadata', {}).get('tags', [])]
        assert len(tagged) == 1, f'{nb.name}: expected exactly one cell tagged "parameters"'
        assert 'smoke' in tagged[0].source and 'seed' in tagged[0].source and 'run_name' in tagged[0].source, nb.name
