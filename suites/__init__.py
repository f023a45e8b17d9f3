"""The standard suites, installed as the package ``rgbench.suites`` (pyproject.toml maps this directory
there; it stays their one source): ``rgbench run smoke`` finds ``smoke.yaml`` here from any directory,
and ``rgbench suites`` lists them. The YAML files are data; this package holds no code."""
