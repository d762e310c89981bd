@EP-0004
Feature: Transactions
  A customer finds her transactions by date and direction, page by page, newest first.

  Background:
    Given the demo data is seeded

  @US-0007
  Scenario: The customer lists the transactions booked in a date range
    Given the customer "anna" with a token for scopes "transactions:read"
    When she GETs "/accounts/{anna-current}/transactions?booked_from=2026-11-02T00:00:00Z&booked_to=2026-11-06T00:00:00Z"
    Then the response status is 200
    And the response lists 3 transactions
    And the listed transactions have "transaction_id" values "{tx-anna-taxi}, {tx-anna-cafe}, {tx-anna-dinner}"
    And every listed transaction has "credit_debit_indicator" equal to "DBIT"

  @US-0007
  Scenario: The customer pages through transactions with a cursor
    Given the customer "anna" with a token for scopes "transactions:read"
    When she GETs "/accounts/{anna-current}/transactions?booked_from=2026-11-02T00:00:00Z&booked_to=2026-11-06T00:00:00Z&limit=2"
    Then the response status is 200
    And the response lists 2 transactions
    And the listed transactions have "transaction_id" values "{tx-anna-taxi}, {tx-anna-cafe}"
    When she follows the link "links.next"
    Then the response status is 200
    And the response lists 1 transaction
    And the listed transactions have "transaction_id" values "{tx-anna-dinner}"
    And the response has no field "links.next"

  @US-0007
  Scenario: The customer lists only incoming money
    Given the customer "anna" with a token for scopes "transactions:read"
    When she GETs "/accounts/{anna-current}/transactions?credit_debit_indicator=CRDT"
    Then the response status is 200
    And the response lists 1 transaction
    And the listed transactions have "transaction_id" values "{tx-anna-salary}"

  @US-0007 @failure
  Scenario: A cursor the server did not issue is refused
    Given the customer "anna" with a token for scopes "transactions:read"
    When she GETs "/accounts/{anna-current}/transactions?cursor=not-a-cursor"
    Then the response status is 400
    And the problem code is "INVALID_CURSOR"

  @US-0007 @failure
  Scenario: A date filter that is not an RFC 3339 date-time is refused
    Given the customer "anna" with a token for scopes "transactions:read"
    When she GETs "/accounts/{anna-current}/transactions?booked_from=yesterday"
    Then the response status is 400
    And the problem code is "VALIDATION_FAILED"

  @US-0007 @failure
  Scenario: A page size of zero is refused
    Given the customer "anna" with a token for scopes "transactions:read"
    When she GETs "/accounts/{anna-current}/transactions?limit=0"
    Then the response status is 400
    And the problem code is "VALIDATION_FAILED"

  @US-0007 @failure
  Scenario: A client app whose consent lacks the transactions permission cannot list transactions
    Given the client app "budget-app" with a token for the customer "anna" and scopes "transactions:read"
    When it GETs "/accounts/{anna-current}/transactions"
    Then the response status is 403
    And the problem code is "CONSENT_REQUIRED"

  @US-0007 @failure
  Scenario: Transactions of another customer's account are not found
    Given the customer "anna" with a token for scopes "transactions:read"
    When she GETs "/accounts/{boris-current}/transactions"
    Then the response status is 404
    And the problem code is "RESOURCE_NOT_FOUND"

  @US-0008
  Scenario: The customer opens one card purchase and sees the merchant and its category code
    Given the customer "anna" with a token for scopes "transactions:read"
    When she GETs "/accounts/{anna-current}/transactions/{tx-anna-cafe}"
    Then the response status is 200
    And the response field "amount.amount" is "1200.00"
    And the response field "amount.currency" is "RUB"
    And the response field "credit_debit_indicator" is "DBIT"
    And the response field "status" is "BOOK"
    And the response field "merchant.name" is "Stolovaya No. 1"
    And the response field "merchant.mcc" is "5812"

  @US-0008 @failure
  Scenario: A transaction asked for under the wrong account is not found
    Given the customer "anna" with a token for scopes "transactions:read"
    When she GETs "/accounts/{anna-savings}/transactions/{tx-anna-cafe}"
    Then the response status is 404
    And the problem code is "RESOURCE_NOT_FOUND"
