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
    """Each experiment has exactly one cell tagged `parameters`: a code cell of plain `name = literal` lines, which
    papermill reads (`inspect_notebook`) as the experiment convention's `smoke` (bool), `seed` (int) and `run_name`
    (the notebook's name) plus its own; papermill injects overrides in a cell right after it."""
    import ast, json
    import papermill as pm
    from papermill.iorw import load_notebook_node
    from papermill.parameterize import parameterize_notebook
    assert EXPERIMENTS
    for nb in EXPERIMENTS:
        cells = json.loads(nb.read_text())['cells']
        tagged = [i for i, c in enumerate(cells) if 'parameters' in c.get('metadata', {}).get('tags', [])]
        assert len(tagged) == 1, f'{nb.name}: {len(tagged)} cells tagged "parameters", expected exactly one'
        cell = cells[tagged[0]]
        assert cell['cell_type'] == 'code', f'{nb.name}: the parameters cell is a {cell["cell_type"]} cell'
        body = ast.parse(''.join(cell['source'])).body
        for st in body:
            assert isinstance(st, ast.Assign) and len(st.targets) == 1 and isinstance(st.targets[0], ast.Name), \
                f'{nb.name} line {st.lineno}: the parameters cell holds only `name = value` lines'
            ast.literal_eval(st.value)   # a literal, so an injected value replaces it exactly
        names = [st.targets[0].id for st in body]
        assert len(set(names)) == len(names), f'{nb.name}: a parameter is assigned twice'
        params = pm.inspect_notebook(str(nb))
        assert list(params) == names, (nb.name, list(params), names)
        default = {k: ast.literal_eval(v['default']) for k, v in params.items()}
        assert {'smoke', 'seed', 'run_name'} <= set(default), f'{nb.name}: lacks one of smoke, seed, run_name'
        assert type(default['smoke']) is bool and type(default['seed']) is int and default['run_name'] == nb.stem, (nb.name, default)
        run = parameterize_notebook(load_notebook_node(str(nb)), {'smoke': True, 'seed': 7}, kernel_name='python3')
        inj = [i for i, c in enumerate(run.cells) if 'injected-parameters' in c.metadata.get('tags', [])]
        assert inj == [tagged[0] + 1], (nb.name, inj)
        got = {st.targets[0].id: ast.literal_eval(st.value) for st in ast.parse(run.cells[inj[0]].source).body}
        assert got == {'smoke': True, 'seed': 7}, (nb.name, got)
