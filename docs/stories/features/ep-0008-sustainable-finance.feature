@EP-0008
Feature: Sustainable finance
  A customer sees an estimate of the carbon footprint of her card spending, by merchant category,
  with the method and its uncertainty disclosed, and can find products labelled green under Decree 1587.

  Background:
    Given the demo data is seeded

  @US-0021
  Scenario: The customer sees the estimated footprint of November's card spending by category
    Given the customer "anna" with a token for scopes "sustainability:read"
    When she GETs "/accounts/{anna-current}/carbon-footprint?period_from=2026-11-01&period_to=2026-11-30"
    Then the response status is 200
    And the footprint covers the categories "5411, 5812, 4121" with an estimate and an uncertainty range each
    And the footprint names its method and emission-factor version

  @US-0021 @failure
  Scenario: The footprint of another customer's account is not found
    Given the customer "anna" with a token for scopes "sustainability:read"
    When she GETs "/accounts/{boris-current}/carbon-footprint?period_from=2026-11-01&period_to=2026-11-30"
    Then the response status is 404
    And the problem code is "RESOURCE_NOT_FOUND"

  @US-0021 @failure
  Scenario: The footprint of an account that does not exist is a problem
    Given the customer "anna" with a token for scopes "sustainability:read"
    When she GETs "/accounts/20000000-0000-4000-8000-0000000000ff/carbon-footprint?period_from=2026-11-01&period_to=2026-11-30"
    Then the response status is 404
    And the problem code is "RESOURCE_NOT_FOUND"

  @US-0021 @failure
  Scenario: A footprint period that starts in the future is a problem
    Given the customer "anna" with a token for scopes "sustainability:read"
    When she GETs "/accounts/{anna-current}/carbon-footprint?period_from=2099-01-01&period_to=2099-01-31"
    Then the response status is 400
    And the problem code is "VALIDATION_FAILED"
    And the problem has an error at pointer "#/query/period_from"

  @US-0021 @failure
  Scenario: A malformed footprint period is a problem
    Given the customer "anna" with a token for scopes "sustainability:read"
    When she GETs "/accounts/{anna-current}/carbon-footprint?period_from=2026-11&period_to=2026-11-30"
    Then the response status is 400
    And the problem code is "VALIDATION_FAILED"
    And the problem has an error at pointer "#/query/period_from"

  @US-0021 @failure
  Scenario: The footprint cannot be read without the sustainability:read scope
    Given the customer "anna" with a token for scopes "transactions:read"
    When she GETs "/accounts/{anna-current}/carbon-footprint?period_from=2026-11-01&period_to=2026-11-30"
    Then the response status is 403
    And the problem code is "INSUFFICIENT_SCOPE"

  @US-0022
  Scenario: Green products carry their Decree 1587 taxonomy category
    Given the customer "anna" with a token for scopes "sustainability:read"
    When she GETs "/green-products"
    Then the response status is 200
    And every listed product names its Decree 1587 taxonomy category
