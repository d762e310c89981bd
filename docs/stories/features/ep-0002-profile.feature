@EP-0002
Feature: Profile
  A customer sees what the bank holds about her as a customer.

  Background:
    Given the demo data is seeded

  @US-0004
  Scenario: The customer reads her profile
    Given the customer "anna" with a token for scopes "profile:read"
    When she GETs "/customers/me"
    Then the response status is 200
    And the response field "customer_id" is "{anna}"
    And the response field "full_name" is "Anna Smirnova"
    And the response field "email" is "anna.smirnova@example.com"
    And the response field "phone" is "+79990000001"

  @US-0004 @failure
  Scenario: Reading the profile without a token is refused
    Given the customer "anna" without a token
    When she GETs "/customers/me"
    Then the response status is 401
    And the problem code is "UNAUTHENTICATED"

  @US-0004 @failure
  Scenario: Reading the profile with a token that lacks profile:read is refused
    Given the customer "anna" with a token for scopes "accounts:read"
    When she GETs "/customers/me"
    Then the response status is 403
    And the problem code is "INSUFFICIENT_SCOPE"
