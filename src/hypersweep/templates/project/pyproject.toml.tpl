[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "{{project}}"
version = "0.1.0"
description = "Hyperparameter searches of {{project}}, run with hypersweep."
requires-python = ">=3.10"
dependencies = ["hypersweep"]

[tool.setuptools.packages.find]
include = ["{{project}}*"]
