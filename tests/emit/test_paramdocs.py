"""parameters/README.md is generated from the parameter definitions and stays in step with them."""

from __future__ import annotations

from threetier import parameters as P
from threetier.emit import paramdocs


def test_the_committed_readme_matches_the_definitions(project, root_template):
    committed = (project / paramdocs.README).read_text(encoding="utf-8")
    assert committed == paramdocs.render(root_template.to_dict()), (
        f"{paramdocs.README} is out of date: run `{paramdocs.COMMAND}` and commit it")


def test_every_user_facing_parameter_has_one_row_in_console_order(root_template):
    root = root_template.to_dict()
    text = paramdocs.render(root)
    rows = [line.split("|")[1].strip().strip("`") for line in text.splitlines()
            if line.startswith("| `")]
    groups = root["Metadata"][P.INTERFACE]["ParameterGroups"]
    assert rows == [name for group in groups for name in group["Parameters"]]
    assert set(rows) == set(root["Parameters"])
    assert [line[3:] for line in text.splitlines() if line.startswith("## ")][:-1] == [
        group["Label"]["default"] for group in groups]


def test_a_row_shows_label_default_allowed_values_and_description(root_template):
    text = paramdocs.render(root_template.to_dict())
    assert ("| `NumberOfAzs` | Number of Availability Zones | `2` | `2`, `3` | "
            "How many Availability Zones to spread every tier across. |") in text
    assert "| `AdminCidr` | Admin CIDR for SSH to bastions | empty | Empty (no bastions) or an IPv4" in text
    assert "(&lt;project>-&lt;environment>-&lt;thing>)" in text  # not swallowed as HTML tags


def test_wired_parameters_are_not_listed(root_template):
    text = paramdocs.render(root_template.to_dict())
    assert f"`{P.VPC_ID.name}`" not in text and f"`{P.DB_SECURITY_GROUP_ID.name}`" not in text


def test_check_mode_passes_on_this_checkout(project, capsys):
    assert paramdocs.main(["--project-dir", str(project), "--check"]) == 0


def test_check_mode_reports_a_stale_file_and_the_command_rewrites_it(tmp_path, capsys, monkeypatch, root_template):
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "__init__.py").write_text("")
    (tmp_path / "setup.cfg").write_text("")
    (tmp_path / "parameters").mkdir()
    (tmp_path / "parameters" / "README.md").write_text("old\n")
    monkeypatch.setattr(paramdocs, "build_root", lambda project: root_template.to_dict())

    assert paramdocs.main(["--project-dir", str(tmp_path), "--check"]) == 1
    assert "README.md is out of date: run `python -m threetier.emit.paramdocs`" in capsys.readouterr().err
    assert paramdocs.main(["--project-dir", str(tmp_path)]) == 0
    assert paramdocs.main(["--project-dir", str(tmp_path), "--check"]) == 0
