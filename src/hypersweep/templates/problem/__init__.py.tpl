"""The {{name}} problem: `problem.Problem` is the search space, `model_run.run(config)` the objective.

Search it with `hypersweep search --problem {{module}}.problem.Problem --run {{module}}.model_run.run`.
"""
