"""Exercise 02: your bottom-up layer tests pass on the correct layers and catch planted faults.

Your tests/test_repository_layer.py, test_service_layer.py and test_api_layer.py are copied next
to the correct layers and run: they must pass. Then each planted fault (one layer with one
realistic mistake) is laid over its layer, and that layer's test file is run: it must fail.
The runs go in parallel, each on its own Postgres schema and mail provider.
"""

from __future__ import annotations

import pytest
from layer_runs import (
    LAYER_TESTS,
    LayerRun,
    build,
    faults,
    finish_all,
    missing_layer_tests,
    start,
)

FAULTS = faults()


@pytest.fixture(scope="module")
def layer_runs(tmp_path_factory, private_services, zygote) -> dict[str, LayerRun]:
    """Every run at once: "correct" (all three files), and one per fault (its layer's file)."""
    missing = missing_layer_tests()
    if missing:
        pytest.fail(
            f"Your exercise folder has no {', '.join(missing)}. Fix: `seamlab reset 02` "
            f"restores the files, then write your layer tests in them.",
            pytrace=False,
        )
    started = {
        "correct": start(
            "on the correct layers", build(tmp_path_factory.mktemp("correct") / "code"),
            list(LAYER_TESTS.values()), private_services("correct"), zygote=zygote,
        )
    }  # fmt: skip
    for fault in FAULTS:
        started[fault.name] = start(
            f"with the fault in {fault.mutates}",
            build(tmp_path_factory.mktemp(fault.name) / "code", fault),
            [LAYER_TESTS[fault.layer]], private_services(fault.layer), zygote=zygote,
        )  # fmt: skip
    results = finish_all(list(started.values()), zygote)
    return dict(zip(started, results, strict=True))


def test_your_layer_tests_pass_on_the_correct_layers(layer_runs):
    correct = layer_runs["correct"]

    assert correct.returncode == 0, (
        f"Your layer tests were run next to the correct repository, service and API, "
        f"{correct.describe()}. Expected every test to pass there: a test that fails on "
        f"correct code cannot tell a fault from a fix."
    )


@pytest.mark.parametrize("fault", FAULTS, ids=lambda fault: fault.name)
def test_your_layer_test_catches_the_planted_fault(fault, layer_runs):
    correct, result = layer_runs["correct"], layer_runs[fault.name]
    layer_tests = LAYER_TESTS[fault.layer]
    assert correct.returncode == 0, (
        f"Not judged yet ({fault.name}): first make your layer tests pass on the correct "
        f"layers ({correct.describe()})."
    )

    below = "Postgres" if fault.layer == "repository" else "services below it"
    assert result.caught, (
        f"Planted fault in {fault.mutates}: {fault.mistake} Your {layer_tests} ran against it "
        f"and did not fail ({result.describe()}), so none of its tests looks at what this "
        f"mistake changes. Expected the {fault.layer} layer's test, run on the real {below}, to "
        f"catch it: check the outcome the mistake would spoil (the stored rows, the emails the "
        f"provider accepted, the response body), not only that no exception was raised."
    )
