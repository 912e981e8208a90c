"""The polynome2 tutorial: learn y = -x·x (x in [-10, 10]^10) with a small scikit-learn MLP.

`problem.Problem` is the search space, `model_run.run(config)` trains one model and returns its validation R².
"""
