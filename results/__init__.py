"""The shipped stores' score reports, installed as the package ``rgbench.results`` (pyproject.toml maps
this directory there; only the ``*.score.json`` files travel, the stores stay in the repository):
``rgbench leaderboard STORE --reference`` puts a store beside them from any directory."""
