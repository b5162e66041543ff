"""Author notebooks as percent-format text and convert both ways (a developer tool, not part of soi).

    python tools/nb.py topy nbs/04_evaluate.ipynb /tmp/04_evaluate.py   # notebook -> editable text
    python tools/nb.py tonb /tmp/04_evaluate.py nbs/04_evaluate.ipynb   # text -> notebook (clean metadata)

Notebooks are committed with their outputs: `tonb` onto an existing notebook keeps the id, outputs and
execution count of every cell whose source is unchanged (and the id of a changed cell in the same place),
so a text edit gives a small diff; changed cells get empty outputs until `make docs` runs them again.

Cells are separated by `# %%` (code) and `# %% [markdown]`; tags as `# %% tags=["parameters"]`.
The notebook keeps only the python3 kernelspec, so papermill and nbdev-test run it as is.
"""
import os, sys, uuid, jupytext, nbformat

KERNEL = {"kernelspec": {"display_name": "python3", "language": "python", "name": "python3"}}

def tonb(src, dst):
    nb = jupytext.read(src, fmt='py:percent')
    nb.metadata = dict(KERNEL)
    prev = nbformat.read(dst, as_version=4) if os.path.exists(dst) else None
    old = prev.cells if prev else []
    if prev: nb.metadata = prev.metadata
    by_src = {}
    for c in old: by_src.setdefault((c.cell_type, c.source), []).append(c)
    used = set()
    for i, c in enumerate(nb.cells):
        tags = c.metadata.get('tags')
        c.metadata = {'tags': tags} if tags else {}
        if c.cell_type == 'code': c.outputs, c.execution_count = [], None
        same = [o for o in by_src.get((c.cell_type, c.source), []) if o.id not in used]
        if same:   # unchanged cell: keep its id and outputs
            c.id, c.metadata = same[0].id, same[0].metadata
            if c.cell_type == 'code': c.outputs, c.execution_count = same[0].outputs, same[0].execution_count
        elif i < len(old) and old[i].cell_type == c.cell_type and old[i].id not in used and \
                old[i].source not in {n.source for n in nb.cells}: c.id = old[i].id   # edited in place
        else: c.id = uuid.uuid4().hex[:8]
        used.add(c.id)
    nbformat.write(nb, dst)

def topy(src, dst):
    nb = nbformat.read(src, as_version=4)
    jupytext.write(nb, dst, fmt='py:percent')

if __name__ == '__main__':
    cmd, src, dst = sys.argv[1:4]
    {'tonb': tonb, 'topy': topy}[cmd](src, dst)
