@EP-0006
Feature: Card controls
  A customer locks a card the moment she misses it and unlocks it when it turns up.
  Locking is not money movement: it needs no Idempotency-Key, and repeating it is harmless.

  Background:
    Given the demo data is seeded

  @US-0013
  Scenario: The customer locks her card and unlocks it again
    Given the customer "anna" with a token for scopes "cards:read cards:write"
    When she PATCHes "/cards/{card-anna-debit}/controls" with body:
      """json
      {"locked": true}
      """
    Then the response status is 200
    And the response field "controls.locked" is true
    When she GETs "/cards/{card-anna-debit}"
    Then the response field "controls.locked" is true
    When she PATCHes "/cards/{card-anna-debit}/controls" with body:
      """json
      {"locked": false}
      """
    Then the response status is 200
    And the response field "controls.locked" is false

  @US-0013
  Scenario: Locking a card that is already locked succeeds and leaves it locked
    Given the customer "anna" with a token for scopes "cards:read cards:write"
    When she PATCHes "/cards/{card-anna-debit}/controls" with body:
      """json
      {"locked": true}
      """
    And she sends the same request again
    Then the response status is 200
    And the response field "controls.locked" is true

  @US-0013 @failure
  Scenario: A closed card cannot be locked or unlocked
    Given the customer "anna" with a token for scopes "cards:write"
    When she PATCHes "/cards/{card-anna-old}/controls" with body:
      """json
      {"locked": true}
      """
    Then the response status is 422
    And the problem code is "CARD_CLOSED"

  @US-0013 @failure
  Scenario: Another customer's card is not found and stays as it was
    Given the customer "anna" with a token for scopes "cards:write"
    When she PATCHes "/cards/{card-boris-debit}/controls" with body:
      """json
      {"locked": true}
      """
    Then the response status is 404
    And the problem code is "RESOURCE_NOT_FOUND"
    Given the customer "boris" with a token for scopes "cards:read"
    When he GETs "/cards/{card-boris-debit}"
    Then the response field "controls.locked" is false

  @US-0013 @failure
  Scenario: A lock flag that is not a boolean is refused
    Given the customer "anna" with a token for scopes "cards:write"
    When she PATCHes "/cards/{card-anna-debit}/controls" with body:
      """json
      {"locked": "yes"}
      """
    Then the response status is 400
    And the problem code is "VALIDATION_FAILED"
    And the problem has an error at pointer "/locked"

  @US-0013 @failure
  Scenario: Locking with a token that lacks cards:write is refused
    Given the customer "anna" with a token for scopes "cards:read"
    When she PATCHes "/cards/{card-anna-debit}/controls" with body:
      """json
      {"locked": true}
      """
    Then the response status is 403
    And the problem code is "INSUFFICIENT_SCOPE"

  @US-0014
  Scenario: The customer lists her cards with their status and lock state
    Given the customer "anna" with a token for scopes "cards:read"
    When she GETs "/cards"
    Then the response status is 200
    And the response lists 2 cards
    And the listed cards have "masked_pan" values "220000******0001, 220000******0002"
    And the listed cards have "status" values "active, closed"

  @US-0014 @failure
  Scenario: Reading another customer's card is refused as not found
    Given the customer "anna" with a token for scopes "cards:read"
    When she GETs "/cards/{card-boris-debit}"
    Then the response status is 404
    And the problem code is "RESOURCE_NOT_FOUND"
