from typer.testing import CliRunner

from tantalio.cli.main import app


def test_cli_help_lists_the_program() -> None:
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "tantalio" in result.output.lower() or "Usage" in result.output
