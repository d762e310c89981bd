"""Page generators: each module registers ``@generator("name")`` functions that return MyST text.

A page uses one with a fenced block ```` ```{generated} name ```` (see futurebank.spec.sphinx_ext).
"""
