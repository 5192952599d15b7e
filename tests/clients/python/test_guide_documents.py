"""Every GraphQL document of the integration guide, run through gql.

The client comes from the guide's get_authenticated_client, which sets
fetch_schema_from_transport=True: gql fetches the schema by introspection and
validates each document against it before sending, so a passing test also
proves that ombud's introspection describes these fields and types.
"""

from datetime import datetime

import pytest
import requests
from gql import gql
from gql.transport.exceptions import TransportQueryError
from graphql import GraphQLSyntaxError

from documents import (
    DATA_CONTROLLERS,
    GET_DATA_CONTROLLER_DETAILS,
    GET_DATA_SUBJECT_WITH_CONSENTS,
    GET_DATA_SUBJECTS,
    GET_RIGHTS_REQUESTS,
    INPUT_OBJECT_FORM,
    INSERT_SUBJECT,
    SUBMIT_RIGHTS_REQUEST,
    THREE_ARGUMENT_FORM,
    UPSERT_CONSENTS_AS_PUBLISHED,
    UPSERT_CONSENTS_BOTH_FORMS,
    UPSERT_CONSENTS_INPUT_OBJECT,
    UPSERT_CONSENTS_NAMED_INPUT_OBJECT,
    UPSERT_THREE_ARGUMENTS,
)
from helpers import bearer_token, decode_jwt_part, did_for, execute, post_graphql, sign_in


def consent_values(client, subject_id):
    """Return {purpose id: value} of a subject's consent form values."""
    data = execute(client, GET_DATA_SUBJECT_WITH_CONSENTS, {"dataSubjectId": subject_id})
    return {
        row["dataControllerProcessingPurposeId"]: row["value"]
        for row in data["dataSubjectConsentFormValues"]
    }


def test_pat_exchange_returns_session(alice):
    response = sign_in(alice["pat"])
    assert response.status_code == 200

    session = response.json()["session"]
    assert session["accessTokenExpiresIn"] == 3600
    assert isinstance(session["refreshToken"], str) and session["refreshToken"]
    assert session["user"]["id"] == alice["user_id"]
    assert session["user"]["email"] == "alice@example.com"

    claims = decode_jwt_part(session["accessToken"].split(".")[1])
    hasura = claims["https://hasura.io/jwt/claims"]
    assert "user" in hasura["x-hasura-allowed-roles"]
    assert hasura["x-hasura-user-id"] == alice["user_id"]
    assert claims["exp"] - claims["iat"] == 3600


def test_second_bootstrap_pat_same_user(alice):
    response = sign_in(alice["second_pat"])
    assert response.status_code == 200

    session = response.json()["session"]
    assert session["user"]["id"] == alice["user_id"]


def test_pat_exchange_rejects_unknown_pat():
    response = sign_in("not-a-real-personal-access-token")
    assert response.status_code == 401
    assert response.json()["error"] == "invalid-pat"


def test_introspection_describes_guide_fields(client_a):
    execute(client_a, DATA_CONTROLLERS)

    schema = client_a.schema
    assert schema is not None
    query_fields = schema.query_type.fields
    for field in (
        "dataControllers",
        "dataController",
        "dataSubjects",
        "dataSubject",
        "dataSubjectConsentFormValues",
        "dataSubjectRightsRequests",
    ):
        assert field in query_fields, field

    mutation_fields = schema.mutation_type.fields
    for field in (
        "insertDataSubjectRightsRequest",
        "upsertDataSubjectConsents",
        "insertDataSubject",
        "insertDataControllerProcessingPurpose",
    ):
        assert field in mutation_fields, field

    for type_name in (
        "data_subject_rights_requests_insert_input",
        "UpsertDataSubjectConsentsInput",
        "uuid",
        "jsonb",
        "timestamptz",
        "order_by",
    ):
        assert schema.get_type(type_name) is not None, type_name


def test_data_controllers_lists_own(client_a, alice, bob):
    data = execute(client_a, DATA_CONTROLLERS)

    controllers = {row["id"]: row["title"] for row in data["dataControllers"]}
    assert controllers == {
        alice["controller_id"]: "Alice Shop",
        alice["second_controller_id"]: "Alice Outlet",
    }
    assert bob["controller_id"] not in controllers


def test_get_data_controller_details(client_a, alice):
    data = execute(client_a, GET_DATA_CONTROLLER_DETAILS, {"id": alice["controller_id"]})

    controller = data["dataController"]
    assert controller["id"] == alice["controller_id"]
    assert controller["title"] == "Alice Shop"
    assert controller["did"] == alice["controller_did"]
    assert controller["did"] == did_for(alice["controller_id"])
    assert datetime.fromisoformat(controller["createdAt"])
    assert datetime.fromisoformat(controller["updatedAt"])
    # bootstrap creates the controller with its user as the owner.
    assert {"userId": alice["user_id"], "role": "owner"} in controller["users"]


def test_upsert_without_subject_creates_one(created_subject_a):
    assert created_subject_a["status"] == "success"
    assert created_subject_a["message"] == "upsertDataSubjectConsents"

    result = created_subject_a["data"]
    assert result["dataSubjectId"]
    assert result["upsertedCount"] == 2


def test_consent_cookie_is_compact_jws(base_url, created_subject_a, alice):
    parts = created_subject_a["data"]["consentCookie"].split(".")
    assert len(parts) == 3
    assert all(parts)

    header = decode_jwt_part(parts[0])
    payload = decode_jwt_part(parts[1])
    assert header["alg"] == "EdDSA"
    assert payload["sub"] == created_subject_a["data"]["dataSubjectId"]

    jwks = requests.get(f"{base_url}/v1/.well-known/jwks.json", timeout=10).json()
    assert header["kid"] in [key.get("kid") for key in jwks["keys"]]


def test_upsert_input_object_form(client_a, alice, purposes_a, subject_a):
    data = execute(
        client_a,
        UPSERT_CONSENTS_INPUT_OBJECT,
        {
            "input": {
                "dataControllerId": alice["controller_id"],
                "dataSubjectId": subject_a,
                "purposes": {purposes_a[0]: False, purposes_a[1]: True},
            }
        },
    )

    result = data["upsertDataSubjectConsents"]
    assert result["status"] == "success"
    assert result["data"]["dataSubjectId"] == subject_a
    assert result["data"]["upsertedCount"] == 2
    assert len(result["data"]["consentCookie"].split(".")) == 3
    assert consent_values(client_a, subject_a) == {
        purposes_a[0]: "false",
        purposes_a[1]: "true",
    }


def test_upsert_named_input_object_form(client_a, alice, purposes_a, subject_a):
    data = execute(
        client_a,
        UPSERT_CONSENTS_NAMED_INPUT_OBJECT,
        {
            "input": {
                "dataControllerId": alice["controller_id"],
                "dataSubjectId": subject_a,
                "purposes": {purposes_a[0]: True},
            }
        },
    )

    result = data["upsertDataSubjectConsents"]
    assert result["status"] == "success"
    assert result["data"]["dataSubjectId"] == subject_a
    assert result["data"]["upsertedCount"] == 1
    assert consent_values(client_a, subject_a)[purposes_a[0]] == "true"


def test_upsert_three_argument_form_updates(client_a, alice, purposes_a, subject_a):
    data = execute(
        client_a,
        UPSERT_THREE_ARGUMENTS,
        {
            "dataControllerId": alice["controller_id"],
            "dataSubjectId": subject_a,
            "purposes": {purposes_a[1]: False},
        },
    )

    result = data["upsertDataSubjectConsents"]
    assert result["data"]["dataSubjectId"] == subject_a
    assert result["data"]["upsertedCount"] == 1
    assert consent_values(client_a, subject_a)[purposes_a[1]] == "false"


def test_upsert_as_published_rejected_by_gql():
    with pytest.raises(GraphQLSyntaxError):
        gql(UPSERT_CONSENTS_AS_PUBLISHED)


def test_upsert_as_published_error_shows_forms(client_a, alice, purposes_a, subject_a):
    response = post_graphql(
        bearer_token(client_a),
        UPSERT_CONSENTS_AS_PUBLISHED,
        {
            "input": {
                "dataControllerId": alice["controller_id"],
                "dataSubjectId": subject_a,
                "purposes": {purposes_a[0]: True},
            }
        },
    )

    body = response.json()
    assert body.get("data") is None
    message = body["errors"][0]["message"]
    assert THREE_ARGUMENT_FORM in message, message
    assert INPUT_OBJECT_FORM in message, message


def test_upsert_both_forms_rejected(client_a, alice, purposes_a):
    purposes = {purposes_a[0]: False}
    subjects_before = execute(client_a, GET_DATA_SUBJECTS, {"controllerId": alice["controller_id"], "limit": 1000})

    with pytest.raises(TransportQueryError):
        execute(
            client_a,
            UPSERT_CONSENTS_BOTH_FORMS,
            {
                "input": {"dataControllerId": alice["controller_id"], "purposes": purposes},
                "controllerId": alice["controller_id"],
                "purposes": purposes,
            },
        )

    subjects_after = execute(client_a, GET_DATA_SUBJECTS, {"controllerId": alice["controller_id"], "limit": 1000})
    assert subjects_after == subjects_before


def test_upsert_unknown_purpose_rejected(client_a, alice, purposes_a, subject_a):
    before = consent_values(client_a, subject_a)
    flipped_value = before[purposes_a[0]] != "true"
    unknown_purpose = "00000000-0000-4000-8000-000000000000"

    with pytest.raises(TransportQueryError) as raised:
        execute(
            client_a,
            UPSERT_THREE_ARGUMENTS,
            {
                "dataControllerId": alice["controller_id"],
                "dataSubjectId": subject_a,
                "purposes": {purposes_a[0]: flipped_value, unknown_purpose: True},
            },
        )

    assert raised.value.errors[0]["extensions"]["code"] == "validation-failed"
    assert consent_values(client_a, subject_a) == before


def test_get_data_subjects(client_a, alice, subject_a):
    inserted = execute(client_a, INSERT_SUBJECT, {"controllerId": alice["controller_id"]})
    inserted_id = inserted["insertDataSubject"]["id"]

    data = execute(
        client_a,
        GET_DATA_SUBJECTS,
        {"controllerId": alice["controller_id"], "limit": 100},
    )

    subjects = data["dataSubjects"]
    ids = [row["id"] for row in subjects]
    assert subject_a in ids
    assert inserted_id in ids
    for row in subjects:
        assert row["did"] == did_for(row["id"])
        assert isinstance(row["doNotTrack"], bool)
        assert isinstance(row["globalPrivacyControl"], bool)

    created = [datetime.fromisoformat(row["createdAt"]) for row in subjects]
    assert created == sorted(created, reverse=True)


def test_get_data_subjects_limit(client_a, alice):
    data = execute(client_a, GET_DATA_SUBJECTS, {"controllerId": alice["controller_id"], "limit": 1})
    assert len(data["dataSubjects"]) == 1


def test_insert_data_subject_returns_did(client_a, alice):
    data = execute(client_a, INSERT_SUBJECT, {"controllerId": alice["controller_id"]})

    subject = data["insertDataSubject"]
    assert subject["did"] == did_for(subject["id"])


def test_get_data_subject_with_consents(client_a, alice, purposes_a, subject_a):
    execute(
        client_a,
        UPSERT_THREE_ARGUMENTS,
        {
            "dataControllerId": alice["controller_id"],
            "dataSubjectId": subject_a,
            "purposes": {purposes_a[0]: True, purposes_a[1]: False},
        },
    )

    data = execute(client_a, GET_DATA_SUBJECT_WITH_CONSENTS, {"dataSubjectId": subject_a})

    subject = data["dataSubject"]
    assert subject["id"] == subject_a
    assert subject["did"] == did_for(subject_a)
    assert subject["doNotTrack"] is False
    assert subject["globalPrivacyControl"] is False

    values = data["dataSubjectConsentFormValues"]
    assert len(values) == 2
    by_purpose = {row["dataControllerProcessingPurposeId"]: row for row in values}
    assert by_purpose[purposes_a[0]]["value"] == "true"
    assert by_purpose[purposes_a[1]]["value"] == "false"
    for row in values:
        assert row["id"]
        assert datetime.fromisoformat(row["createdAt"])
        assert datetime.fromisoformat(row["updatedAt"])


def test_submit_and_list_rights_requests(client_a, subject_a):
    submitted = execute(
        client_a,
        SUBMIT_RIGHTS_REQUEST,
        {
            "input": {
                "dataSubjectId": subject_a,
                "requestType": "access",
                "status": "submitted",
            }
        },
    )

    request = submitted["insertDataSubjectRightsRequest"]
    assert request["requestType"] == "access"
    assert request["status"] == "submitted"
    assert datetime.fromisoformat(request["createdAt"])

    listed = execute(client_a, GET_RIGHTS_REQUESTS, {"dataSubjectId": subject_a})

    rows = {row["id"]: row for row in listed["dataSubjectRightsRequests"]}
    assert request["id"] in rows
    row = rows[request["id"]]
    assert row["requestType"] == "access"
    assert row["status"] == "submitted"
    assert row["verified"] is False


def test_rights_request_short_code_stored_canonical(client_a, subject_a):
    submitted = execute(
        client_a,
        SUBMIT_RIGHTS_REQUEST,
        {"input": {"dataSubjectId": subject_a, "requestType": "rectify", "status": "submitted"}},
    )

    assert submitted["insertDataSubjectRightsRequest"]["requestType"] == "rectification"
