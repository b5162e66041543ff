"""Render nbs/index.ipynb to README.md without Quarto (a developer tool; `make readme`).

Markdown cells are copied; code cells are shown as python blocks with their text outputs, except cells
starting with `#| hide`. A markdown line `<!-- include: results/tables/x.md -->` is followed by that file (a table
written by soi.report.save_table) up to `<!-- end include -->`: the block is refreshed in nbs/index.ipynb itself
(so the notebook shows the same tables as the README) and copied to the README, so numbers are never typed.
Links are written relative to nbs/ in the notebook (`07_pooling.ipynb`, `../figures/x.png`) and rewritten relative
to the repository root for the README. `--check` exits 1 when README.md or the include blocks are stale.
"""
import re, sys
from pathlib import Path
import nbformat

ROOT = Path(__file__).resolve().parents[1]

def _includes(md:str) -> str:
    "Refresh each `<!-- include: PATH -->` block with the file's text (PATH relative to the repository root)."
    def sub(m):
        f = ROOT/m.group(1).strip()
        if not f.exists(): sys.exit(f'README include {m.group(1).strip()} not found: run the job that writes it (make results)')
        return f'<!-- include: {m.group(1).strip()} -->\n{f.read_text().rstrip()}\n<!-- end include -->'
    return re.sub(r'(?ms)^<!-- include: (.+?) -->$(?:\n.*?^<!-- end include -->$)?', sub, md)

def _root_links(md:str) -> str:
    "Links relative to nbs/ -> relative to the repository root (for README.md)."
    md = re.sub(r'\]\(\.\./', '](', md)
    return re.sub(r'\]\((?!https?:|#|/|nbs/)([^)\s]+\.ipynb(?:#[^)]*)?)\)', r'](nbs/\1)', md)

def sync_index(nb_path=ROOT/'nbs'/'index.ipynb', write:bool=True) -> bool:
    "Refresh the include blocks of the notebook's markdown cells; True when something changed."
    nb = nbformat.read(nb_path, as_version=4); changed = False
    for c in nb.cells:
        if c.cell_type == 'markdown':
            new = _includes(c.source)
            if new != c.source: c.source, changed = new, True
    if changed and write: nbformat.write(nb, nb_path)
    return changed

def render(nb_path=ROOT/'nbs'/'index.ipynb') -> str:
    nb = nbformat.read(nb_path, as_version=4)
    out = ['<!-- generated from nbs/index.ipynb by tools/readme.py (make readme): do not edit -->', '']
    for c in nb.cells:
        src = c.source.strip()
        if c.cell_type == 'markdown': out += [_root_links(_includes(src)), '']
        elif c.cell_type == 'code' and src and not src.startswith('#| hide'):
            lines = [l for l in src.splitlines() if not l.startswith('#|')]
            out += ['```python', *lines, '```', '']
            for o in c.get('outputs', []):
                txt = o.get('text') or o.get('data', {}).get('text/plain')
                if txt: out += ['```', ''.join(txt).rstrip(), '```', '']
    return '\n'.join(out).rstrip() + '\n'

if __name__ == '__main__':
    if '--check' in sys.argv:
        if sync_index(write=False): sys.exit('nbs/index.ipynb include blocks are stale: run `make readme` (tools/readme.py) and commit')
        readme = ROOT/'README.md'
        if not readme.exists() or readme.read_text() != render():
            sys.exit('README.md is not what nbs/index.ipynb renders to: run `make readme` and commit')
    else:
        sync_index(); (ROOT/'README.md').write_text(render())
