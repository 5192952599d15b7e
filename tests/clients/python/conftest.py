"""Shared fixtures for the Python client suite.

tests/clients/run.sh starts ombud, bootstraps two users and exports their
credentials. Every fixture here talks only to the server named by OMBUD_URL.
"""

import pytest

from guide_client import get_authenticated_client
from documents import CREATE_PURPOSE, INSERT_SUBJECT, UPSERT_THREE_ARGUMENTS
from helpers import execute, require_env


@pytest.fixture(scope="session")
def base_url():
    return require_env("OMBUD_URL")


@pytest.fixture(scope="session")
def alice():
    """Alice's bootstrap output: two controllers, each bootstrap with its own PAT."""
    return {
        "user_id": require_env("USER_A"),
        "pat": require_env("PAT_A"),
        "controller_id": require_env("CONTROLLER_A"),
        "controller_did": require_env("CONTROLLER_DID_A"),
        "second_controller_id": require_env("CONTROLLER_A2"),
        "second_pat": require_env("PAT_A2"),
    }


@pytest.fixture(scope="session")
def bob():
    return {
        "user_id": require_env("USER_B"),
        "pat": require_env("PAT_B"),
        "controller_id": require_env("CONTROLLER_B"),
        "controller_did": require_env("CONTROLLER_DID_B"),
    }


@pytest.fixture(scope="session")
def client_a(alice):
    return get_authenticated_client(alice["pat"])


@pytest.fixture(scope="session")
def client_b(bob):
    return get_authenticated_client(bob["pat"])


@pytest.fixture(scope="session")
def purposes_a(client_a, alice):
    """Two processing purposes of Alice's first controller, as a list of ids."""
    purpose_ids = []
    for title in ("Newsletter", "Product recommendations"):
        data = execute(
            client_a,
            CREATE_PURPOSE,
            {"controllerId": alice["controller_id"], "title": title},
        )
        purpose_ids.append(data["insertDataControllerProcessingPurpose"]["id"])
    return purpose_ids


@pytest.fixture(scope="session")
def created_subject_a(client_a, alice, purposes_a):
    """The upsert result that created a new data subject of Alice's controller.

    Calling upsertDataSubjectConsents without dataSubjectId makes ombud create
    a pseudonymous subject, so this also tests that path.
    """
    data = execute(
        client_a,
        UPSERT_THREE_ARGUMENTS,
        {
            "dataControllerId": alice["controller_id"],
            "dataSubjectId": None,
            "purposes": {purposes_a[0]: True, purposes_a[1]: False},
        },
    )
    return data["upsertDataSubjectConsents"]


@pytest.fixture(scope="session")
def subject_a(created_subject_a):
    return created_subject_a["data"]["dataSubjectId"]


@pytest.fixture(scope="session")
def subject_b(client_b, bob):
    """A data subject of Bob's controller, inserted by Bob."""
    data = execute(client_b, INSERT_SUBJECT, {"controllerId": bob["controller_id"]})
    return data["insertDataSubject"]["id"]
