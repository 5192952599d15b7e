"""A user's token reaches only the data controllers that user belongs to.

Alice and Bob each own one controller (Alice a second one too). Every test
sends Alice's guide-built client at Bob's rows and expects nothing back.
"""

import pytest
from gql.transport.exceptions import TransportQueryError

from helpers import execute
from documents import (
    DATA_CONTROLLERS,
    GET_DATA_CONTROLLER_DETAILS,
    GET_DATA_SUBJECT_WITH_CONSENTS,
    GET_DATA_SUBJECTS,
    GET_RIGHTS_REQUESTS,
    SUBMIT_RIGHTS_REQUEST,
)


def test_controllers_of_other_user_hidden(client_a, client_b, alice, bob):
    seen_by_alice = {row["id"] for row in execute(client_a, DATA_CONTROLLERS)["dataControllers"]}
    seen_by_bob = {row["id"] for row in execute(client_b, DATA_CONTROLLERS)["dataControllers"]}

    assert bob["controller_id"] not in seen_by_alice
    assert seen_by_bob == {bob["controller_id"]}
    assert alice["controller_id"] not in seen_by_bob


def test_controller_by_id_of_other_user_null(client_a, bob):
    data = execute(client_a, GET_DATA_CONTROLLER_DETAILS, {"id": bob["controller_id"]})
    assert data["dataController"] is None


def test_subjects_of_other_controller_empty(client_a, bob, subject_b):
    data = execute(client_a, GET_DATA_SUBJECTS, {"controllerId": bob["controller_id"], "limit": 100})
    assert data["dataSubjects"] == []


def test_subjects_visible_to_their_owner(client_b, bob, subject_b):
    data = execute(client_b, GET_DATA_SUBJECTS, {"controllerId": bob["controller_id"], "limit": 100})
    assert [row["id"] for row in data["dataSubjects"]] == [subject_b]


def test_subject_by_id_of_other_controller_null(client_a, subject_b):
    data = execute(client_a, GET_DATA_SUBJECT_WITH_CONSENTS, {"dataSubjectId": subject_b})

    assert data["dataSubject"] is None
    assert data["dataSubjectConsentFormValues"] == []


def test_rights_request_for_other_subject_rejected(client_a, client_b, subject_b):
    with pytest.raises(TransportQueryError) as raised:
        execute(
            client_a,
            SUBMIT_RIGHTS_REQUEST,
            {"input": {"dataSubjectId": subject_b, "requestType": "access", "status": "submitted"}},
        )

    assert raised.value.errors[0]["extensions"]["code"] == "permission-error"
    listed = execute(client_b, GET_RIGHTS_REQUESTS, {"dataSubjectId": subject_b})
    assert listed["dataSubjectRightsRequests"] == []
