@EP-0001
Feature: Consents
  A customer decides which client app may read which of her data, for how long, and can take it back.
  Account, balance and transaction reads need an authorised consent for that client and customer.

  Background:
    Given the demo data is seeded

  @US-0001
  Scenario: A client app requests a consent and the customer authorises it
    Given the client app "budget-app" with a client-credentials token for scopes "consents"
    When it POSTs to "/consents" with body:
      """json
      {"permissions": ["accounts", "balances", "transactions"]}
      """
    Then the response status is 201
    And the response field "status" is "awaiting_authorisation"
    And the response field "consent_id" is saved as "new-consent"
    When the customer "anna" authorises the consent "new-consent"
    And it GETs "/consents/{new-consent}"
    Then the response status is 200
    And the response field "status" is "authorised"

  @US-0001 @failure
  Scenario: A consent request with an unknown permission is refused
    Given the client app "budget-app" with a client-credentials token for scopes "consents"
    When it POSTs to "/consents" with body:
      """json
      {"permissions": ["accounts", "loans"]}
      """
    Then the response status is 400
    And the problem code is "VALIDATION_FAILED"
    And the problem has an error at pointer "/permissions/1"

  @US-0001 @failure
  Scenario: A consent that would last more than 180 days is refused
    Given the client app "budget-app" with a client-credentials token for scopes "consents"
    When it POSTs to "/consents" with body:
      """json
      {"permissions": ["accounts"], "expires_at": "2099-12-31T23:59:59+03:00"}
      """
    Then the response status is 400
    And the problem code is "VALIDATION_FAILED"
    And the problem has an error at pointer "/expires_at"

  @US-0001 @failure
  Scenario: A consent request without the consents scope is refused
    Given the client app "budget-app" with a client-credentials token for scopes "accounts:read"
    When it POSTs to "/consents" with body:
      """json
      {"permissions": ["accounts"]}
      """
    Then the response status is 403
    And the problem code is "INSUFFICIENT_SCOPE"

  @US-0001 @failure
  Scenario: A consent that is still awaiting authorisation cannot be used to read accounts
    Given the client app "budget-app" with a client-credentials token for scopes "consents"
    When it POSTs to "/consents" with body:
      """json
      {"permissions": ["accounts", "balances", "transactions"]}
      """
    Then the response status is 201
    Given the client app "budget-app" with a token for the customer "anna" and scopes "transactions:read"
    When it GETs "/accounts/{anna-current}/transactions"
    Then the response status is 403
    And the problem code is "CONSENT_REQUIRED"

  @US-0002
  Scenario: The customer revokes a client app's consent and the app loses access at once
    Given the customer "anna" with a token for scopes "consents"
    When she DELETEs "/consents/{cns-anna-budget}"
    Then the response status is 204
    When she GETs "/consents/{cns-anna-budget}"
    Then the response status is 200
    And the response field "status" is "revoked"
    Given the client app "budget-app" with a token for the customer "anna" and scopes "accounts:read"
    When it GETs "/accounts"
    Then the response status is 403
    And the problem code is "CONSENT_REQUIRED"

  @US-0002 @failure
  Scenario: Revoking a consent that is already revoked is refused
    Given the customer "anna" with a token for scopes "consents"
    When she DELETEs "/consents/{cns-anna-old}"
    Then the response status is 409
    And the problem code is "CONSENT_NOT_ACTIVE"

  @US-0002 @failure
  Scenario: A customer cannot revoke another customer's consent
    Given the customer "boris" with a token for scopes "consents"
    When he DELETEs "/consents/{cns-anna-budget}"
    Then the response status is 404
    And the problem code is "RESOURCE_NOT_FOUND"
    Given the customer "anna" with a token for scopes "consents"
    When she GETs "/consents/{cns-anna-budget}"
    Then the response field "status" is "authorised"

  @US-0003
  Scenario: The customer lists her consents, newest first, with their status
    Given the customer "anna" with a token for scopes "consents"
    When she GETs "/consents"
    Then the response status is 200
    And the response lists 3 consents
    And the listed consents have "consent_id" values "{cns-anna-budget}, {cns-anna-demo}, {cns-anna-old}"
    And the listed consents have "status" values "authorised, authorised, revoked"

  @US-0003 @failure
  Scenario: Listing consents without the consents scope is refused
    Given the customer "anna" with a token for scopes "accounts:read"
    When she GETs "/consents"
    Then the response status is 403
    And the problem code is "INSUFFICIENT_SCOPE"
