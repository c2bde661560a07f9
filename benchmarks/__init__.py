"""The ntkbook benchmark suite: ``python -m benchmarks`` (``make bench``); not part of ``make test``.

* :mod:`benchmarks.analytic` -- the infinite-width kernels (library recursion vs :mod:`ntkbook._fast`);
* :mod:`benchmarks.empirical` -- empirical NTK strategies and the automatic choice;
* :mod:`benchmarks.book` -- wall time of executing every notebook and of building the book (``--book``).

Results go to ``benchmarks/results/`` (``latest.md``, ``latest.json`` and a time-stamped JSON), the
figure to ``book/images/bench-time-vs-n.png`` and the page ``book/appendix-benchmarks.md``.
"""
