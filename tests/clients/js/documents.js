// GraphQL documents of the integration guide, copied unchanged, and the setup
// documents the suite needs to create purposes and subjects.

export const DATA_CONTROLLERS = '{ dataControllers { id title } }';

export const GET_DATA_CONTROLLER_DETAILS = `
  query GetDataControllerDetails($id: uuid!) {
    dataController(id: $id) {
      id
      title
      did
      description
      industry
      createdAt
      updatedAt
      users {
        userId
        role
      }
    }
  }
`;

export const GET_DATA_SUBJECTS = `
  query GetDataSubjects($controllerId: uuid!, $limit: Int = 50) {
    dataSubjects(
      where: { dataControllerId: { _eq: $controllerId } }
      limit: $limit
      orderBy: { createdAt: desc }
    ) {
      id
      did
      createdAt
      updatedAt
      doNotTrack
      globalPrivacyControl
    }
  }
`;

export const GET_DATA_SUBJECT_WITH_CONSENTS = `
  query GetDataSubjectWithConsents($dataSubjectId: uuid!) {
    dataSubject(id: $dataSubjectId) {
      id
      did
      createdAt
      doNotTrack
      globalPrivacyControl
    }
    dataSubjectConsentFormValues(
      where: { dataSubjectId: { _eq: $dataSubjectId } }
    ) {
      id
      value
      createdAt
      updatedAt
      dataControllerProcessingPurposeId
    }
  }
`;

export const SUBMIT_RIGHTS_REQUEST = `
  mutation SubmitRightsRequest($input: data_subject_rights_requests_insert_input!) {
    insertDataSubjectRightsRequest(object: $input) {
      id
      requestType
      status
      createdAt
    }
  }
`;

export const GET_RIGHTS_REQUESTS = `
  query GetRightsRequests($dataSubjectId: uuid!) {
    dataSubjectRightsRequests(
      where: { dataSubjectId: { _eq: $dataSubjectId } }
      orderBy: { createdAt: desc }
    ) {
      id
      requestType
      status
      verified
      createdAt
      updatedAt
    }
  }
`;

// The guide's consent document as published. `$input.dataControllerId` is not
// GraphQL syntax, so ombud must reject it with an error showing the valid forms.
export const UPSERT_CONSENTS_AS_PUBLISHED = `
  mutation UpsertConsents($input: UpsertDataSubjectConsentsInput!) {
    upsertDataSubjectConsents(
      dataControllerId: $input.dataControllerId
      purposes: $input.purposes
      dataSubjectId: $input.dataSubjectId
    ) {
      status
      message
      data {
        dataSubjectId
        upsertedCount
        consentCookie
      }
    }
  }
`;

// The guide's consent document with its arguments replaced by the input object.
export const UPSERT_CONSENTS_INPUT_OBJECT = `
  mutation UpsertConsents($input: UpsertDataSubjectConsentsInput!) {
    upsertDataSubjectConsents(input: $input) {
      status
      message
      data {
        dataSubjectId
        upsertedCount
        consentCookie
      }
    }
  }
`;

export const UPSERT_CONSENTS_THREE_ARGUMENTS = `
  mutation UpsertConsentsByArguments($dataControllerId: uuid!, $dataSubjectId: uuid, $purposes: jsonb!) {
    upsertDataSubjectConsents(
      dataControllerId: $dataControllerId
      purposes: $purposes
      dataSubjectId: $dataSubjectId
    ) {
      status
      message
      data {
        dataSubjectId
        upsertedCount
        consentCookie
      }
    }
  }
`;

// Substrings of the two accepted forms that the parse error must show.
export const THREE_ARGUMENT_FORM = 'dataControllerId: $';
export const INPUT_OBJECT_FORM = 'input: $';

export const CREATE_PURPOSE = `
  mutation CreatePurpose($controllerId: uuid!, $title: String!) {
    insertDataControllerProcessingPurpose(object: {
      dataControllerId: $controllerId
      title: $title
      legalBasis: "consent"
      category: "marketing"
      consentMode: "opt_in"
    }) {
      id
    }
  }
`;

export const INSERT_SUBJECT = `
  mutation InsertSubject($controllerId: uuid!) {
    insertDataSubject(object: { dataControllerId: $controllerId }) {
      id
      did
    }
  }
`;
