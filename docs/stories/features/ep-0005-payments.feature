@EP-0005
Feature: Payments
  A customer moves money between her own accounts and to other customers of the bank.
  Every money-moving POST carries an Idempotency-Key; a payment inside the bank settles at once (ACSC).

  Background:
    Given the demo data is seeded

  @US-0009
  Scenario: The customer moves money from her current account to her savings account
    Given the customer "anna" with a token for scopes "payments:write accounts:read"
    When she POSTs to "/payments" with Idempotency-Key "anna-own-0001" and body:
      """json
      {
        "debtor_account_id": "{anna-current}",
        "creditor_account_id": "{anna-savings}",
        "amount": {"amount": "5000.00", "currency": "RUB"},
        "remittance_information": "To savings"
      }
      """
    Then the response status is 201
    And the response field "status" is "ACSC"
    And the response field "amount.amount" is "5000.00"
    And the response field "amount.currency" is "RUB"
    When she GETs "/accounts/{anna-current}/balances"
    Then the balance "ITBD" is "20000.00" in "RUB"
    And the balance "ITAV" is "19650.00" in "RUB"
    When she GETs "/accounts/{anna-savings}/balances"
    Then the balance "ITBD" is "15000.00" in "RUB"

  @US-0009
  Scenario: Repeating a transfer with the same Idempotency-Key returns the first result and moves money once
    Given the customer "anna" with a token for scopes "payments:write accounts:read"
    When she POSTs to "/payments" with Idempotency-Key "anna-own-0002" and body:
      """json
      {
        "debtor_account_id": "{anna-current}",
        "creditor_account_id": "{anna-savings}",
        "amount": {"amount": "1000.00", "currency": "RUB"}
      }
      """
    Then the response status is 201
    And the response field "payment_id" is saved as "first-payment"
    When she sends the same request again
    Then the response status is 201
    And the response field "payment_id" is "{first-payment}"
    When she GETs "/accounts/{anna-current}/balances"
    Then the balance "ITBD" is "24000.00" in "RUB"

  @US-0009 @failure
  Scenario: A transfer larger than the available balance is refused even though the booked balance covers it
    Given the customer "anna" with a token for scopes "payments:write accounts:read"
    When she POSTs to "/payments" with Idempotency-Key "anna-own-0003" and body:
      """json
      {
        "debtor_account_id": "{anna-current}",
        "creditor_account_id": "{anna-savings}",
        "amount": {"amount": "24700.00", "currency": "RUB"}
      }
      """
    Then the response status is 422
    And the problem code is "INSUFFICIENT_FUNDS"
    When she GETs "/accounts/{anna-current}/balances"
    Then the balance "ITBD" is "25000.00" in "RUB"
    And the balance "ITAV" is "24650.00" in "RUB"

  @US-0009 @failure
  Scenario: A transfer to the same account is refused
    Given the customer "anna" with a token for scopes "payments:write"
    When she POSTs to "/payments" with Idempotency-Key "anna-own-0004" and body:
      """json
      {
        "debtor_account_id": "{anna-current}",
        "creditor_account_id": "{anna-current}",
        "amount": {"amount": "100.00", "currency": "RUB"}
      }
      """
    Then the response status is 422
    And the problem code is "SAME_ACCOUNT"

  @US-0009 @failure
  Scenario: A transfer without an Idempotency-Key is refused
    Given the customer "anna" with a token for scopes "payments:write"
    When she POSTs to "/payments" with body:
      """json
      {
        "debtor_account_id": "{anna-current}",
        "creditor_account_id": "{anna-savings}",
        "amount": {"amount": "100.00", "currency": "RUB"}
      }
      """
    Then the response status is 400
    And the problem code is "IDEMPOTENCY_KEY_MISSING"

  @US-0009 @failure
  Scenario: Reusing an Idempotency-Key with a different body is refused
    Given the customer "anna" with a token for scopes "payments:write accounts:read"
    When she POSTs to "/payments" with Idempotency-Key "anna-own-0005" and body:
      """json
      {
        "debtor_account_id": "{anna-current}",
        "creditor_account_id": "{anna-savings}",
        "amount": {"amount": "1000.00", "currency": "RUB"}
      }
      """
    Then the response status is 201
    When she POSTs to "/payments" with Idempotency-Key "anna-own-0005" and body:
      """json
      {
        "debtor_account_id": "{anna-current}",
        "creditor_account_id": "{anna-savings}",
        "amount": {"amount": "2000.00", "currency": "RUB"}
      }
      """
    Then the response status is 422
    And the problem code is "IDEMPOTENCY_KEY_REUSED"
    When she GETs "/accounts/{anna-current}/balances"
    Then the balance "ITBD" is "24000.00" in "RUB"

  @US-0009 @failure
  Scenario: An amount with more than two decimal places is refused
    Given the customer "anna" with a token for scopes "payments:write"
    When she POSTs to "/payments" with Idempotency-Key "anna-own-0006" and body:
      """json
      {
        "debtor_account_id": "{anna-current}",
        "creditor_account_id": "{anna-savings}",
        "amount": {"amount": "10.005", "currency": "RUB"}
      }
      """
    Then the response status is 400
    And the problem code is "VALIDATION_FAILED"
    And the problem has an error at pointer "/amount/amount"

  @US-0009 @failure
  Scenario: A transfer with a token that lacks payments:write is refused
    Given the customer "anna" with a token for scopes "accounts:read"
    When she POSTs to "/payments" with Idempotency-Key "anna-own-0007" and body:
      """json
      {
        "debtor_account_id": "{anna-current}",
        "creditor_account_id": "{anna-savings}",
        "amount": {"amount": "100.00", "currency": "RUB"}
      }
      """
    Then the response status is 403
    And the problem code is "INSUFFICIENT_SCOPE"

  @US-0010
  Scenario: The customer pays another customer of the bank by account number
    Given the customer "anna" with a token for scopes "payments:write accounts:read"
    When she POSTs to "/payments" with Idempotency-Key "anna-p2p-0001" and body:
      """json
      {
        "debtor_account_id": "{anna-current}",
        "creditor_account_number": "40817810000000000003",
        "amount": {"amount": "1500.00", "currency": "RUB"},
        "remittance_information": "Concert ticket"
      }
      """
    Then the response status is 201
    And the response field "status" is "ACSC"
    And the response field "creditor_name" is "Boris I."
    When she GETs "/accounts/{anna-current}/balances"
    Then the balance "ITBD" is "23500.00" in "RUB"
    Given the customer "boris" with a token for scopes "accounts:read"
    When he GETs "/accounts/{boris-current}/balances"
    Then the balance "ITBD" is "13500.00" in "RUB"

  @US-0010 @failure
  Scenario: Paying rubles into another customer's dollar account is refused
    Given the customer "anna" with a token for scopes "payments:write"
    When she POSTs to "/payments" with Idempotency-Key "anna-p2p-0002" and body:
      """json
      {
        "debtor_account_id": "{anna-current}",
        "creditor_account_number": "40817840000000000004",
        "amount": {"amount": "1500.00", "currency": "RUB"}
      }
      """
    Then the response status is 422
    And the problem code is "CURRENCY_MISMATCH"

  @US-0010 @failure
  Scenario: Paying from another customer's account is refused as not found
    Given the customer "anna" with a token for scopes "payments:write"
    When she POSTs to "/payments" with Idempotency-Key "anna-p2p-0003" and body:
      """json
      {
        "debtor_account_id": "{boris-current}",
        "creditor_account_number": "40817810000000000001",
        "amount": {"amount": "1500.00", "currency": "RUB"}
      }
      """
    Then the response status is 404
    And the problem code is "RESOURCE_NOT_FOUND"
    Given the customer "boris" with a token for scopes "accounts:read"
    When he GETs "/accounts/{boris-current}/balances"
    Then the balance "ITBD" is "12000.00" in "RUB"

  @US-0010 @failure
  Scenario: A negative amount is refused
    Given the customer "anna" with a token for scopes "payments:write"
    When she POSTs to "/payments" with Idempotency-Key "anna-p2p-0004" and body:
      """json
      {
        "debtor_account_id": "{anna-current}",
        "creditor_account_number": "40817810000000000003",
        "amount": {"amount": "-100.00", "currency": "RUB"}
      }
      """
    Then the response status is 400
    And the problem code is "VALIDATION_FAILED"
    And the problem has an error at pointer "/amount/amount"

  @US-0011
  Scenario: The customer checks the status of a payment she made earlier
    Given the customer "anna" with a token for scopes "payments:read"
    When she GETs "/payments/{pay-anna-dinner}"
    Then the response status is 200
    And the response field "status" is "ACSC"
    And the response field "amount.amount" is "500.00"
    And the response field "creditor_account_number" is "40817810000000000003"

  @US-0011
  Scenario: A new payment can be read back by its id and appears in the list
    Given the customer "anna" with a token for scopes "payments:write payments:read"
    When she POSTs to "/payments" with Idempotency-Key "anna-p2p-0005" and body:
      """json
      {
        "debtor_account_id": "{anna-current}",
        "creditor_account_number": "40817810000000000003",
        "amount": {"amount": "250.00", "currency": "RUB"}
      }
      """
    Then the response status is 201
    And the response field "payment_id" is saved as "new-payment"
    When she GETs "/payments/{new-payment}"
    Then the response status is 200
    And the response field "status" is "ACSC"
    When she GETs "/payments"
    Then the response lists 2 payments

  @US-0011 @failure
  Scenario: Another customer's payment is not found
    Given the customer "boris" with a token for scopes "payments:read"
    When he GETs "/payments/{pay-anna-dinner}"
    Then the response status is 404
    And the problem code is "RESOURCE_NOT_FOUND"

  @US-0011 @failure
  Scenario: A payment id that does not exist is not found
    Given the customer "anna" with a token for scopes "payments:read"
    When she GETs "/payments/60000000-0000-4000-8000-000000000099"
    Then the response status is 404
    And the problem code is "RESOURCE_NOT_FOUND"
