"""The experiment workflow (Snakefile + soi.workflow), provenance over tracked sources, and the HTML site.

The end-to-end test runs a 2-point grid (toy_baselines, tiny preset, smoke) through Snakemake with temporary
data/results/figures roots, so the committed results are never touched.
"""
import json, os, re, shutil, statistics, subprocess, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SNAKEMAKE = [str(BIN/'snakemake'), '-s', str(ROOT/'Snakefile')]

def _env(tmp):
    return {**os.environ, 'SOI_DATA': str(tmp/'data'), 'SOI_RESULTS': str(tmp/'results'), 'SOI_FIGURES': str(tmp/'figures'),
            'MPLBACKEND': 'Agg', 'PYTHONPATH': str(ROOT) + os.pathsep + os.environ.get('PYTHONPATH', '')}

def _snake(tmp, *args, grid=None):
    cfg = ['--config', f'grids={grid}', 'extras=0'] if grid else []
    r = subprocess.run([*SNAKEMAKE, '-d', str(tmp/'wd'), *args, *cfg], capture_output=True, text=True, env=_env(tmp))
    return r, r.stdout + r.stderr

def test_dry_run_whole_graph(tmp_path):
    "snakemake -n over every grid, the figures and RESULTS.md: the graph builds and names the aggregation rules."
    r = subprocess.run([*SNAKEMAKE, '-d', str(tmp_path), '-n'], capture_output=True, text=True,
                       env={**os.environ, 'PYTHONPATH': str(ROOT)})
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    grids = sorted(p.stem for p in (ROOT/'grids').glob('*.yaml'))
    assert grids, 'no grids/*.yaml'
    out = r.stdout + r.stderr
    if 'Nothing to be done' not in out:   # a stale tree lists the jobs; every job must be a known rule
        jobs = set(re.findall(r'^rule (\w+):', out, re.M)) | set(re.findall(r'^localrule (\w+):', out, re.M))
        known = {f'{k}_{g}' for g in grids for k in ('run', 'aggregate')} | {'rmac_regions', 'benchmarks_results', 'all'}
        assert jobs <= known, jobs - known

GRID = """notebook: nbs/experiments/toy_baselines.ipynb
params: {{smoke: true, preset: tiny, data_seed: 0, threads: 1}}
seeds: [{seeds}]
aggregate:
  notebook: nbs/experiments/aggregate/aggregate_toy_baselines.ipynb
  tables: [tiny/toy_baselines]
  figures: [tiny/overview]
"""

def _table(md:str) -> dict:
    "{(method, column): cell} of a Markdown table."
    rows = [[c.strip() for c in l.strip('|').split('|')] for l in md.strip().splitlines()]
    return {(r[0], h): v for r in rows[2:] for h, v in zip(rows[0][1:], r[1:])}

def _ran(out:str) -> list[str]: return re.findall(r'^ran (.+)$', out, re.M)

def test_tiny_grid_end_to_end(tmp_path):
    grid = tmp_path/'tiny.yaml'; grid.write_text(GRID.format(seeds='0, 1'))
    runs = tmp_path/'results'/'runs'/'tiny'
    r, out = _snake(tmp_path, '--cores', '2', grid=grid)
    assert r.returncode == 0, out[-5000:]
    assert sorted(_ran(out)) == ['seed=0', 'seed=1'], out[-2000:]
    # the aggregated table equals mean ± std (n-1) over the two metrics.json, computed here independently
    m = {s: json.loads((runs/f'seed={s}'/'metrics.json').read_text()) for s in (0, 1)}
    assert m[0]['params'] == {'smoke': True, 'preset': 'tiny', 'data_seed': 0, 'threads': 1, 'seed': 0}
    assert {'commit', 'dirty', 'key', 'versions', 'device'} <= set(m[0]) and 'wall_s' not in m[0]
    assert json.loads((runs/'seed=0'/'timing.json').read_text())['wall_s'] > 0
    tab = _table((tmp_path/'results'/'tables'/'tiny'/'toy_baselines.md').read_text())
    methods = list(m[0]['metrics'])
    assert {k[0] for k in tab} == set(methods) and len(methods) == 4
    for meth in methods:
        for prot, col in (('easy', 'E mAP'), ('medium', 'M mAP'), ('hard', 'H mAP'), ('hard', 'H mP@10')):
            key = 'mAP' if 'mAP' in col else 'mP@10'
            v = [100 * m[s]['metrics'][meth][prot][key] for s in (0, 1)]
            assert tab[(meth, col)] == f'{statistics.mean(v):.2f} ± {statistics.stdev(v):.2f}', (meth, col)
    assert (tmp_path/'figures'/'tiny'/'overview.png').stat().st_size > 1000
    prov = json.loads((tmp_path/'results'/'tables'/'tiny'/'toy_baselines.json').read_text())
    assert set(prov['meta']['points']) == {'seed=0', 'seed=1'} and 'time' not in prov

    # rerunning runs nothing and changes no file
    before = {p: p.read_bytes() for p in (tmp_path/'results').rglob('*') if p.is_file()}
    r, out = _snake(tmp_path, '-n', grid=grid)
    assert r.returncode == 0 and 'Nothing to be done' in out, out[-2000:]
    r, out = _snake(tmp_path, '--cores', '2', grid=grid)
    assert r.returncode == 0 and _ran(out) == [], out[-2000:]
    assert {p: p.read_bytes() for p in (tmp_path/'results').rglob('*') if p.is_file()} == before

    # changing one parameter (one seed) reruns exactly that point; the other keeps its files
    grid.write_text(GRID.format(seeds='0, 2'))
    r, out = _snake(tmp_path, '--cores', '2', grid=grid)
    assert r.returncode == 0, out[-5000:]
    assert _ran(out) == ['seed=2'], out[-2000:]
    assert (runs/'seed=0'/'run.ipynb').read_bytes() == before[runs/'seed=0'/'run.ipynb']
    assert '2' in (tmp_path/'results'/'tables'/'tiny'/'toy_baselines.md').read_text()

    # a missing point makes the aggregation fail with a message naming it
    (runs/'seed=2'/'metrics.json').unlink()
    r = subprocess.run([str(BIN/'python'), '-m', 'soi.workflow', 'aggregate', str(grid)], capture_output=True, text=True,
                       env=_env(tmp_path), cwd=ROOT)
    assert r.returncode != 0
    assert 'missing result for point(s) seed=2' in r.stdout + r.stderr, (r.stdout + r.stderr)[-3000:]

NB = {"cells": [{"cell_type": "code", "execution_count": None, "id": "p", "metadata": {"tags": ["parameters"]}, "outputs": [],
                 "source": "out_dir = None\nx = 1"},
                {"cell_type": "code", "execution_count": None, "id": "b", "metadata": {}, "outputs": [],
                 "source": "import json, pathlib\npathlib.Path(out_dir, 'result.json').write_text(json.dumps({'metrics': {'x': x}}))\n"
                           "p = pathlib.Path('../../soi/m.py'); p.write_text(p.read_text() + '# touched by the run\\n')"}],
      "metadata": {"kernelspec": {"name": "python3", "display_name": "python3", "language": "python"}}, "nbformat": 4, "nbformat_minor": 5}

def test_provenance_dirty_before_the_run(tmp_path):
    "A run from a clean tree records dirty: false even though the run itself modifies a tracked source; the next records true."
    from soi.config import get_config
    from soi.workflow import run_point, read_metrics
    from soi.report import git_commit
    repo = tmp_path/'repo'
    for d in ('soi', 'nbs/experiments', 'grids'): (repo/d).mkdir(parents=True)
    (repo/'soi'/'m.py').write_text('x = 1\n'); (repo/'nbs'/'experiments'/'t.ipynb').write_text(json.dumps(NB))
    (repo/'grids'/'t.yaml').write_text('notebook: nbs/experiments/t.ipynb\naxes: {x: [1]}\n')
    git = lambda *a: subprocess.run(['git', '-c', 'user.name=t', '-c', 'user.email=t@t', *a], cwd=repo, check=True, capture_output=True)
    git('init', '-q'); git('add', '.'); git('commit', '-qm', 'sources')
    assert git_commit(repo)['dirty'] is False
    cfg = get_config(results=tmp_path/'results')
    assert run_point(repo/'grids'/'t.yaml', 'x=1', cfg=cfg, root=repo)
    m = read_metrics(tmp_path/'results'/'runs'/'t'/'x=1')
    assert m['dirty'] is False and m['metrics'] == {'x': 1} and m['commit'] == git_commit(repo)['commit']
    assert git_commit(repo)['dirty'] is True                      # the run changed soi/m.py ...
    assert run_point(repo/'grids'/'t.yaml', 'x=1', cfg=cfg, root=repo)   # ... so the code changed: it runs again
    assert read_metrics(tmp_path/'results'/'runs'/'t'/'x=1')['dirty'] is True
    git('commit', '-qam', 'results only here')
    (repo/'README').write_text('a file outside the sources\n'); git('add', '.'); git('commit', '-qm', 'docs')
    assert git_commit(repo)['dirty'] is False

MATH_NB = {"cells": [{"cell_type": "markdown", "id": "m", "metadata": {},
                      "source": "# Maths\n\n| pool | formula |\n|---|---|\n| SPoC | $f_k = \\frac{1}{\\lvert \\mathcal{X}_k\\rvert}\\sum_{x} x$ |\n\n"
                                "$$f_k = \\Big(\\frac{1}{\\lvert \\mathcal{X}_k\\rvert}\\sum_{x\\in\\mathcal{X}_k} x^{p}\\Big)^{1/p}$$\n\nSee [the other page](other.ipynb)."},
                     {"cell_type": "code", "execution_count": None, "id": "c", "metadata": {}, "outputs": [], "source": "1 + 1"}],
           "metadata": {"kernelspec": {"name": "python3", "display_name": "python3", "language": "python"}}, "nbformat": 4, "nbformat_minor": 5}

def _chromium_or_skip():
    pytest.importorskip('playwright')
    r = subprocess.run(['bash', str(ROOT/'tools'/'ensure_chromium.sh')], capture_output=True, text=True)
    if r.returncode: pytest.skip(f'no Chromium: {r.stderr.strip()}')

def test_html_site_small(tmp_path):
    "A site from two small notebooks: executed, maths typeset by the offline MathJax, no console error, links rewritten."
    _chromium_or_skip()
    sys.path.insert(0, str(ROOT/'tools'))
    import build_docs, check_site
    nbs = tmp_path/'nbs'; nbs.mkdir()
    (nbs/'maths.ipynb').write_text(json.dumps(MATH_NB)); shutil.copy(ROOT/'nbs'/'00_config.ipynb', nbs/'other.ipynb')
    site = tmp_path/'site'
    assert build_docs.main([str(nbs/'maths.ipynb'), str(nbs/'other.ipynb'), '--out', str(site), '--no-inplace']) == 0
    html = (site/'maths.html').read_text()
    assert 'href="other.html"' in html and 'cdnjs' not in html.split('mermaid')[0]
    assert json.loads((nbs/'maths.ipynb').read_text())['cells'][1]['outputs'] == []   # --no-inplace left it alone
    res = check_site.check_pages(sorted(site.glob('*.html')))
    assert res == {'maths': [], 'other': []}, res
    # the checker can fail: maths without MathJax is reported
    (site/'broken.html').write_text(html.replace('mathjax/MathJax.js', 'mathjax/missing.js'))
    assert check_site.check_pages([site/'broken.html'])['broken']

@pytest.mark.skipif(not (ROOT/'_site'/'index.html').exists(), reason='no _site/ (make docs writes it)')
def test_html_site_full():
    "Every page of the site `make docs` wrote opens with no console error and its maths typeset."
    _chromium_or_skip()
    sys.path.insert(0, str(ROOT/'tools'))
    import check_site
    res = check_site.check_pages(sorted((ROOT/'_site').glob('*.html')))
    assert not {k: v for k, v in res.items() if v}, res

def test_results_md_renders_any_benchmark_json(tmp_path):
    "RESULTS.md: each benchmarks/results/*.json becomes a section with its machine and table; legacy text follows."
    sys.path.insert(0, str(ROOT/'tools'))
    import render_results
    (tmp_path/'benchmarks'/'results').mkdir(parents=True)
    (tmp_path/'benchmarks'/'results'/'search.json').write_text(json.dumps({
        'title': 'search', 'machine': {'cpu': 'x86_64, 2 cores', 'load': 7.9}, 'command': 'python benchmarks/search.py',
        'rows': [{'method': 'faiss Flat', 'ms/query': 1.25}, {'method': 'torch topk', 'ms/query': 2.5}], 'speedup': 2.0}))
    (tmp_path/'benchmarks'/'results'/'other.json').write_text(json.dumps({'tables': {'a': [{'x': 1}]}}))
    (tmp_path/'benchmarks'/'legacy.md').write_text('## Legacy sections\n\nold text\n')
    md = render_results.render(tmp_path)
    assert md.index('## other') < md.index('## search') < md.index('## Legacy sections')
    assert 'Machine: cpu x86_64, 2 cores, load 7.9.' in md and '| faiss Flat | 1.25 |' in md and '- speedup: 2.0' in md
    assert 'Machine: not recorded' in md and '| 1 |' in md
    assert render_results.render(ROOT) == (ROOT/'benchmarks'/'RESULTS.md').read_text(), 'RESULTS.md is stale: run tools/render_results.py'
