"""Render nbs/index.ipynb to README.md without Quarto (a developer tool; `make readme`).

Markdown cells are copied; code cells are shown as python blocks with their text outputs, except cells
starting with `#| hide`. A markdown line `<!-- include: results/tables/x.md -->` is replaced by that file (a table
written by soi.report.save_table), so numbers in the README are copied from result files, never typed.
`--check` exits 1 when README.md is not what the notebook renders to.
"""
import re, sys
from pathlib import Path
import nbformat

ROOT = Path(__file__).resolve().parents[1]

def _includes(md:str) -> str:
    "Replace each `<!-- include: PATH -->` line by the file's text (PATH relative to the repository root)."
    def sub(m):
        f = ROOT/m.group(1).strip()
        if not f.exists(): sys.exit(f'README include {m.group(1).strip()} not found: run the job that writes it')
        return f'{m.group(0)}\n{f.read_text().rstrip()}'
    return re.sub(r'(?m)^<!-- include: (.+?) -->$', sub, md)

def render(nb_path=ROOT/'nbs'/'index.ipynb') -> str:
    nb = nbformat.read(nb_path, as_version=4)
    out = ['<!-- generated from nbs/index.ipynb by tools/readme.py (make readme): do not edit -->', '']
    for c in nb.cells:
        src = c.source.strip()
        if c.cell_type == 'markdown': out += [_includes(src), '']
        elif c.cell_type == 'code' and src and not src.startswith('#| hide'):
            lines = [l for l in src.splitlines() if not l.startswith('#|')]
            out += ['```python', *lines, '```', '']
            for o in c.get('outputs', []):
                txt = o.get('text') or o.get('data', {}).get('text/plain')
                if txt: out += ['```', ''.join(txt).rstrip(), '```', '']
    return '\n'.join(out).rstrip() + '\n'

if __name__ == '__main__':
    text, readme = render(), ROOT/'README.md'
    if '--check' in sys.argv:
        if not readme.exists() or readme.read_text() != text:
            sys.exit('README.md is not what nbs/index.ipynb renders to: run `make readme` and commit')
    else: readme.write_text(text)
