@EP-0010
Feature: Sign-in and step-up
  How a customer signs in to the app and the assistant, and when the bank asks again before an action
  (NFR-0031 to NFR-0033). The sandbox issues demo tokens without sign-in factors and has no step-up
  challenge: scenarios that need the challenge are tagged @not-in-sandbox and are acceptance criteria
  for the bank's authorisation server and gateway. The scenarios that need no challenge run here.

  Background:
    Given the demo data is seeded

  @US-0027
  Scenario: A signed-in customer moves money between her own accounts without being asked again
    Given the customer "anna" with a token for scopes "payments:write"
    When she POSTs to "/payments" with Idempotency-Key "anna-signin-0001" and body:
      """json
      {
        "debtor_account_id": "{anna-current}",
        "creditor_account_id": "{anna-savings}",
        "amount": {"amount": "100.00", "currency": "RUB"}
      }
      """
    Then the response status is 201
    And the response field "status" is "ACSC"

  @US-0027 @failure
  Scenario: A token without the payments scope cannot move money, whatever the session
    Given the customer "anna" with a token for scopes "accounts:read"
    When she POSTs to "/payments" with Idempotency-Key "anna-signin-0002" and body:
      """json
      {
        "debtor_account_id": "{anna-current}",
        "creditor_account_id": "{anna-savings}",
        "amount": {"amount": "100.00", "currency": "RUB"}
      }
      """
    Then the response status is 403
    And the problem code is "INSUFFICIENT_SCOPE"

  @US-0029
  Scenario: Locking a card never asks for a second factor
    Given the customer "anna" with a token for scopes "cards:write"
    When she PATCHes "/cards/{card-anna-debit}/controls" with body:
      """json
      {"locked": true}
      """
    Then the response status is 200
    And the response field "controls.locked" is true

  @US-0029 @failure @not-in-sandbox
  Scenario: A first payment to a new payee with a sign-in token is challenged for step-up
    Given the customer "anna" with a token for scopes "payments:write"
    When she POSTs to "/payments" with Idempotency-Key "anna-stepup-0001" and body:
      """json
      {
        "debtor_account_id": "{anna-current}",
        "creditor_account_number": "40817810000000000003",
        "amount": {"amount": "1500.00", "currency": "RUB"}
      }
      """
    Then the response status is 401
    And the problem code is "UNAUTHENTICATED"

  @US-0029 @failure @not-in-sandbox
  Scenario: Unlocking a card with a sign-in token is challenged for step-up
    Given the customer "anna" with a token for scopes "cards:write"
    When she PATCHes "/cards/{card-anna-debit}/controls" with body:
      """json
      {"locked": false}
      """
    Then the response status is 401
    And the problem code is "UNAUTHENTICATED"

  @US-0028
  Scenario: The assistant works inside the app session and says it is an AI
    Given the customer "anna" with a token for scopes "assistant"
    When she starts a conversation with the assistant
    Then the response status is 201
    And the assistant's disclosure says it is an AI

  @US-0028 @failure @not-in-sandbox
  Scenario: The assistant cannot unlock a card on a sign-in token alone
    Given the customer "anna" with a token for scopes "assistant cards:write"
    When she starts a conversation with the assistant
    And she tells the assistant "Разблокируй мою карту"
    Then the assistant asks for confirmation
    When she confirms the assistant's proposed action
    Then the response status is 401
    And the problem code is "UNAUTHENTICATED"
