@EP-0009
Feature: Operations and trust
  The people who run, analyse, audit and build on the service can see that it works and can prove
  what it did. The sandbox has health, metrics and a hash-chained audit log, so those scenarios run
  against it; the alerting scenario runs the alert rules generated from the SLOs in Prometheus's rule
  engine, the database-outage scenario stops the PostgreSQL server under a sandbox of its own, and
  the KPI scenario reads the events the sandbox's outbox relay published.

  Background:
    Given the demo data is seeded

  @US-0023
  Scenario: The operations engineer sees the service healthy
    When the operations engineer reads the health endpoint
    Then the response status is 200
    And the health status is "pass"

  @US-0023
  Scenario: Each API request is counted by route and status
    Given the customer "anna" with a token for scopes "accounts:read"
    When she GETs "/accounts"
    And the operations engineer scrapes the metrics endpoint
    Then the metric "http_server_request_duration_seconds_count" has a series with labels "http_route=/accounts, http_response_status_code=200"

  @US-0023
  Scenario: A burst of payment failures raises the error-budget alert
    Given the error rate of operation "createPayment" is 5 % for 10 minutes
    Then the alert "SloBurnRatePaymentsPage1h" fires within 5 minutes

  @US-0023 @failure
  Scenario: The readiness check fails when the database is unreachable, and liveness stays up
    Given the dependency "database" is unavailable
    When the operations engineer reads the readiness endpoint
    Then the response status is 503
    And the health status is "fail"
    When the operations engineer reads the health endpoint
    Then the response status is 200
    And the health status is "pass"

  @US-0024
  Scenario: A completed payment emits a KPI event with the age band, not the birth date
    Given the customer "anna" with a token for scopes "payments:write"
    When she POSTs to "/payments" with Idempotency-Key "anna-kpi-0001" and body:
      """json
      {
        "debtor_account_id": "{anna-current}",
        "creditor_account_number": "40817810000000000003",
        "amount": {"amount": "300.00", "currency": "RUB"}
      }
      """
    Then the response status is 201
    And a KPI event "paymentCompleted" was emitted with "customer_age_band" equal to "18-24"
    And the KPI event "paymentCompleted" has no field "birth_date"

  @US-0025
  Scenario: The compliance officer finds a payment in an intact audit log by its correlation id
    Given the customer "anna" with a token for scopes "payments:write"
    When she POSTs to "/payments" with Idempotency-Key "anna-audit-0001" and body:
      """json
      {
        "debtor_account_id": "{anna-current}",
        "creditor_account_id": "{anna-savings}",
        "amount": {"amount": "700.00", "currency": "RUB"}
      }
      """
    Then the response status is 201
    And the response header "X-Correlation-ID" is saved as "payment-correlation"
    When the compliance officer verifies the audit log
    Then the audit verification result is "intact"
    And the audit log has a record of operation "createPayment" for customer "anna" with correlation id "{payment-correlation}"
    And no audit record contains her access token

  @US-0025 @failure
  Scenario: Verification detects an altered audit record
    Given the customer "anna" with a token for scopes "cards:write"
    When she PATCHes "/cards/{card-anna-debit}/controls" with body:
      """json
      {"locked": true}
      """
    Given an audit record has been altered
    When the compliance officer verifies the audit log
    Then the audit verification result is "broken"

  @US-0026
  Scenario: A correlation id sent by the client is echoed back
    Given the customer "anna" with a token for scopes "accounts:read"
    When she GETs "/accounts" with header "X-Correlation-ID" set to "3f1c1f0e-7a55-4d5b-9a53-0c8a7c1e2b10"
    Then the response status is 200
    And the response header "X-Correlation-ID" is "3f1c1f0e-7a55-4d5b-9a53-0c8a7c1e2b10"

  @US-0026
  Scenario: The server generates a correlation id when the client sends none
    Given the customer "anna" with a token for scopes "accounts:read"
    When she GETs "/accounts"
    Then the response status is 200
    And the response header "X-Correlation-ID" is a UUID

  @US-0026 @failure
  Scenario: An unauthenticated request gets a problem document that carries the correlation id
    Given the customer "anna" without a token
    When she GETs "/accounts"
    Then the response status is 401
    And the problem code is "UNAUTHENTICATED"
    And the problem's correlation_id equals the response header "X-Correlation-ID"

  @US-0026 @failure
  Scenario: A body that is not valid JSON is refused
    Given the customer "anna" with a token for scopes "payments:write"
    When she POSTs to "/payments" with Idempotency-Key "anna-dev-0001" and body:
      """json
      {"debtor_account_id": "{anna-current}", "amount":
      """
    Then the response status is 400
    And the problem code is "MALFORMED_JSON"

  @US-0026 @failure
  Scenario: A body with a field the contract does not define is refused
    Given the customer "anna" with a token for scopes "payments:write"
    When she POSTs to "/payments" with Idempotency-Key "anna-dev-0002" and body:
      """json
      {
        "debtor_account_id": "{anna-current}",
        "creditor_account_id": "{anna-savings}",
        "amount": {"amount": "100.00", "currency": "RUB"},
        "fee": {"amount": "0.00", "currency": "RUB"}
      }
      """
    Then the response status is 400
    And the problem code is "VALIDATION_FAILED"
    And the problem has an error at pointer "/fee"

  @US-0026 @failure
  Scenario: A body sent as plain text is refused
    Given the client app "budget-app" with a client-credentials token for scopes "consents"
    When it POSTs to "/consents" with content type "text/plain" and body:
      """
      permissions: accounts
      """
    Then the response status is 415
    And the problem code is "UNSUPPORTED_MEDIA_TYPE"

  @US-0026 @failure
  Scenario: A method the path does not support is refused
    Given the customer "anna" with a token for scopes "accounts:read"
    When she DELETEs "/accounts"
    Then the response status is 405
    And the problem code is "METHOD_NOT_ALLOWED"
