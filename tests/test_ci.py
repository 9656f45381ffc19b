import re


def readme_commands(project) -> list[str]:
    readme = (project / "README.md").read_text()
    setup = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.+?)\n```", setup)


def test_readme_has_exactly_two_setup_commands(project):
    install, test = readme_commands(project)
    assert "generate.py" in install and "pytest" in test


def test_ci_runs_exactly_the_readme_test_command(project):
    _, test = readme_commands(project)
    ci = (project / ".ci" / "run").read_text().splitlines()
    assert test in ci


def test_pull_requests_get_the_offline_review_and_pre_commit_runs_it(project):
    review = (project / ".github" / "workflows" / "review.yml").read_text()
    assert "pull_request:" in review and 'threetier diff "$BASE" --markdown' in review
    assert "fetch-depth: 0" in review, "the base branch must be there to compare with"
    hooks = (project / ".pre-commit-config.yaml").read_text()
    assert "entry: threetier diff HEAD" in hooks
