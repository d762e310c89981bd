"""One router per resource group of the contract."""
