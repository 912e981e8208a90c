"""scikit-learn on Dask: multi-fidelity searches over ``partial_fit``, distributed grid and random search, and
the `Incremental` / `ParallelPostFit` wrappers for data larger than memory, all on hypersweep's engine.
"""
