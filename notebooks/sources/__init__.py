"""The cells of the teaching notebooks, one module per notebook (``nbNN_topic.py``).

Each module defines ``NOTEBOOKS``: file name -> function returning the list of cells
(nbformat cells, built with ``cells.md`` and ``cells.code``). A module may write more than
one file (notebook 5 writes its solved and its student version). ``build_notebooks.py``
finds every ``nb*.py`` here, so a new notebook is one new module.
"""
