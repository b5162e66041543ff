"""Execute the notebooks and write a static HTML site with maths rendered offline (`make docs`).

  python tools/build_docs.py                       # execute nbs/index + numbered notebooks in place, site in _site/
  python tools/build_docs.py --no-inplace          # execute copies only (nbs/ untouched), site in _site/
  python tools/build_docs.py --no-execute NB...    # render the given notebooks as they are

Execution follows nbdev-test: cells flagged with a `tst_flags` directive (`#| notest`, `#| slow`, `#| gpu`) are not
run. The site uses nbconvert's lab template without network resources (tools/docs_template/soi) and MathJax 2 from the
`jupyter-server-mathjax` package, copied to _site/mathjax/; links to `X.ipynb` become `X.html` and images in markdown
are embedded. nbdev's Quarto site (`nbdev-docs`, settings in pyproject.toml) still works for those who have Quarto.
"""
import argparse, os, re, shutil, sys, time
from pathlib import Path
import nbformat
from nbconvert import HTMLExporter
from nbconvert.preprocessors import ExecutePreprocessor

ROOT = Path(__file__).resolve().parents[1]
FLAGS = ('notest', 'slow', 'gpu')

class FlaggedExecute(ExecutePreprocessor):
    "ExecutePreprocessor that skips cells carrying an nbdev test flag, as nbdev-test does."
    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == 'code' and re.search(r'(?m)^#\|\s*(' + '|'.join(FLAGS) + r')\b', cell.source):
            cell.outputs, cell.execution_count = [], None
            return cell, resources
        return super().preprocess_cell(cell, resources, index)

def default_notebooks() -> list[Path]:
    nbs = ROOT/'nbs'
    return [nbs/'index.ipynb'] + sorted(p for p in nbs.glob('[0-9]*.ipynb'))

def execute(path:Path, timeout:int=1200) -> nbformat.NotebookNode:
    nb = nbformat.read(path, as_version=4)
    FlaggedExecute(timeout=timeout, kernel_name='python3').preprocess(nb, {'metadata': {'path': str(path.parent)}})
    return nb

def to_html(nb, path:Path) -> str:
    ex = HTMLExporter(template_name='soi', extra_template_basedirs=[str(ROOT/'tools'/'docs_template')],
                      mathjax_url='mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full,Safe', embed_images=True)
    html, _ = ex.from_notebook_node(nb, resources={'metadata': {'path': str(path.parent), 'name': path.stem}})
    html = re.sub(r'href="(\./)?([\w.-]+)\.ipynb(#[^"]*)?"', lambda m: f'href="{m.group(2)}.html{m.group(3) or ""}"', html)
    return html.replace('src="../figures/', 'src="figures/')   # nbconvert embeds only files under nbs/: copied below

def copy_mathjax(site:Path):
    import jupyter_server_mathjax
    src = Path(jupyter_server_mathjax.__file__).parent/'static'
    if not (site/'mathjax'/'MathJax.js').exists(): shutil.copytree(src, site/'mathjax', dirs_exist_ok=True)

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('notebooks', nargs='*', type=Path, help='notebooks (default: nbs/index.ipynb and nbs/[0-9]*.ipynb)')
    ap.add_argument('--out', type=Path, default=ROOT/'_site', help='site folder (default _site/)')
    ap.add_argument('--no-inplace', action='store_true', help='do not write the executed notebooks back to nbs/')
    ap.add_argument('--no-execute', action='store_true', help='render the notebooks as they are')
    ap.add_argument('--timeout', type=int, default=1200, help='seconds per cell')
    a = ap.parse_args(argv)
    nbs = [p.resolve() for p in a.notebooks] or default_notebooks()
    a.out.mkdir(parents=True, exist_ok=True); copy_mathjax(a.out)
    if (ROOT/'figures').exists(): shutil.copytree(ROOT/'figures', a.out/'figures', dirs_exist_ok=True)
    os.environ['MPLBACKEND'] = 'module://matplotlib_inline.backend_inline'   # figures inline, even where Agg is the default
    pages, failed = [], []
    for p in nbs:
        t = time.time()
        try: nb = nbformat.read(p, as_version=4) if a.no_execute else execute(p, a.timeout)
        except Exception as e:   # one failing notebook must not hide the others: report it and go on
            print(f'{p.name}: execution failed: {str(e).splitlines()[-1] if str(e) else type(e).__name__}', file=sys.stderr)
            failed.append(p.name); continue
        if not a.no_execute and not a.no_inplace: nbformat.write(nb, p)
        (a.out/f'{p.stem}.html').write_text(to_html(nb, p)); pages.append(p.stem)
        print(f'{p.name} -> {a.out/p.stem}.html ({time.time() - t:.0f} s)')
    if failed: print(f'failed: {", ".join(failed)}', file=sys.stderr); return 1
    return 0

if __name__ == '__main__': sys.exit(main())
