# {{project}}

Hyperparameter searches run with hypersweep.

```bash
pip install -e .                      # optional: makes `{{project}}` importable from anywhere
cd {{project}}
hypersweep new-problem polynome2      # scaffolds polynome2/{load_data,model_run,problem}.py
hypersweep search --problem {{project}}.polynome2.problem.Problem --run {{project}}.polynome2.model_run.run \
                  --method bo --max-evals 50 --workers 2 --executor process
hypersweep topk results.csv -k 3 -o best.json
```

`hypersweep search` writes `results.csv` (one row per trial: `objective`, `p:<parameter>`, `m:<metadata>`),
the study itself in `results.db` (continue it with `--resume`) and a log in `search.log`.
