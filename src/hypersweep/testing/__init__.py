"""Public test kits: storage conformance suite (`storage`), oracle objectives (`functions`), scheduler replays
(`simulator`). Import the submodule you need; users run them against their own extensions as hypersweep does.
"""
