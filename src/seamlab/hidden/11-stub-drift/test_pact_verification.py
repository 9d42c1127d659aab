"""Exercise 11: your contract, verified against the real provider, and failing on an old one.

Your tests/test_mail_contract.py is run twice next to your code, with our fixtures: against
the provider production uses (version 2; everything must pass) and against an older version
(version 1, which names the recipient `to` and answers 202; your verification must fail). Then
the pact file your consumer test wrote is verified here too, against both versions.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from contract_runs import CONTRACT_TESTS, LearnerRun, copy_learner_code, finish, start, target_dir

SEND_PATH = "/api/emails/send"


@pytest.fixture(scope="module")
def contract_runs(tmp_path_factory) -> dict[str, tuple[LearnerRun, Path]]:
    if not (target_dir() / CONTRACT_TESTS).is_file():
        pytest.fail(
            f"There is no {CONTRACT_TESTS} in your exercise folder. Fix: "
            f"`seamlab reset 11` restores it, then write your contract tests in it.",
            pytrace=False,
        )
    started = {}
    for version in (2, 1):  # both at once: they share nothing
        folder = copy_learner_code(tmp_path_factory.mktemp(f"provider-v{version}") / "code")
        pacts = folder.parent / "pacts"
        env = {"SEAMLAB_PACT_DIR": str(pacts), "SEAMLAB_MAIL_PROVIDER_VERSION": str(version)}
        started[version] = (folder, pacts, start(folder, env))
    return {
        version: (finish(f"against provider version {version}", folder, process), pacts)
        for version, (folder, pacts, process) in started.items()
    }


def pact_files(pacts: Path) -> list[dict]:
    return (
        [json.loads(p.read_text()) for p in sorted(pacts.glob("*.json"))] if pacts.is_dir() else []
    )


def send_interactions(pact: dict) -> list[dict]:
    return [
        i
        for i in pact.get("interactions", [])
        if i.get("request", {}).get("method", "").upper() == "POST"
        and i.get("request", {}).get("path") == SEND_PATH
    ]


def learner_pact(contract_runs) -> Path:
    """The folder holding the pact the learner's consumer test wrote (asserts there is one)."""
    run, pacts = contract_runs[2]
    found = [p for p in pact_files(pacts) if send_interactions(p)]
    assert found, (
        f"After your contract tests ran ({run.describe()}), `pact_dir` held no pact with an "
        f"interaction for POST {SEND_PATH}. Expected your consumer test to describe that "
        f"request with pact.Pact(...).upon_receiving(...), run MailClient against "
        f"pact.serve(), and call pact.write_file(pact_dir)."
    )
    return pacts


def verify(pacts: Path, version: int) -> tuple[bool, str]:
    from mailprovider.server import MailProviderServer
    from pact import Verifier

    provider_names = {p.get("provider", {}).get("name") for p in pact_files(pacts)}
    with MailProviderServer(port=0, version=version) as server:
        problems = []
        for name in sorted(n for n in provider_names if n):
            verifier = Verifier(name, host="127.0.0.1").add_transport(url=server.url)
            try:
                verifier.add_source(pacts).verify()
            except Exception:  # noqa: BLE001 - pact raises RuntimeError; details in its output
                problems.append(_failures(verifier))
        return not problems, " ".join(problems)


def _failures(verifier) -> str:
    try:
        text = verifier.output(strip_ansi=True)
    except Exception:  # noqa: BLE001 - best effort: the output is only for the message
        return "the verifier reported failures"
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    start_at = next((i for i, line in enumerate(lines) if line.startswith("Failures")), 0)
    return " | ".join(lines[start_at : start_at + 6])[:600]


def test_your_contract_tests_pass_against_the_provider_production_uses(contract_runs):
    run, _ = contract_runs[2]

    assert run.returncode == 0, (
        f"{run.describe()} Expected every test in {CONTRACT_TESTS} to pass against the "
        f"provider production uses (version 2)."
    )


def test_your_pact_describes_the_request_to_send_an_email(contract_runs):
    pacts = learner_pact(contract_runs)

    interaction = next(i for p in pact_files(pacts) for i in send_interactions(p))

    status = interaction.get("response", {}).get("status")
    assert status is not None, (
        f"Your pact's interaction for POST {SEND_PATH} says nothing about the response. "
        f"Expected .will_respond_with(<status>) and the body your client reads."
    )


def test_your_pact_is_honoured_by_the_real_provider(contract_runs):
    pacts = learner_pact(contract_runs)

    ok, problems = verify(pacts, version=2)

    assert ok, (
        f"The pact your consumer test wrote was replayed against the real provider (version "
        f"2), and the provider did not answer as the pact says: {problems}. Expected: the "
        f"contract describes what the provider really accepts and answers."
    )


@pytest.mark.seam
def test_your_pact_fails_against_the_old_incompatible_provider(contract_runs):
    pacts = learner_pact(contract_runs)

    ok, _ = verify(pacts, version=1)

    assert not ok, (
        "The pact your consumer test wrote was replayed against an old provider (version 1, "
        'which calls the recipient `to` and answers 202 {"messageId"}), and it passed. '
        "So the contract does not pin what changed between the versions: the field names in "
        "the request, and the status and body your client reads from the response."
    )


@pytest.mark.seam
def test_your_provider_verification_fails_against_the_old_incompatible_provider(contract_runs):
    run, _ = contract_runs[1]

    assert run.returncode == 1, (
        f"Your {CONTRACT_TESTS} was run with `provider_url` pointing at an old, incompatible "
        f"provider (version 1): {run.describe()} Expected the provider verification to fail "
        f"there: replay the pact with pact.Verifier against `provider_url`, and let its "
        f"failure fail the test."
    )
