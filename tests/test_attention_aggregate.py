"""aggregate_attention on hand-written point results: the E/M/H table is mean ± std (n-1) over run seeds, computed
here independently, for both of its grids (axis `soa` and axis `sos_lambda`, sorted by λ).

No network is trained: the points' `metrics.json`/`timing.json` are written as `soi.workflow.run_point` writes them,
and the grids ask for no attention-map figure (that part runs in `make results` and in the smoke grids of the report).
"""
import json, os, statistics, subprocess, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))

GRID = """notebook: nbs/experiments/attention.ipynb
params: {{smoke: true, preset: tiny, data_seed: 0, {fixed}, threads: 1}}
axes: {{{axis}: [{values}]}}
seeds: [0, 1]
aggregate:
  notebook: nbs/experiments/aggregate/aggregate_attention.ipynb
  tables: [t/{name}]
  figures: [t/{name}]
"""

def _fake_points(grid, res):
    from soi.workflow import load_grid, expand_grid
    g, vals = load_grid(grid), {}
    axis = next(iter(g['axes']))
    for i, (pt, params) in enumerate(expand_grid(g).items()):
        row = {'E': 10. + i, 'M': 20. + 2 * i * i, 'H': 5. + 3 * (i % 3)}   # distinct, non-linear in i
        vals.setdefault(params[axis], []).append(row)
        h = [{'epoch': e, 'loss': 1. / e, 'first': .9 / e, 'sos': .1 / e, 'p': 3., 'frac_neg_closer': .5} for e in (1, 2)]
        m = {'params': params, 'key': f'k{i}', 'commit': None, 'metrics': {'soa': params['soa'], 'sos_lambda': float(params['sos_lambda']),
             'model_key': f'm{i}', 'history': h, 'row': row}}
        d = res/'runs'/g['name']/pt; d.mkdir(parents=True)
        (d/'metrics.json').write_text(json.dumps(m))
        (d/'timing.json').write_text(json.dumps({'wall_s': 3. + i, 'seconds': {'model': 1. + i, 'finetune_trained': 1., 'model_cached': i % 2 == 0}}))
    return vals

@pytest.mark.parametrize('axis,values,fixed', [('soa', 'none, layer4, both', 'sos_lambda: 1.0'), ('sos_lambda', '10, 0, 1', 'soa: both')])
def test_aggregate_attention_table(tmp_path, axis, values, fixed):
    name = f'agg_{axis}'
    grid = tmp_path/f'{name}.yaml'; grid.write_text(GRID.format(axis=axis, values=values, fixed=fixed, name=name))
    res, fig = tmp_path/'results', tmp_path/'figures'
    vals = _fake_points(grid, res)
    env = {**os.environ, 'SOI_DATA': str(tmp_path/'data'), 'SOI_RESULTS': str(res), 'SOI_FIGURES': str(fig), 'MPLBACKEND': 'Agg',
           'PYTHONPATH': str(ROOT)}
    r = subprocess.run([str(BIN/'python'), '-m', 'soi.workflow', 'aggregate', str(grid)], capture_output=True, text=True, env=env, cwd=ROOT)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    import pandas as pd
    t = pd.read_csv(res/'tables'/'t'/f'{name}.csv')
    order = list(vals) if axis == 'soa' else sorted(vals)            # the λ grid is sorted by λ
    assert [str(v) for v in t[axis]] == [str(float(v)) if axis == 'sos_lambda' else v for v in order]
    for _, row in t.iterrows():
        rows = vals[row[axis] if axis == 'soa' else int(row[axis])]
        for p in 'EMH':
            xs = [x[p] for x in rows]
            assert row[f'{p} mAP'] == pytest.approx(statistics.mean(xs)) and row[f'{p} mAP std'] == pytest.approx(statistics.stdev(xs))
        assert row['seeds'] == 2
    timing = pd.read_csv(res/'tables'/'t'/f'{name}_timing.csv')
    assert timing['model read from cache'].tolist() == [0.5] * len(order)   # one of the two seeds of each variant read it
    assert (fig/'t'/f'{name}.png').exists()
