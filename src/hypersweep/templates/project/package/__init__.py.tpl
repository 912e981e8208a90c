"""{{project}}: hyperparameter-search problems, one sub-package each (`hypersweep new-problem NAME`)."""
