"""See an environment before deploying it: architecture diagram and monthly cost estimate.

architecture.py  the plain description both read
stacks.py        evaluate the root and nested templates for one set of parameter values
model.py         templates + parameters/ENV.json -> Architecture
dot.py           Architecture -> Graphviz DOT (and SVG/PNG with `dot`)
pricing.py       unit prices: prices_us_east_1.json, or the AWS Price List API (--live)
cost.py          Architecture -> monthly estimate, one line per billed item
commands.py      the `threetier diagram` and `threetier cost` subcommands
"""
