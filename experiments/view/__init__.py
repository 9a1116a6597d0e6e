"""``storetwin view``: a browser viewer of one run folder.

The page is three.js (vendored in ``static/``, docs/viewer.md says why and how) driven by
our own ``static/viewer.js``; the run's data goes beside it in ``data.js``, so the folder
opens from disk or from localhost with nothing fetched from elsewhere.

- :mod:`experiments.view.blobs`: typed arrays as compressed base64, the page's wire format;
- :mod:`experiments.view.scene`: the store, its cameras and their coverage;
- :mod:`experiments.view.motion`: ground-truth and core tracks, decimated, and identity
  switches;
- :mod:`experiments.view.evidence`: shelf events, the core's billed events and receipts,
  truth against issued;
- :mod:`experiments.view.page`: the folder, written whole, and a localhost server;
- :mod:`experiments.view.export`: a run as one glTF file, the shoppers standing in the store.
"""
