@EP-0003
Feature: Accounts
  A customer sees her accounts and what she can spend on each.

  Background:
    Given the demo data is seeded

  @US-0005
  Scenario: The customer lists her accounts in the order they were opened
    Given the customer "anna" with a token for scopes "accounts:read"
    When she GETs "/accounts"
    Then the response status is 200
    And the response lists 2 accounts
    And the listed accounts have "account_id" values "{anna-current}, {anna-savings}"
    And every listed account has "currency" equal to "RUB"

  @US-0005
  Scenario: Another customer lists only his own accounts
    Given the customer "boris" with a token for scopes "accounts:read"
    When he GETs "/accounts"
    Then the response status is 200
    And the response lists 2 accounts
    And the listed accounts have "account_id" values "{boris-current}, {boris-usd}"

  @US-0005 @failure
  Scenario: Another customer's account is not found
    Given the customer "boris" with a token for scopes "accounts:read"
    When he GETs "/accounts/{anna-current}"
    Then the response status is 404
    And the problem code is "RESOURCE_NOT_FOUND"

  @US-0005 @failure
  Scenario: Listing accounts without the accounts:read scope is refused
    Given the customer "anna" with a token for scopes "profile:read"
    When she GETs "/accounts"
    Then the response status is 403
    And the problem code is "INSUFFICIENT_SCOPE"

  @US-0006
  Scenario: The customer sees booked and available balances, with the pending card hold deducted
    Given the customer "anna" with a token for scopes "accounts:read"
    When she GETs "/accounts/{anna-current}/balances"
    Then the response status is 200
    And the balance "ITBD" is "25000.00" in "RUB"
    And the balance "ITAV" is "24650.00" in "RUB"

  @US-0006
  Scenario: Balances of a foreign-currency account are in that currency
    Given the customer "boris" with a token for scopes "accounts:read"
    When he GETs "/accounts/{boris-usd}/balances"
    Then the response status is 200
    And the balance "ITBD" is "300.00" in "USD"

  @US-0006 @failure
  Scenario: Balances of another customer's account are not found
    Given the customer "anna" with a token for scopes "accounts:read"
    When she GETs "/accounts/{boris-current}/balances"
    Then the response status is 404
    And the problem code is "RESOURCE_NOT_FOUND"

  @US-0006 @failure
  Scenario: A client app whose consent lacks the balances permission cannot read balances
    Given the client app "budget-app" with a token for the customer "boris" and scopes "accounts:read"
    When it GETs "/accounts/{boris-current}/balances"
    Then the response status is 403
    And the problem code is "CONSENT_REQUIRED"

  @US-0006 @failure
  Scenario: Balances of an account id that does not exist are not found
    Given the customer "anna" with a token for scopes "accounts:read"
    When she GETs "/accounts/20000000-0000-4000-8000-000000000099/balances"
    Then the response status is 404
    And the problem code is "RESOURCE_NOT_FOUND"
