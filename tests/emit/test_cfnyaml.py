"""cfnyaml writes the YAML itself: byte for byte what libyaml's emitter writes for the same nodes.

dump_with_libyaml (PyYAML's nodes serialized by libyaml, as generate did before) is the
reference: every template, a corpus of awkward scalars in every place a scalar can
be, and random documents must come out the same from both.
"""

import random

import pytest
import yaml
from yaml.nodes import ScalarNode
from yaml.resolver import Resolver

import templates
from threetier import emit
from threetier.emit import cfnyaml, scalarstyle

# Strings that a YAML reader may take for something else, or that need quotes to stay themselves.
TRICKY = [
    # numbers, in YAML 1.1 (PyYAML), 1.2 and SnakeYAML spellings
    "054676820928", "098369216593", "0", "00", "-0", "+1", "1_000", "0x1F", "0o17", "0b101", "017", "08", "1e3",
    "1E3", "1e+3", "1.0e+3", ".5", "5.", "1.5", "-1.5", "+.5", "1:30", "190:20:30", "12:30", "1,000", "6.8523015e+5",
    ".inf", "-.inf", "+.Inf", ".NaN", ".nan", "nan", "inf", "Infinity", "0.0.0.0/0", "10.0.0.0/16", "2.1",
    # booleans and null
    "yes", "Yes", "YES", "no", "No", "NO", "on", "On", "ON", "off", "Off", "OFF", "y", "Y", "n", "N", "true", "True",
    "TRUE", "false", "False", "FALSE", "~", "null", "Null", "NULL", "nULL", "", " ", "  ",
    # dates and times
    "2012-10-17", "2010-09-09", "2001-12-14t21:59:43.10-05:00", "2001-12-14 21:59:43.10 -5", "2002-12-14",
    "20:03:20", "2012-1-1",
    # YAML's own: merge key, value key, tags, anchors, aliases, directives, document markers
    "<<", "=", "!", "&", "*", "!x", "!!str", "*a", "&a", "%x", "@x", "`x", "---", "...", "--- x", "... x", "-", "- x",
    "-x", "?", "? x", "?x", ":", ": x", ":x", "x:", "x: y", "a: b", "a:b", "a::b", "AWS::Region", "a :b", "#c",
    "a #c", "a#c", "a# c", "a\n#c", "'", "''", "'a'", '"', '"a"', "a'b", "it's", "|", "|x", ">", ">x", "{a}", "[a]",
    "{", "}", "[", "]", ",", "a,b", "a, b", "a]", "a}", "a[0]", "${AWS::Region}", "${!Literal}",
    # white space and line breaks
    " a", "a ", " a ", "a  b", "a\tb", "\t", "a\nb", "a\nb\n", "a\n", "\n", "\na", "a\n\n", "a \nb", "a\n b",
    "a\n\nb", " a\nb\n", "a\r\nb", "a\rb", "a\u2028b", "a\u2029b", "a\x85b",
    # unicode
    "é", "ünïcödé", "日本語", "a\u00a0b", "\u00a0", "\ufeff", "a\ufeffb", "\U0001f600", "a\x00b", "a\x07b", "\x7f",
    "\ud7ff", "\ue000", "\ufffd", "\ufffe",
    # ordinary
    "a", "Name", "t3.small", "arn:aws:iam::aws:policy/ReadOnlyAccess", "/", "/a/b", "_x", "x-y", "a.b.c",
    # colons and braces inside: plain in a block, quoted in a one-line list
    "ec2:CreateVpc", "x{y", "$a:b", "/a:b", "0:30", "1:2:3", "a:b:", "${A}", "${A}:", "a:{b}", "$", "$:",
]

LONG_WORDS = ["lorem", "ipsum", "dolor", "sit", "amet,", "'quoted'", "it's", "a:b", "x", "${AWS::Region}", "#", "-"]


def libyaml_quotes(text: str) -> bool:
    """What PyYAML's resolver says: a plain `text` would not read back as a string."""
    return Resolver().resolve(ScalarNode, text, (True, False)) != scalarstyle.STR_TAG


@pytest.mark.parametrize("module", sorted(templates.STACKS.values()))
def test_every_template_is_written_by_the_writer_as_libyaml_writes_it(module):
    data = emit.data(module)
    assert cfnyaml._Writer().document(data) == cfnyaml.dump_with_libyaml(data)


@pytest.mark.parametrize("text", TRICKY)
def test_a_tricky_scalar_is_written_as_libyaml_writes_it_everywhere(text):
    padding = "x" * 100  # a key that puts the value past WIDTH, where libyaml may fold it
    document = {
        "Value": text,
        "Key": {text: "v"},
        "LongKeyPuttingTheValueFarRight" + padding: text + " " + text,
        "OneLine": [text, "b"],
        "OneLineNested": [[text], "b", {"Ref": text}],
        "OnePerLine": [text, "x" * 90],
        "Short": {"Ref": text},
        "ShortInList": ["x" * 90, {"Fn::Sub": text}],
        "Literal": text + "\nnext line\n",
        "Sentence": " ".join([text] * 40),
    }
    assert cfnyaml.dump(document) == cfnyaml.dump_with_libyaml(document)


@pytest.mark.parametrize("text", TRICKY)
def test_the_quoting_decision_is_pyyaml_s_resolver_s(text):
    """A string is quoted in a block exactly when PyYAML's resolver (YAML 1.1) reads its plain form as
    something else, or when YAML's syntax needs it; it always reads back as the same string."""
    try:
        chosen = scalarstyle.style(text, scalarstyle.STR_TAG, literal_wanted=False, in_flow=False, simple_key=False)
    except scalarstyle.NeedsLibyaml:
        return  # libyaml double-quotes it (the test above compares the bytes)
    if libyaml_quotes(text):
        assert chosen == scalarstyle.SINGLE_QUOTED
    assert scalarstyle.implicit_tag(text) == Resolver().resolve(ScalarNode, text, (True, False))
    assert yaml.safe_load(cfnyaml.dump({"A": text})) == {"A": text}


def test_every_scalar_in_output_gets_the_resolver_s_decision(project):
    """Of the strings in the templates, those written plain are exactly those PyYAML reads back as strings."""
    plain, quoted = set(), set()

    def visit(value):
        tag, value = cfnyaml.short_form(value)
        if isinstance(value, dict):
            for key, item in value.items():
                visit(key)
                visit(item)
        elif isinstance(value, (list, tuple)):
            for item in value:
                visit(item)
        elif isinstance(value, str) and tag is None and "\n" not in value:
            chosen = scalarstyle.style(value, scalarstyle.STR_TAG, literal_wanted=False, in_flow=False,
                                       simple_key=False)
            (plain if chosen == scalarstyle.PLAIN else quoted).add(value)

    for module in templates.STACKS.values():
        visit(emit.data(module))
    assert plain and quoted
    assert not {text for text in plain if libyaml_quotes(text)}
    assert {"2012-10-17", "2010-09-09", "true", "false", ""} <= quoted


def test_what_the_writer_cannot_write_libyaml_writes():
    document = {"Tab": "a\tb", "Escape": "\x07", "Float": 1e-05, "LongKey" + "k" * 130: "v", "Plus": "a\n\n"}
    for key, value in document.items():
        with pytest.raises(scalarstyle.NeedsLibyaml):
            cfnyaml._Writer().document({key: value})
        assert cfnyaml.dump({key: value}) == cfnyaml.dump_with_libyaml({key: value})


def test_without_libyaml_what_needs_it_says_how_to_get_it(monkeypatch):
    monkeypatch.setattr(cfnyaml.yaml, "__with_libyaml__", False)
    assert cfnyaml.dump({"A": {"Ref": "B"}}) == "A: !Ref B\n"
    with pytest.raises(cfnyaml.EmitterMissing, match="PyYAML was installed without libyaml"):
        cfnyaml.dump({"A": "tab\there"})


@pytest.mark.parametrize("indent", range(0, 40, 3))
def test_long_text_folds_where_libyaml_folds_it(indent):
    words = [f"w{n}" * (n % 7 + 1) for n in range(60)]
    document = {"A": {"B" * indent: {"Plain": " ".join(words), "Quoted": "'" + " ".join(words),
                                     "List": [" ".join(words[:30]), "x"], "Spaces": "  ".join(words)}}}
    assert cfnyaml._Writer().document(document) == cfnyaml.dump_with_libyaml(document)


def random_scalar(rng: random.Random):
    kind = rng.randrange(10)
    if kind == 0:
        return rng.choice([True, False, 0, -3, 42, 10 ** 15, 1.5, -0.25])
    if kind == 1:
        return " ".join(rng.choice(LONG_WORDS) for _ in range(rng.randrange(1, 60)))
    if kind == 2:
        return "\n".join(rng.choice(TRICKY[-9:]) for _ in range(rng.randrange(1, 4))) + rng.choice(["", "\n"])
    return rng.choice(TRICKY)


def random_value(rng: random.Random, depth: int):
    kind = rng.randrange(8 if depth < 4 else 3)
    if kind < 3:
        return random_scalar(rng)
    if kind == 3:
        return {rng.choice(["Ref", "Condition", "Fn::Sub", "Fn::If", "Fn::Base64"]):
                random_value(rng, depth + 1)}
    if kind == 4:
        return {"Fn::GetAtt": [rng.choice(TRICKY[-9:]), rng.choice(TRICKY[-9:])]}
    if kind in (5, 6):
        return [random_value(rng, depth + 1) for _ in range(rng.randrange(0, 8))]
    return {f"{rng.choice(TRICKY[-9:])}{number}": random_value(rng, depth + 1) for number in range(rng.randrange(0, 6))}


def test_random_documents_come_out_as_libyaml_writes_them():
    rng = random.Random(34)
    written_by_the_writer = 0
    for _ in range(400):
        document = {f"Key{number}": random_value(rng, 0) for number in range(rng.randrange(1, 6))}
        expected = cfnyaml.dump_with_libyaml(document)
        assert cfnyaml.dump(document) == expected, document
        try:
            cfnyaml._Writer().document(document)
            written_by_the_writer += 1
        except scalarstyle.NeedsLibyaml:
            pass
    assert written_by_the_writer > 100, "the corpus should mostly exercise the writer, not the fallback"


@pytest.mark.parametrize("value", [None, {1, 2}, object(), [None], {"Ref": None}])
def test_what_cloudformation_yaml_cannot_hold_is_refused_by_name(value):
    with pytest.raises(TypeError, match="cannot write"):
        cfnyaml.dump({"A": value})
