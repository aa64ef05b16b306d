"""The vocabulary every other part speaks: plans and versions, layer roles and fields, layer
data, findings and severities, the operator registry. Depends on nothing else in guotu."""
