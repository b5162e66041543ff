# soi experiment workflow: every committed table and figure is a target of this graph.
#   snakemake --cores 2            (make results)        regenerate what is missing or stale
#   snakemake -n                                         show what would run
#   snakemake --profile workflow/profiles/slurm          the same graph on a SLURM cluster
#   snakemake --config grids=a.yaml,b.yaml extras=0      only these grids (tests)
# A grid (grids/*.yaml) is expanded by soi.workflow into points; a point is complete when its folder holds
# `.done-<key>`, where the key hashes the point's parameters and the code (soi/ sources and the notebook's cells),
# so Snakemake runs exactly the points whose parameters or code changed. Results go to $SOI_RESULTS (default
# results/), figures to $SOI_FIGURES (default figures/).
import glob, os, sys
from pathlib import Path
from soi.workflow import load_grid, expand_grid, point_key, code_hash

ROOT = Path(workflow.basedir).resolve()
PY = sys.executable
RES = Path(os.environ.get('SOI_RESULTS') or ROOT/'results').resolve()
FIG = Path(os.environ.get('SOI_FIGURES') or ROOT/'figures').resolve()
_grids = config.get('grids') or sorted(glob.glob(str(ROOT/'grids'/'*.yaml')))
GRIDS = [str(Path(p).resolve()) for p in (_grids.split(',') if isinstance(_grids, str) else _grids)]
EXTRAS = str(config.get('extras', 1)) not in ('0', 'false', 'False')
TARGETS = []

def table_files(t): return [str(RES/'tables'/f'{t}.{e}') for e in ('md', 'csv', 'tex', 'json')]
def figure_files(f): return [str(FIG/f'{f}.{e}') for e in ('png', 'pdf', 'json')]

for gpath in GRIDS:
    g = load_grid(gpath)
    code = code_hash(g['notebook'], ROOT)
    done = [str(RES/'runs'/g['name']/p/f'.done-{point_key(params, code)}') for p, params in expand_grid(g).items()]

    rule:  # one papermill run per grid point (soi.workflow.run_point)
        name: f"run_{g['name']}"
        output: str(RES/'runs'/g['name']/'{point}'/'.done-{key}')
        params: grid=gpath, root=str(ROOT)
        threads: int(g['params'].get('threads', 1))
        shell: 'cd {params.root:q} && {PY} -m soi.workflow run {params.grid:q} {wildcards.point:q}'

    agg = g['aggregate'] or {}
    if agg:
        outs = [f for t in agg.get('tables', []) for f in table_files(t)]
        outs += [f for t in agg.get('tables', []) for f in table_files(t + '_timing')]
        outs += [f for fg in agg.get('figures', []) for f in figure_files(fg)]
        rule:  # the grid's aggregation notebook: tables (mean ± std over seeds) and figures
            name: f"aggregate_{g['name']}"
            input: done, str(ROOT/agg['notebook']), gpath, [table_files(t)[1] for t in agg.get('reads', [])]
            output: outs
            params: grid=gpath, root=str(ROOT)
            shell: 'cd {params.root:q} && {PY} -m soi.workflow aggregate {params.grid:q}'
        TARGETS += outs

if EXTRAS:
    rule rmac_regions:  # the R-MAC grid figure of 07_pooling
        input: str(ROOT/'nbs/experiments/rmac_regions.ipynb'), str(ROOT/'soi/pooling.py')
        output: figure_files('pooling/rmac_regions')
        params: root=str(ROOT), log=str(RES/'runs'/'figures'/'rmac_regions.ipynb')
        shell: 'cd {params.root:q} && {PY} -m soi.workflow execute nbs/experiments/rmac_regions.ipynb {params.log:q}'

    rule benchmarks_results:  # benchmarks/RESULTS.md rendered from benchmarks/results/*.json
        input: sorted(glob.glob(str(ROOT/'benchmarks'/'results'/'*.json'))), str(ROOT/'tools'/'render_results.py'),
               str(ROOT/'benchmarks'/'legacy.md')
        output: str(ROOT/'benchmarks'/'RESULTS.md'), str(ROOT/'benchmarks'/'speed.md')
        params: root=str(ROOT)
        shell: 'cd {params.root:q} && {PY} tools/render_results.py'

    TARGETS += rules.rmac_regions.output + rules.benchmarks_results.output

rule all:
    input: TARGETS
    default_target: True
