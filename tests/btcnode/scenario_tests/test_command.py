"""`btcnode scenario`: the story on success, log tails and one error line on failure.

The runners are replaced by fakes here (the real ones start processes; see
tests/integration/test_btcnode_scenarios.py), so these tests check the command itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from btcnode.scenarios import command
from btcnode.scenarios.errors import ScenarioTimeout
from btcnode.scenarios.results import ScenarioResult
from tests.btcnode.scenario_tests import samples


def _fake(result: ScenarioResult, seen: list[Path]) -> Any:
    def run(root: Path, **kwargs: Any) -> ScenarioResult:
        assert root.is_dir()
        (root / "node.log").write_text("a log line\n")
        seen.append(root)
        kwargs["progress"]("a step")
        return result

    return run


def test_a_success_prints_the_story_and_removes_the_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[Path] = []
    monkeypatch.setitem(command.SCENARIOS, "mining-race", _fake(samples.mining_race(), seen))
    result = CliRunner().invoke(command.scenario, ["mining-race", "--nodes-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "· a step" in result.output
    assert "Mining race: two blocks at height 103" in result.output
    assert "(2.5 s)" in result.output
    assert seen and seen[0].parent == tmp_path and not seen[0].exists()


def test_keep_keeps_the_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[Path] = []
    monkeypatch.setitem(command.SCENARIOS, "partition-heal", _fake(samples.partition(), seen))
    args = ["partition-heal", "--nodes-dir", str(tmp_path), "--keep"]
    result = CliRunner().invoke(command.scenario, args)
    assert result.exit_code == 0, result.output
    assert (seen[0] / "node.log").exists()
    assert f"kept in {seen[0]}" in result.output.replace("\n", "")


def test_a_failure_prints_the_log_tails_then_one_error_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(root: Path, **_: Any) -> ScenarioResult:
        err = ScenarioTimeout("observer on tip abcd", "observer at height 104", 20.0)
        err.add_note("--- observer/node.log (last lines) ---\nboom")
        raise err

    monkeypatch.setitem(command.SCENARIOS, "race-attack", fail)
    result = CliRunner().invoke(command.scenario, ["race-attack", "--nodes-dir", str(tmp_path)])
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert "boom" in lines
    assert lines[-1] == (
        "error: race-attack: observer on tip abcd did not happen within 20 s; "
        "last seen: observer at height 104"
    )
    assert any(line.startswith("logs kept in ") for line in lines)


def test_all_runs_every_scenario_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    order: list[str] = []
    for name in command.SCENARIOS:

        def run(root: Path, name: str = name, **_: Any) -> ScenarioResult:
            order.append(name)
            return samples.partition()

        monkeypatch.setitem(command.SCENARIOS, name, run)
    monkeypatch.setattr(command, "run_private_chain", command.SCENARIOS["private-chain"])
    result = CliRunner().invoke(command.scenario, ["all", "--nodes-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert order == list(command.SCENARIOS)


def test_private_chain_gets_the_table_options(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    got: dict[str, Any] = {}

    def run(root: Path, **kwargs: Any) -> ScenarioResult:
        got.update(kwargs)
        return samples.private_chain()

    monkeypatch.setattr(command, "run_private_chain", run)
    args = ["private-chain", "--nodes-dir", str(tmp_path), "--runs", "50", "--seed", "9"]
    result = CliRunner().invoke(command.scenario, args)
    assert result.exit_code == 0, result.output
    assert (got["runs"], got["seed"]) == (50, 9)
    assert "Nakamoto" in result.output and "0.0009137" in result.output


def test_an_unknown_scenario_is_a_usage_error() -> None:
    result = CliRunner().invoke(command.scenario, ["selfish-mining"])
    assert result.exit_code == 2
    assert "'selfish-mining' is not one of" in result.output
