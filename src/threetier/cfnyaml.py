"""Template -> YAML with exactly the bytes of troposphere's `Template.to_yaml()`, three times faster.

`to_yaml()` goes to_json -> JSON reloaded into cfn_flip's ODict -> cfn_flip's
dumper. ODict.items() builds a new class for every item (about 19,000 per
run), and PyYAML's pure-Python emitter analyses the same scalars ("Ref",
"Type", parameter names) over and over. Here the JSON is reloaded into plain
dicts (same data, keys already sorted) and dumped by cfn_flip's own dumper with
a plain-dict representer and a memo of the scalar analysis. Everything that
decides a byte (short-form tags, quoting, literal JSON bodies, line width) is
still cfn_flip's and PyYAML's code; tests/test_generate.py compares the two
renderings for every stack.
"""

from __future__ import annotations

import json

import yaml
from cfn_clean import cfn_literal_parser
from cfn_flip import config
from cfn_flip.yaml_dumper import CONVERTED_SUFFIXES, FN_PREFIX, TAG_MAP, Dumper, fn_representer
from troposphere import Template

# The analysis of a scalar depends on its text and its class only (cfn_flip's
# LiteralString is analysed differently from str), and every dump here uses the
# same emitter settings, so one memo serves every template.
_ANALYSES: dict[tuple[type, str], object] = {}


class _MemoDumper(Dumper):
    def analyze_scalar(self, scalar):
        key = (type(scalar), scalar)
        analysis = _ANALYSES.get(key)
        if analysis is None:
            analysis = _ANALYSES[key] = super().analyze_scalar(scalar)
        return analysis


def _represent_dict(dumper: yaml.Dumper, value: dict) -> yaml.Node:
    """cfn_flip's map_representer for a plain dict: a one-key intrinsic gets its short form (!Ref, !Sub ...)."""
    if len(value) == 1:
        ((key, inner),) = value.items()
        if key in CONVERTED_SUFFIXES:
            return fn_representer(dumper, key, inner)
        if key.startswith(FN_PREFIX):
            return fn_representer(dumper, key[len(FN_PREFIX):], inner)
    return dumper.represent_mapping(TAG_MAP, value, flow_style=False)


_MemoDumper.add_representer(dict, _represent_dict)


def to_yaml(template: Template) -> str:
    # The JSON round trip of troposphere's to_json (sorted keys, tuples as lists),
    # without its indent: json's C encoder only runs without one. sort_keys=False
    # below keeps the sorted order, as ODict did.
    data = cfn_literal_parser(json.loads(json.dumps(template.to_dict(), sort_keys=True)))
    return yaml.dump(data, Dumper=_MemoDumper, default_flow_style=False, allow_unicode=True,
                     width=config.max_col_width, sort_keys=False)
