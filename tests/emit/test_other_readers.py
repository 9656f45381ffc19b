"""Every generated file means the same to the readers other tools use, not only to PyYAML.

A YAML 1.2 reader (ruamel.yaml), SnakeYAML itself (Debian's libyaml-snake-java, run by
readers/ReadWithSnakeYaml.java) and PyYAML all read each file in output/ as exactly the
template's data; so do they what `aws cloudformation package` writes back (aws-cli's
yamlhelper dumps with PyYAML's SafeDumper, which leaves a YAML 1.1 string such as
054676820928 unquoted, and CloudFormation then reads a number: aws/aws-cli#6908).
"""

from __future__ import annotations

import importlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from ruamel.yaml import YAML
from ruamel.yaml.constructor import SafeConstructor

import templates
from threetier.emit import cfnyaml
from threetier.facts import yamlreaders

SNAKEYAML_JAR = Path("/usr/share/java/snakeyaml.jar")
JAVA_READER = Path(__file__).parent / "readers" / "ReadWithSnakeYaml.java"
MODULES = sorted(templates.STACKS.values())


def long_form(value):
    """{'!Ref': x} as CloudFormation reads it: {'Ref': x}, {'Fn::GetAtt': [a, b]}, {'Fn::Sub': ...}."""
    if isinstance(value, dict):
        if len(value) == 1 and next(iter(value)).startswith("!"):
            tag, inner = next(iter(value.items()))
            name = tag[1:]
            if name == "GetAtt" and isinstance(inner, str):
                inner = inner.split(".", 1)
            return {name if name in ("Ref", "Condition") else f"Fn::{name}": long_form(inner)}
        return {key: long_form(item) for key, item in value.items()}
    if isinstance(value, list):
        return [long_form(item) for item in value]
    return value


class _LocalTags(SafeConstructor):
    pass


def _tagged(constructor, tag_suffix, node):
    if node.id == "scalar":
        value = constructor.construct_scalar(node)
    elif node.id == "sequence":
        value = constructor.construct_sequence(node, deep=True)
    else:
        value = constructor.construct_mapping(node, deep=True)
    return {f"!{tag_suffix}": value}


_LocalTags.add_multi_constructor("!", _tagged)


def read_yaml_1_2(text: str):
    reader = YAML(typ="safe", pure=True)  # ruamel.yaml's default: YAML 1.2
    reader.Constructor = _LocalTags
    return long_form(reader.load(text))


def read_with_snakeyaml(paths: list[Path]) -> list:
    if not (SNAKEYAML_JAR.is_file() and shutil.which("java")):
        message = "SnakeYAML (apt-get install libyaml-snake-java) or java is missing"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    result = subprocess.run(["java", "-cp", str(SNAKEYAML_JAR), str(JAVA_READER), *map(str, paths)],
                            capture_output=True, text=True, check=True, timeout=300)
    return [long_form(json.loads(line)) for line in result.stdout.splitlines()]


def written_back_like_aws_cli_package(text: str) -> str:
    """The template as aws-cli's `cloudformation package` writes it: read into long-form data,
    dumped by PyYAML's SafeDumper (block style, no aliases, width 4096)."""
    class Dumper(yaml.SafeDumper):
        def ignore_aliases(self, data):
            return True

    return yaml.dump(read_with_pyyaml(text), Dumper=Dumper, default_flow_style=False, width=4096)


def read_with_pyyaml(text: str):
    class Loader(yaml.SafeLoader):
        pass

    Loader.add_multi_constructor("!", lambda loader, suffix, node: _tagged(loader, suffix, node))
    return long_form(yaml.load(text, Loader))


def template_data(module: str):
    return json.loads(json.dumps(importlib.import_module(f"templates.{module}").build().to_dict()))


@pytest.fixture(scope="module")
def texts(project):
    return {module: (project / "output" / file).read_text(encoding="utf-8")
            for file, module in templates.STACKS.items()}


@pytest.mark.parametrize("module", MODULES)
def test_a_yaml_1_2_reader_reads_every_file_as_the_template(module, texts):
    assert read_yaml_1_2(texts[module]) == template_data(module)


@pytest.mark.parametrize("module", MODULES)
def test_what_aws_cli_package_writes_back_means_the_same_to_a_yaml_1_2_reader(module, texts):
    written_back = written_back_like_aws_cli_package(texts[module])
    assert read_yaml_1_2(written_back) == template_data(module)


def test_snakeyaml_reads_every_file_and_what_aws_cli_package_writes_back_as_the_template(project, texts, tmp_path):
    files = [project / "output" / file for file in templates.STACKS]
    for module in MODULES:
        (tmp_path / f"{module}.yaml").write_text(written_back_like_aws_cli_package(texts[module]), encoding="utf-8")
    files += [tmp_path / f"{module}.yaml" for module in MODULES]
    read = read_with_snakeyaml(files)
    expected = [template_data(module) for module in templates.STACKS.values()] + [template_data(m) for m in MODULES]
    for path, data, wanted in zip(files, read, expected):
        assert data == wanted, path


def test_a_bare_leading_zero_account_id_is_a_number_to_the_readers_the_bug_reports_name():
    """The checks above can fail: what aws-cli writes back for the account id the templates used to
    hold bare is a string only to PyYAML; YAML 1.2 reads an integer, and SnakeYAML's float table (what
    CloudFormation did in aws/aws-cli#6908) a float."""
    written_back = written_back_like_aws_cli_package(cfnyaml.dump({"AccountId": "054676820928"}))
    assert written_back == "AccountId: 054676820928\n"
    assert read_with_pyyaml(written_back) == {"AccountId": "054676820928"}
    assert read_yaml_1_2(written_back) == {"AccountId": 54676820928}
    assert yamlreaders.snakeyaml_type("054676820928") == "float"


@pytest.mark.parametrize("text, yaml_1_2, snakeyaml", [
    ("054676820928", "int", "float"),  # 8 and 9 are no octal digits: a string to YAML 1.1
    ("1e3", "float", "float"),  # YAML 1.1 wants a decimal point
    ("0o17", "int", "str"),
    ("1_000", "str", "int"),
    ("yes", "str", "bool"),
    ("=", "str", "value"),
    ("2012-10-17", "str", "timestamp"),
    ("iam::054676820928:root", "str", "str"),
    ("t3.micro", "str", "str"),
])
def test_the_reader_tables(text, yaml_1_2, snakeyaml):
    assert yamlreaders.yaml_1_2_type(text) == yaml_1_2
    assert yamlreaders.snakeyaml_type(text) == snakeyaml


TRICKY = ("054676820928", "098369216593", "0123", "1e3", "1E5", "-2e-3", ".5", "0o17", "0x1F", "0b101",
          "1_000", "+1", "-0", "12:30", "1:20:30.5", "2012-10-17", "2001-12-14t21:59:43.10-05:00",
          "yes", "No", "on", "OFF", "y", "n", "true", "False", "~", "null", "NULL", "", " ", "=", "<<",
          ".inf", "-.Inf", ".NaN", "1.", "1.5", "007", "8", "t3.micro", "iam::054676820928:root")


def test_whatever_the_emitter_writes_reads_back_as_a_string_to_every_reader(tmp_path):
    """An independent check of the tables: ruamel.yaml (YAML 1.2), SnakeYAML 1.33 and PyYAML read
    every tricky string back as that string, as a value, as a key and in a one-line list."""
    data = {"Values": {f"K{i}": text for i, text in enumerate(TRICKY)},
            "Keys": {text: "x" for text in TRICKY if text.strip()},
            "List": list(TRICKY)}
    text = cfnyaml.dump(data)
    assert read_with_pyyaml(text) == data
    assert read_yaml_1_2(text) == data
    (tmp_path / "tricky.yaml").write_text(text, encoding="utf-8")
    assert read_with_snakeyaml([tmp_path / "tricky.yaml"]) == [data]


def test_the_emitter_quotes_what_another_reader_would_type_otherwise():
    assert cfnyaml.dump({"A": "054676820928", "B": "1e3", "C": "t3.micro"}) == "A: '054676820928'\nB: '1e3'\nC: t3.micro\n"
    assert cfnyaml.dump_with_libyaml({"A": "054676820928"}) == "A: '054676820928'\n"
