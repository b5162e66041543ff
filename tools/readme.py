"""Render nbs/index.ipynb to README.md without Quarto (a developer tool; `make readme`).

Markdown cells are copied; code cells are shown as python blocks with their text outputs, except cells
starting with `#| hide`. `--check` exits 1 when README.md is not what the notebook renders to.
"""
import sys
from pathlib import Path
import nbformat

ROOT = Path(__file__).resolve().parents[1]

def render(nb_path=ROOT/'nbs'/'index.ipynb') -> str:
    nb = nbformat.read(nb_path, as_version=4)
    out = ['<!-- generated from nbs/index.ipynb by tools/readme.py (make readme): do not edit -->', '']
    for c in nb.cells:
        src = c.source.strip()
        if c.cell_type == 'markdown': out += [src, '']
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
