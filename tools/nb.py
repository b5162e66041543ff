"""Author notebooks as percent-format text and convert both ways (a developer tool, not part of soi).

    python tools/nb.py topy nbs/04_evaluate.ipynb /tmp/04_evaluate.py   # notebook -> editable text
    python tools/nb.py tonb /tmp/04_evaluate.py nbs/04_evaluate.ipynb   # text -> notebook (clean metadata)

Cells are separated by `# %%` (code) and `# %% [markdown]`; tags as `# %% tags=["parameters"]`.
The notebook keeps only the python3 kernelspec, so papermill and nbdev-test run it as is.
"""
import sys, jupytext, nbformat

KERNEL = {"kernelspec": {"display_name": "python3", "language": "python", "name": "python3"}}

def tonb(src, dst):
    nb = jupytext.read(src, fmt='py:percent')
    nb.metadata = dict(KERNEL)
    for c in nb.cells:
        tags = c.metadata.get('tags')
        c.metadata = {'tags': tags} if tags else {}
        if c.cell_type == 'code': c.outputs, c.execution_count = [], None
    nbformat.write(nb, dst)

def topy(src, dst):
    nb = nbformat.read(src, as_version=4)
    jupytext.write(nb, dst, fmt='py:percent')

if __name__ == '__main__':
    cmd, src, dst = sys.argv[1:4]
    {'tonb': tonb, 'topy': topy}[cmd](src, dst)
