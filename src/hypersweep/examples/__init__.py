"""Bundled, runnable examples; each is also what `hypersweep new-problem <name>` scaffolds.

`polynome2`: tune a small scikit-learn neural network that learns y = -x·x (the DeepHyper tutorial's problem).
"""
